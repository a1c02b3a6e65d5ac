"""The embedded database's replies (applied in the child by server.embedded_sql.apply).

nx-27017 cuts a reply's first batch to the 16 MB a BSON document may hold by encoding each
document alone and adding up the sizes, and then encodes the reply again (0.3-0.4 ms of a
timeline find of 61 media). Here the batch is encoded once, whole, to see that it fits.

Tried and left: nx-27017's threaded server (a thread per connection instead of its asyncio
server handing each command to a worker thread) cost less CPU a command alone, but on the
loaded 2 cores the bench's uncached timeline pages came out slower with it (p50 at one
connection 12 -> 20-25 ms, at 20 connections 182 -> 217-230 ms, in alternate runs).
"""

from __future__ import annotations


def apply() -> None:
    _fit_in_one_encoding()


def _fit_in_one_encoding() -> None:
    """The batch's size encoded whole is at least the sum of its documents', so when it fits
    every document is in the head, as the library would have it; only a batch that does
    not fit (or does not encode) is cut the library's way."""
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
