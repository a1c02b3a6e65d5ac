"""Errors answered in one place: every exception a handler raises becomes its status with a
message in the asker's language, as JSON for the API (`code` for clients to switch on) and
as an error page otherwise; unexpected ones are logged with an event id the page shows."""

from __future__ import annotations

import json
import logging
import secrets
import sys
import traceback

import tornado.web
from pymongo.errors import ConnectionFailure

from gallery import i18n
from gallery.errors import GalleryError
from tenants.registry import TenantNotFound

log = logging.getLogger("atrium.web")

#: Retry-After of a 503 while the database is unreachable: about one restart of the
#: embedded database (server/embedded_db.py).
DB_RETRY_AFTER_SECONDS = 5
N_ = i18n.N_
STATUS_TITLES = {  # English; error pages show them in the visitor's language
    400: N_("Bad request"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    410: N_("Gone"),
    413: N_("Too large"),
    415: N_("Unsupported file type"),
    416: N_("Range not satisfiable"),
    429: N_("Too many requests"),
    500: N_("Internal error"),
    503: N_("Unavailable"),
}


def _code_for(status: int) -> str:
    return STATUS_TITLES.get(status, "error").lower().replace(" ", "_")


class ErrorAnswers:
    """Mixed into BaseHandler (which gives `translate`, `is_api`, `allowed_methods`)."""

    def _handle_request_exception(self, e: BaseException) -> None:
        # Domain errors carry their own status; everything else goes the usual way.
        if isinstance(e, GalleryError) and not self._finished:
            self._gallery_error = e
            self.send_error(e.status, exc_info=sys.exc_info())
            return
        if isinstance(e, TenantNotFound) and not self._finished:
            self.send_error(404, exc_info=sys.exc_info())
            return
        if isinstance(e, ConnectionFailure) and not self._finished:
            # The database is down or restarting (server/embedded_db.py supervises the
            # embedded one): the client may retry, so 503, one log line and no event record.
            log.warning("%s %s: database unreachable (%s)", self.request.method, self.request.uri, type(e).__name__)
            self.send_error(503, exc_info=sys.exc_info())
            return
        super()._handle_request_exception(e)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, tornado.web.HTTPError):
            return super().log_exception(typ, value, tb)
        if isinstance(value, (GalleryError, TenantNotFound)):
            return None  # expected outcomes, answered with their own status
        self._event_id = secrets.token_hex(4)
        log.error(
            "event %s: %s %s failed\n%s",
            self._event_id, self.request.method, self.request.uri,
            "".join(traceback.format_exception(typ, value, tb)),
        )
        self.record_error(value)

    def record_error(self, exc: BaseException) -> None:
        """Hook for the tenant event log (TenantHandler writes one)."""

    def error_message(self, status: int, exc: BaseException | None) -> tuple[str, str, dict]:
        if isinstance(exc, GalleryError):
            return exc.code, exc.message, exc.field_errors
        if isinstance(exc, tornado.web.HTTPError) and exc.log_message and status != 500:
            if exc.args:  # Tornado's own messages ("Missing argument %s"): as formatted
                return _code_for(status), exc.log_message % exc.args, {}
            return _code_for(status), exc.log_message, {}
        if isinstance(exc, TenantNotFound):
            return "not_found", N_("There is no gallery at this address."), {}
        if isinstance(exc, ConnectionFailure):
            return "unavailable", N_("The gallery's database is not reachable right now; try again in a few seconds."), {}
        if status >= 500:
            event = getattr(self, "_event_id", None)
            if event:
                return "internal_error", i18n.Message("Something went wrong on our side (event %(event)s).", event=event), {}
            return "internal_error", N_("Something went wrong on our side."), {}
        return _code_for(status), STATUS_TITLES.get(status, self._reason), {}

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        code, message, fields = self.error_message(status_code, exc)
        # In the asker's language, pages and API alike (the member's choice, else
        # Accept-Language, else English); `code` stays as it is for clients to switch on.
        message = self.translate(message)
        fields = {name: self.translate(text) for name, text in fields.items()} if isinstance(fields, dict) else fields
        if isinstance(exc, ConnectionFailure):
            self.set_header("Retry-After", str(DB_RETRY_AFTER_SECONDS))
        if getattr(exc, "retry_after", None):  # tenants.upgrade: a gallery being upgraded
            self.set_header("Retry-After", str(exc.retry_after))
            if getattr(exc, "progress", None) is None:  # the upgrading page polls instead
                self.set_header("Refresh", str(exc.retry_after))  # its page reloads by itself
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        if self.is_api or "application/json" in self.request.headers.get("Accept", "") and "text/html" not in self.request.headers.get("Accept", ""):
            error = {"code": code, "message": message}
            if fields:
                error["fields"] = fields
            if getattr(exc, "progress", None) is not None:  # a gallery being upgraded: counts only
                error["progress"] = exc.progress
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps({"error": error}))
            return
        self.render_error_page(status_code, message)

    def render_error_page(self, status_code: int, message: str) -> None:
        self.render(
            "errors/error.html",
            status=status_code,
            title=self._(STATUS_TITLES.get(status_code, N_("Error"))),
            # Messages marked with N_ where they are raised are in the catalogue.
            message=self._(message),
        )
