"""Request bodies are refused with 413 before they are read, unless a handler streams them.

Tornado buffers the whole body of a handler that does not `stream_request_body` before
the handler (and its XSRF check) runs, up to the server's `max_body_size`, which must stay
large for uploads. So an anonymous client could make the process hold gigabytes by posting
to a login form. `BoundedBodyDelegate` gives such handlers a small limit
(`limits.max_form_kb`): a declared `Content-Length` over it is answered at once, a chunked
body as soon as it passes the limit. Either way the buffered bytes are dropped, the rest of
the body is discarded by Tornado as it arrives (the response is already written) and the
connection is closed. Streaming handlers (uploads, tus, replace) keep the server's limit and
enforce their own.
"""

from __future__ import annotations

from tornado import httputil
from tornado.concurrent import Future
from tornado.web import _HandlerDelegate  # the one hook between headers and body

from handlers.errors import BodyTooLargeHandler

# The setting in both applications' settings (server/app.py) that holds the limit in bytes.
SETTING = "max_form_bytes"


class BoundedBodyDelegate(_HandlerDelegate):
    """Tornado's handler delegate, with a small body limit for handlers that buffer."""

    refused = False

    def _limit(self) -> int | None:
        if self.stream_request_body:
            return None
        return self.application.settings.get(SETTING)

    def headers_received(self, start_line, headers: httputil.HTTPHeaders):
        limit = self._limit()
        declared = headers.get("Content-Length", "")
        # A malformed Content-Length is Tornado's to refuse (400) before any body is read.
        if (
            limit is not None
            and declared.isascii()
            and declared.isdigit()
            and int(declared) > limit
        ):
            return self._refuse(limit)
        return super().headers_received(start_line, headers)

    def data_received(self, data: bytes):
        if self.refused:
            return None  # Tornado stops calling once the 413 is written; this is the gap before
        limit = self._limit()
        if limit is not None and len(self.chunks) + len(data) > limit:
            return self._refuse(limit)  # a chunked body without a declared length
        return super().data_received(data)

    def _refuse(self, limit: int):
        """Answer 413 from a handler that streams (and so runs before the rest of the body)."""
        self.refused = True
        self.chunks = bytearray()
        self.handler_class = BodyTooLargeHandler
        self.handler_kwargs = {"limit": limit}
        self.stream_request_body = True
        self.request._body_future = Future()
        return self.execute()


class BoundedBodies:
    """Mixin for a `tornado.web.Application`: every handler gets a `BoundedBodyDelegate`."""

    def get_handler_delegate(
        self, request, target_class, target_kwargs=None, path_args=None, path_kwargs=None
    ):
        return BoundedBodyDelegate(
            self, request, target_class, target_kwargs, path_args, path_kwargs
        )
