"""Answering before a request body is over without losing the answer.

A handler that streams a body can refuse it part-way (too large, over the quota, a disk
error) or before its first byte (no permission, no such album). Tornado then closes the
connection at once; closing a socket with unread data makes the kernel reset it, and a
client still sending loses the answer it was sent: it sees "connection reset" instead of
"the file is larger than this gallery's limit". So the answer goes out at once with
`Connection: close` and its length, the rest of the body is read and dropped, and the
request ends when the body is over or after LINGER_SECONDS (nginx's lingering close).
"""

from __future__ import annotations

import tornado.ioloop
import tornado.web


class LingeringClose(tornado.web.RequestHandler):
    """For `@stream_request_body` handlers whose `data_received` drops what arrives once
    the answer is out (the handler's own check: refused, or nothing open to write to)."""

    LINGER_SECONDS = 10.0
    _linger = None

    def finish(self, chunk=None):
        if self._linger is not None and not self._finished:
            return None  # answered already (send_error finishes after write_error did)
        if self._finished or not self._client_is_sending():
            return super().finish(chunk)
        if chunk is not None:
            self.write(chunk)
        # Uncompressed and with its length, so the client can read the whole answer while
        # the body is still coming (a compressed flush would be chunked, ended only at finish).
        self._transforms = []
        self.set_header("Content-Length", sum(len(part) for part in self._write_buffer))
        self.set_header("Connection", "close")
        loop = tornado.ioloop.IOLoop.current()
        self._linger = loop.call_later(self.LINGER_SECONDS, self._end_linger)
        # The body's end: Tornado calls the request's method when prepare() returned, and
        # nothing when it raised, so both are pointed at the end of the linger (an instance
        # attribute shadows the handler's own post/put, which must not run on a refused body).
        setattr(self, self.request.method.lower(), self._end_linger)
        self.request._body_future.add_done_callback(lambda _: loop.add_callback(self._end_linger))
        return self.flush()

    def _client_is_sending(self) -> bool:
        if self.request._body_future.done():
            return False  # the whole body is in: close as usual
        if self.request.headers.get("Expect", "").lower() == "100-continue" and not self._prepared_future.done():
            # Refused before "100 Continue" went out: the client waits for our word and
            # sends nothing (and finishing now keeps Tornado from sending it after the answer).
            return False
        declared = self.request.headers.get("Content-Length")
        chunked = "chunked" in self.request.headers.get("Transfer-Encoding", "").lower()
        return chunked or (declared is not None and declared.strip() not in ("", "0"))

    def _end_linger(self, *_args) -> None:
        if self._linger is not None:
            tornado.ioloop.IOLoop.current().remove_timeout(self._linger)
        if not self._finished and not self._gone:
            super().finish()

    _gone = False

    def on_connection_close(self) -> None:
        # The client left first (it read the answer, or gave up): nothing is left to end.
        self._gone = True
        if self._linger is not None:
            tornado.ioloop.IOLoop.current().remove_timeout(self._linger)
        super().on_connection_close()
