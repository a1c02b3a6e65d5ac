"""Base handlers: tenant resolution, the signed-in user, errors rendered in one place.

`TenantHandler.prepare()` finds the tenant the router picked (by hostname or by
`/g/<slug>/`), takes its `TenantContext` from the registry, and loads the user from a
session cookie signed with that tenant's own key: a cookie of tenant A is never valid
on tenant B, whatever the routing mode.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import tornado.web
from tornado.httputil import parse_cookie
from tornado.web import create_signed_value, decode_signed_value

from gallery import i18n
from gallery import settings as gallery_settings
from gallery.errors import GalleryError, NotAuthenticated
from gallery.library.shares import active_grants
from gallery.people.sessions import user_for_session
from gallery.urls import TenantUrls
from gallery.urls import mail_urls as trusted_mail_urls
from handlers.error_answers import STATUS_TITLES, ErrorAnswers
from tenants.context import TenantContext
from tenants.upgrade import Upgrading
from tenants.upgrade import ensure_current as ensure_schema_current

log = logging.getLogger("atrium.web")

SESSION_COOKIE = "atrium_session"
SHARE_COOKIE = "atrium_shares"
MAX_SHARES = 20  # share links one browser keeps open at once (the oldest go first)
N_ = i18n.N_
XSRF_COOKIE = "_xsrf"  # Tornado's default name, which static/js reads
#: Template arguments that carry a message for the visitor (translated in BaseHandler.render).
_SHOWN = ("message", "heading", "error", "errors", "notice", "problem", "not_empty")

class BaseHandler(ErrorAnswers, tornado.web.RequestHandler):
    """What every handler has: services, JSON helpers and error pages."""

    tenant: TenantContext | None = None
    current_admin: dict | None = None

    @property
    def services(self):
        """server.services.Services (server/ wires the application above this layer)."""
        return self.application.settings["services"]

    @property
    def config(self):
        return self.services.config

    @property
    def is_api(self) -> bool:
        return self.request.path.startswith("/api/")

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("X-Frame-Options", "SAMEORIGIN")
        # Pages are in the language Accept-Language asks for (handlers.base.get_browser_locale).
        self.set_header("Vary", "Accept-Language")

    # -- the XSRF cookie ------------------------------------------------------------------
    def xsrf_cookie_path(self) -> str:
        """Where this handler's XSRF cookie applies (galleries and the console narrow it)."""
        return "/"

    def set_cookie(self, name: str, value, **kwargs) -> None:
        if name == XSRF_COOKIE:
            # Tornado sets its XSRF cookie for the whole host: in prefix mode every gallery
            # would share one. It is scoped like the session cookie, and Secure under TLS.
            kwargs["path"] = self.xsrf_cookie_path()
            kwargs["secure"] = self.request.protocol == "https"
        super().set_cookie(name, value, **kwargs)

    def get_cookie(self, name: str, default: str | None = None) -> str | None:
        if name == XSRF_COOKIE:
            # A browser sends every cookie whose path matches, the most specific first (the
            # one the page's script reads too); Tornado's parser would keep the last.
            for part in self.request.headers.get("Cookie", "").split(";"):
                found = parse_cookie(part).get(name)
                if found is not None:
                    return found
            return default
        return super().get_cookie(name, default)

    def client_ip(self) -> str:
        return self.request.remote_ip or ""

    # -- language ---------------------------------------------------------------------
    def get_user_locale(self):
        # The member's own choice (account page); None lets Tornado read Accept-Language.
        code = i18n.member_language(getattr(self, "user", None))
        return i18n.get(code) if code else None

    def get_browser_locale(self, default: str = i18n.DEFAULT):
        # Tornado parses the header (a bad q-value counts as 0, an unknown tag is skipped)
        # and picks the closest loaded catalogue: anything else is English, never an error.
        i18n.load()
        return super().get_browser_locale(default)

    def _(self, message: str, plural: str | None = None, count: int | None = None) -> str:
        """`message` in this request's language (the templates' `_`)."""
        return self.locale.translate(message, plural, count)

    def translate(self, text):
        """An English message raised or written in the code, in this request's language: a
        plain string is looked up in the catalogue (server/i18n_extract.py
        extract_shown_messages collects them), an `i18n.Message` is translated with its
        values; text the catalogue does not have (data, a message formatted at run time)
        and anything that is not text pass unchanged."""
        if isinstance(text, i18n.Message):
            return text.translated(self.locale.translate)
        if isinstance(text, str) and text:
            return self.locale.translate(text)
        return text

    def render(self, template_name: str, **kwargs):
        # Errors and notices reach pages as the English strings they were raised or written
        # with; they are looked up here. Other text passes unchanged.
        for name in _SHOWN:
            value = kwargs.get(name)
            if isinstance(value, str):
                kwargs[name] = self.translate(value)
            elif isinstance(value, dict):
                kwargs[name] = {k: self.translate(v) for k, v in value.items()}
        return super().render(template_name, **kwargs)

    def finish(self, chunk=None):
        try:
            return super().finish(chunk)
        finally:
            # Tornado keeps each `{% module %}` it rendered (which points back at the
            # handler) for the handler's whole life; dropping them with the response lets
            # reference counting free the request at once (server/templating.py: why).
            self.__dict__.pop("_active_modules", None)

    def json_body(self) -> dict:
        """The request's JSON object, checked once for every JSON write: valid, an object,
        nested at most MAX_JSON_DEPTH deep, and text the database can store."""
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise GalleryError("The request body is not valid JSON.") from None
        except RecursionError:  # `[` x 100,000: deeper than the parser goes
            raise GalleryError(_TOO_DEEP) from None
        if not isinstance(body, dict):
            raise GalleryError("The request body must be a JSON object.")
        _check_json(body)
        return body

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(data, default=_json_default, ensure_ascii=False))

    def check_xsrf_cookie(self) -> None:
        # A method the handler does not implement is a 405 whatever the token (Tornado would
        # check the token first and answer 403).
        if self.request.method not in self.allowed_methods():
            raise tornado.web.HTTPError(405)
        super().check_xsrf_cookie()

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The methods this handler implements (the Allow header of a 405): TRACE, CONNECT
        and any other method it does not define are refused with 405."""
        unimplemented = tornado.web.RequestHandler._unimplemented_method
        return [
            m for m in cls.SUPPORTED_METHODS
            if getattr(cls, m.lower(), unimplemented) is not unimplemented
        ]

    # -- template namespace -----------------------------------------------------------
    def get_template_namespace(self) -> dict:
        ns = super().get_template_namespace()
        ns.update(
            tenant=self.tenant,
            urls=getattr(self, "urls", None),
            unavailable=getattr(self, "unavailable", False),
            user=getattr(self, "user", None),
            admin=self.current_admin,
            gallery_title=getattr(self, "gallery_title", None),
            read_only_notice=getattr(self, "read_only_notice", None),
            json_attr=lambda value: json.dumps(value, default=_json_default),
            lang=self.locale.code,
            formats=i18n.formats(self.locale.code),
            languages=i18n.LANGUAGES,
        )
        return ns


MAX_JSON_DEPTH = 32
_TOO_DEEP = f"The request body is nested more than {MAX_JSON_DEPTH} levels deep."


def _check_json(body: dict) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH (later code recurses over values) and lone
    surrogates (`"\\ud800"` is valid JSON but not UTF-8, and the database would fail on it)."""
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise GalleryError(_TOO_DEEP)
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise GalleryError(
                    "The request body contains text that is not valid Unicode (a lone surrogate)."
                ) from None


