"""JSON reads of the API answered from the tenant's page cache (handlers/pages.py explains it).

An album listing cost 12–19 ms of CPU per request against 0.35 ms for the album page,
which is cached: a listing is a dozen queries (an offset deep into a 10,000-item album,
its count), 60 media documents turned into JSON, and `json.dumps` over them. The same
answer is now kept, serialized, in the page cache (`ctx.page_entry`) under the request's
path and query, the routing prefix and the viewer's visibility class, and used while
nothing was written to the tenant's database since it was built (or for the cache's
age bound, which covers other processes' writes). Two viewers of one visibility class
get the same answer (their permissions are the same), so the cached body is exactly what
the viewer would have been given; nothing per user (no session, no token) is in it.

A miss is built by one request; concurrent requests of the same class wait for it
(or take the aged body while it is rebuilt), as album pages do.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from handlers.base import _json_default
from handlers.pages import _BUILDING, visibility_class

#: Query strings longer than this are not cached (a hostile client could otherwise fill
#: the bounded page cache with huge keys); they are answered uncached.
MAX_QUERY_KEY = 2048


async def cached_json(handler, build: Callable[[], Awaitable[dict]]) -> None:
    """Finish `handler` with the JSON of `build()`, from the page cache when it may be."""
    ctx = handler.tenant
    query = handler.request.query
    if len(query) > MAX_QUERY_KEY:
        _finish(handler, _dumps(await build()))
        return
    viewer = await handler.viewer()
    key = ("api", handler.request.path, query, visibility_class(viewer), handler.urls.prefix)
    generation = ctx.generation
    body, fresh = ctx.page_entry(key)
    if body is not None and fresh:
        _finish(handler, body)
        return
    flight_key = (ctx.db.name, key, generation)
    flight = _BUILDING.get(flight_key)
    if flight is not None:
        if body is None:
            body = await asyncio.shield(flight)
        if body is not None:
            _finish(handler, body)
            return
        flight = None  # the build it waited for failed: build its own answer
    else:
        flight = _BUILDING[flight_key] = asyncio.get_running_loop().create_future()
    body = None
    try:
        body = _dumps(await build())
        ctx.remember_page(key, body, generation)
    finally:
        if flight is not None:
            if _BUILDING.get(flight_key) is flight:
                del _BUILDING[flight_key]
            if not flight.done():
                flight.set_result(body)  # None after an error: the waiters build their own
    _finish(handler, body)


def _dumps(data: dict) -> bytes:
    return json.dumps(data, default=_json_default, ensure_ascii=False).encode()


def _finish(handler, body: bytes) -> None:
    handler.set_header("Content-Type", "application/json; charset=UTF-8")
    handler.finish(body)
