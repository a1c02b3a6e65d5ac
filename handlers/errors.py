"""Handlers for requests that match nothing: host 404s, bad Host headers, unknown tenant paths."""

from __future__ import annotations

import tornado.ioloop
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


@tornado.web.stream_request_body
class BodyTooLargeHandler(HostNotFoundHandler):
    """413 for a body over `limits.max_form_kb` sent to a handler that would buffer it
    (server/body_limits.py swaps this in before the body is read). It looks nothing up, so
    refusing costs no database work.

    The answer goes out at once, but the connection is closed only once the client has sent
    its body (discarded as it arrives) or after `LINGER_SECONDS`: closing a socket with
    unread data resets it, and a client still sending would lose the 413 it was sent
    (nginx's lingering close does the same)."""

    LINGER_SECONDS = 10.0
    _linger = None

    def initialize(self, limit: int) -> None:
        self.limit = limit

    def prepare(self) -> None:
        # Uncompressed and with its length, so the client can read the whole answer while
        # the body is still coming (a compressed flush would be chunked, ended only at finish).
        self._transforms = []
        refusal = tornado.web.HTTPError(413, "The request body is larger than %d KB.", self.limit // 1024)
        self.set_status(413)
        self.write_error(413, exc_info=(type(refusal), refusal, None))

    def finish(self, chunk=None):
        if self._linger is not None or self._finished:
            return super().finish(chunk)
        if self.request.headers.get("Expect", "").lower() == "100-continue":
            # The client waits for our word before sending the body: nothing to linger for
            # (and finishing now keeps Tornado from sending "100 Continue" after the 413).
            return super().finish(chunk)
        # The error page: sent now, the request finished when the body is over.
        if chunk is not None:
            self.write(chunk)
        self.set_header("Content-Length", sum(len(part) for part in self._write_buffer))
        self.set_header("Connection", "close")
        self._linger = tornado.ioloop.IOLoop.current().call_later(self.LINGER_SECONDS, self._end)
        return self.flush()

    def _end(self) -> None:
        if not self._finished:
            super().finish()

    def on_connection_close(self) -> None:
        if self._linger is not None:
            tornado.ioloop.IOLoop.current().remove_timeout(self._linger)

    def data_received(self, chunk: bytes) -> None:
        pass  # discarded: nothing of a refused body is kept

    def _body_over(self, *args) -> None:
        tornado.ioloop.IOLoop.current().remove_timeout(self._linger)
        self._end()

    get = head = post = put = patch = delete = options = _body_over

    def render_error_page(self, status_code: int, message: str) -> None:
        self.render("errors/host_error.html", status=status_code, title="Too large", message=message)