def _json_default(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class TenantHandler(BaseHandler):
    """A handler inside one gallery."""

    user: dict | None = None
    session: dict | None = None
    share_grants: tuple = ()  # gallery.people.permissions.ShareGrant of opened share links
    # Pages that work before the gallery is installed (the installer) set this.
    allow_uninstalled = False
    #: Set while the gallery is served read-only after a failed upgrade (tenants/upgrade.py).
    read_only_notice: str | None = None

    def writes_data(self) -> bool:
        """Whether this request changes the gallery (refused while it is read-only); a GET
        that writes (a mailed link) or a POST that writes only the visitor's own session
        (sign-in) overrides it."""
        return self.request.method not in ("GET", "HEAD", "OPTIONS")

    async def prepare(self) -> None:
        target = self.request.atrium_target
        registry = self.services.registry
        if target.slug:
            ctx = await registry.context_for_slug(target.slug)
        else:
            ctx = await registry.context_for_hostname(target.hostname)
        self.tenant = ctx
        origin = f"{self.request.protocol}://{self.request.host}"
        self.urls = TenantUrls(prefix=target.prefix, origin=origin)
        # An unavailable gallery's page links nowhere inside it: every such link is this 503.
        if ctx.status == "suspended" or ctx.status in ("deleting", "provisioning"):
            self.unavailable = True
            raise tornado.web.HTTPError(503, N_("This gallery is not available right now."))
        if not ctx.active and not self.allow_uninstalled:
            self.unavailable = True
            raise tornado.web.HTTPError(503, N_("This gallery has not been set up yet."))
        try:  # migrated on first touch, or 503, or read-only (tenants/upgrade.py)
            self.read_only_notice = await ensure_schema_current(ctx, writing=self.writes_data())
        except Upgrading:
            # Its page names the gallery (the settings document is only read) and links
            # nowhere inside it.
            self.unavailable = True
            self.gallery_title = (await gallery_settings.get_settings(ctx)).get("gallery_title") or ctx.title
            raise
        self.settings_values = await gallery_settings.get_settings(ctx) if ctx.active else gallery_settings.defaults()
        self.gallery_title = self.settings_values.get("gallery_title") or ctx.title
        token = self.get_session_token()
        if token:
            found = await user_for_session(ctx, token)
            if found:
                self.session, self.user = found
        # Share links this browser opened (handlers/shares.py) add what they name.
        share_ids = self.get_share_ids()
        self.share_grants = await active_grants(ctx, share_ids) if share_ids else ()

    @property
    def mail_urls(self) -> TenantUrls:
        """URLs for e-mailed links: a trusted origin, never the client's Host header
        (gallery.urls.mail_urls says which)."""
        target = self.request.atrium_target
        return trusted_mail_urls(
            self.tenant.record, self.config.server, prefix=target.prefix,
            hostname=target.hostname or (None if target.prefix else self.request.host_name),
            scheme=self.request.protocol,
        )

    # -- cookies signed with the tenant's own key -------------------------------------
    @property
    def cookie_path(self) -> str:
        return (self.urls.prefix + "/") if self.urls.prefix else "/"

    def set_session_cookie(self, token: str) -> None:
        value = create_signed_value(self.tenant.cookie_key, SESSION_COOKIE, token)
        self.set_cookie(
            SESSION_COOKIE, value, path=self.cookie_path, httponly=True,
            samesite="Lax", secure=self.request.protocol == "https", expires_days=30,
        )

    def clear_session_cookie(self) -> None:
        self.clear_cookie(SESSION_COOKIE, path=self.cookie_path)

    def xsrf_cookie_path(self) -> str:
        # From the router's target: an error page may render before prepare() made self.urls.
        target = getattr(self.request, "atrium_target", None)
        return (target.prefix + "/") if target is not None and target.prefix else "/"

    def get_share_ids(self) -> list[str]:
        """Ids of the share links this browser opened (a cookie signed with the tenant's key,
        so it can be neither forged nor carried to another gallery)."""
        raw = self.get_cookie(SHARE_COOKIE)
        if not raw or not self.tenant.active:
            return []
        value = decode_signed_value(self.tenant.cookie_key, SHARE_COOKIE, raw, max_age_days=31)
        return value.decode().split(".")[:MAX_SHARES] if value else []

    def set_share_ids(self, ids: list[str]) -> None:
        value = create_signed_value(self.tenant.cookie_key, SHARE_COOKIE, ".".join(ids[:MAX_SHARES]))
        self.set_cookie(
            SHARE_COOKIE, value, path=self.cookie_path, httponly=True,
            samesite="Lax", secure=self.request.protocol == "https", expires_days=30,
        )

    def get_session_token(self) -> str | None:
        raw = self.get_cookie(SESSION_COOKIE)
        if not raw:
            return None
        value = decode_signed_value(self.tenant.cookie_key, SESSION_COOKIE, raw, max_age_days=31)
        return value.decode() if value else None

    def require_user(self) -> dict:
        if self.user is None:
            if self.is_api:
                raise NotAuthenticated("Please sign in.")
            self.redirect(self.urls("/login", next=self.request.path if self.request.method == "GET" else None))
            raise tornado.web.Finish()
        return self.user

    def get_template_namespace(self) -> dict:
        ns = super().get_template_namespace()
        ns["settings_values"] = getattr(self, "settings_values", {})
        ns["is_admin"] = bool(getattr(self, "is_gallery_admin", False))
        return ns

    def render_error_page(self, status_code: int, message: str) -> None:
        if self.tenant is None:
            # The tenant itself is unknown or broken: a plain host-level page.
            self.urls = None
            self.render("errors/host_error.html", status=status_code,
                        title=self._(STATUS_TITLES.get(status_code, N_("Error"))), message=self._(message))
            return
        upgrading = getattr(self, "_gallery_error", None)
        if isinstance(upgrading, Upgrading) and upgrading.progress is not None:
            left = upgrading.progress.get("seconds_left")
            self.render("errors/upgrading.html", message=message, progress=upgrading.progress,
                        retry_after=upgrading.retry_after,
                        estimate=self.time_left_words(left) if left is not None else "")
            return
        super().render_error_page(status_code, message)

    def time_left_words(self, seconds: float) -> str:
        """"About 3 minutes left" in this request's language (static/js/upgrading.js says
        the same as it follows the upgrade; tenants.upgrade.duration_words is the log's)."""
        number = i18n.formats(self.locale.code).number
        if seconds < 90:
            return self._("About %(value)s seconds left") % {"value": number(max(1, round(seconds)))}
        if seconds < 90 * 60:
            return self._("About %(value)s minutes left") % {"value": number(round(seconds / 60))}
        return self._("About %(value)s hours left") % {"value": number(round(seconds / 3600, 1))}

    def record_error(self, exc: BaseException) -> None:
        if self.tenant is None:
            return
        from gallery.notices.events import record_event_soon

        record_event_soon(
            self.tenant, "error", f"{type(exc).__name__}: {exc}"[:1000],
            user=self.user, ip=self.client_ip(), url=self.request.path,
            event_id=getattr(self, "_event_id", None),
        )


class HostHandler(BaseHandler):
    """A page of the host console (`/_host/`), for the hosting provider's admins."""

    HOST_COOKIE = "atrium_host"

    def xsrf_cookie_path(self) -> str:
        return "/_host/"  # never sent to the galleries under /g/<slug>/

    async def prepare(self) -> None:
        token = self.get_signed_cookie(self.HOST_COOKIE, max_age_days=1)
        if token:
            from tenants.host_admins import admin_for_session

            self.current_admin = await admin_for_session(self.services.host_db, token.decode())

    def require_admin(self) -> dict:
        if self.current_admin is None:
            self.redirect("/_host/login")
            raise tornado.web.Finish()
        return self.current_admin

    def render_error_page(self, status_code: int, message: str) -> None:
        self.render("errors/host_error.html", status=status_code,
                    title=self._(STATUS_TITLES.get(status_code, N_("Error"))), message=self._(message))
