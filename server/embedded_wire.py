"""How the embedded database's child answers its clients: a thread per connection that reads
a command, runs it and writes the reply (nx-27017's threaded server), instead of its
asyncio server, which handed every command to a worker thread and the reply back to the
event loop (an executor submit, a future, a wake-up of the loop through its self-pipe and
the GIL passed twice). Measured on a timeline page's find of 61 media on a copy of the
100,000-item bench gallery: ~3.2 -> ~2.5 ms of the database's CPU a command, on the
loaded 2 cores.

Nothing else changes: both servers run the same handler, whose per-database lock already
lets one command at a time into a database; a connection's commands are answered in order
as before. Applied in the child by server.embedded_sql.apply.
"""

from __future__ import annotations

import errno
import socket


def apply() -> None:
    from nx_27017 import daemon, server

    original_run = server.run_server_threaded
    original_client = server.handle_client_threaded

    def run_threaded(host, port, handler, use_threading=True):
        try:
            return original_run(host, port, handler, use_threading=True)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            # In the asyncio server's words, which server.embedded_db looks for in the log
            # to try another port (another process bound this one first).
            raise OSError(exc.errno, f"error while attempting to bind on address {(host, int(port))!r}: "
                                     "address already in use") from exc

    def handle_client(client_socket: socket.socket, handler) -> None:
        # The asyncio server's transports set TCP_NODELAY; a plain socket does not, and
        # the last part of a reply larger than a segment would wait for the client's
        # delayed ACK (tens of ms) under Nagle's algorithm.
        try:
            client_socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # not a TCP socket: nothing to turn off
        return original_client(client_socket, handler)

    daemon.run_server_threaded = run_threaded
    server.run_server_threaded = run_threaded
    server.handle_client_threaded = handle_client
    _fit_in_one_encoding()


def _fit_in_one_encoding() -> None:
    """nx-27017 cuts a reply's first batch to the 16 MB a BSON document may hold by encoding
    each document alone and adding up the sizes (0.3-0.4 ms of a find of 61 media, the
    reply then encoded again). The batch is encoded once, whole: its size is at least the
    sum of its documents', so when it fits every document is in the head, as the library
    would have it; only a batch that does not fit (or does not encode) is cut the
    library's way."""
    from bson import encode
    from nx_27017.handler import MAX_BSON_DOCUMENT_SIZE, NeoSQLiteHandler

    original = NeoSQLiteHandler._fit_bson_budget

    def fit_bson_budget(docs, limit=MAX_BSON_DOCUMENT_SIZE):
        try:
            fits = len(encode({"batch": docs})) <= limit
        except Exception:  # noqa: BLE001 - neosqlite's own types: the library's way sizes them
            fits = False
        if fits:
            return list(docs), []
        return original(docs, limit)

    NeoSQLiteHandler._fit_bson_budget = staticmethod(fit_bson_budget)
