"""Handlers for requests that match nothing: host 404s, bad Host headers, unknown tenant paths."""

from __future__ import annotations

import tornado.web

from handlers.base import BaseHandler, TenantHandler


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
