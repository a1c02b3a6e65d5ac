"""A backup written straight into a consumer on the event loop (an HTTP response), with no
temporary file: `LoopSink` is the unseekable binary stream zipfile writes into from a thread
(members then carry data descriptors); every 1 MB it hands a chunk to an async `send` and
waits until the chunk has gone out, so memory holds one chunk whatever the archive's size, and
a consumer that went away (its `send` raises) or a cancel stops the writing thread at once."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io

from gallery.archive.progress import CHUNK, Cancelled


class ConsumerGone(Cancelled):
    """The consumer stopped taking chunks (a client that disconnected)."""


class LoopSink(io.RawIOBase):
    def __init__(self, loop: asyncio.AbstractEventLoop, send, cancel, chunk: int = CHUNK):
        super().__init__()
        self.loop = loop
        self.send = send          # async def send(data: bytes) -> None
        self.cancel = cancel      # a threading.Event: set when the consumer is gone
        self.chunk = chunk
        self.buffer = bytearray()
        self.sent = 0
        self.failed: BaseException | None = None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.failed is not None:  # zipfile's close writes its directory after a failure
            raise ConsumerGone() from self.failed
        self.buffer += data
        if len(self.buffer) >= self.chunk:
            self._hand_over()
        return len(data)

    def flush(self) -> None:
        if self.buffer and self.failed is None:
            self._hand_over()

    def _hand_over(self) -> None:
        data, self.buffer = bytes(self.buffer), bytearray()
        future = asyncio.run_coroutine_threadsafe(self.send(data), self.loop)
        while True:
            try:
                future.result(timeout=1.0)
                break
            except concurrent.futures.TimeoutError:
                if self.cancel.is_set():  # the loop may be stopping: never wait on it forever
                    future.cancel()
                    self.failed = ConsumerGone()
                    raise self.failed from None
            except Exception as exc:  # the send failed: the consumer is gone
                self.failed = exc
                raise ConsumerGone() from exc
        self.sent += len(data)
