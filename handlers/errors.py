"""Handlers for requests that match nothing: host 404s, bad Host headers, unknown tenant paths."""

from __future__ import annotations

import tornado.web

from handlers.base import BaseHandler, TenantHandler
from handlers.linger import LingeringClose


class HostNotFoundHandler(BaseHandler):
    """No page or no gallery at this address (host level: never another tenant's data)."""

    def prepare(self) -> None:
        raise tornado.web.HTTPError(404, "There is no gallery or page at this address.")

    def check_xsrf_cookie(self) -> None:
        pass  # nothing here accepts writes; answer 404, not 403

    def render_error_page(self, status_code: int, message: str) -> None:
        self.render("errors/host_error.html", status=status_code, title="Not found", message=message)


class BadHostHandler(HostNotFoundHandler):
    def prepare(self) -> None:
        raise tornado.web.HTTPError(400, "The request's Host header is missing or malformed.")


class TenantNotFoundHandler(TenantHandler):
    """A path inside a gallery that matches no page: the gallery's own 404 (after resolving it)."""

    allow_uninstalled = True

    def check_xsrf_cookie(self) -> None:
        pass

    async def prepare(self) -> None:
        await super().prepare()
        raise tornado.web.HTTPError(404, "There is nothing at this address.")


@tornado.web.stream_request_body
class BodyTooLargeHandler(LingeringClose, HostNotFoundHandler):
    """413 for a body over `limits.max_form_kb` sent to a handler that would buffer it
    (server/body_limits.py swaps this in before the body is read). It looks nothing up, so
    refusing costs no database work. The answer goes out at once; the connection closes
    once the client has sent its body, discarded as it arrives (handlers/linger.py: why)."""

    def initialize(self, limit: int) -> None:
        self.limit = limit

    def prepare(self) -> None:
        refusal = tornado.web.HTTPError(413, "The request body is larger than %d KB.", self.limit // 1024)
        self.set_status(413)
        self.write_error(413, exc_info=(type(refusal), refusal, None))

    def data_received(self, chunk: bytes) -> None:
        pass  # discarded: nothing of a refused body is kept

    def render_error_page(self, status_code: int, message: str) -> None:
        self.render("errors/host_error.html", status=status_code, title="Too large", message=message)
