"""Everything a viewer may see, by date taken, newest first: the timeline.

Pages are cut by cursor on (taken_key, _id), `taken_key` being the text of the UTC instant
(media.dates.taken_key; "" for the undated, which so come last), read as plain ranges one
after another. A range of that text is an index range on MongoDB and on the embedded
database alike (a range of `date_taken` itself is evaluated row by row there: 1.5-3 s a
page on 100,000 items). A viewer who may see a few albums only reads each album's own
range (index (album_id, taken_key)) and the pages are merged, rather than walking
everyone's items past the ones they may not see. The scrubber's months are found by
stepping down the key from month to month and counting each (see MONTHS_SECONDS).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import Counter
from datetime import date

from gallery.errors import Invalid
from gallery.library.listing import decode_cursor, encode_cursor
from gallery.people.permissions import Viewer, visible_media_query
from media.dates import taken_key

MAX_LIMIT = 200
FIELD = "taken_key"
ORDER = [(FIELD, -1), ("_id", -1)]
# A viewer whose albums are this many or fewer reads them one by one (see the docstring).
PER_ALBUM_MAX = 12
# Months counted for the scrubber at most (two reads each): 200 years of photos.
MONTHS_MAX = 2400
# What a page reads of each item. Every document read moves through the database (JSON
# decoded, converted, BSON), the wire and the service (BSON decoded): a page of 60 reads
# only what it shows. A tile (handlers.page_format.tile_html) and its month heading:
TILE_FIELDS = {f: 1 for f in (
    "_id", FIELD, "kind", "title", "file_name", "extension", "caption", "state", "width",
    "height", "duration", "derivatives.thumbnail", "derivatives.optimized")}
# The API's items (handlers.api_base.media_json): everything but the search fields.
API_FIELDS = {"search_keys": 0, "tag_keys": 0}


def _merge(visible: dict, extra: dict) -> dict:
    return {"$and": [visible, extra]} if set(visible) & set(extra) else {**visible, **extra}


def month_of(value) -> str | None:
    """"YYYY-MM" of a stored `taken_key` or date (UTC), None for none."""
    if isinstance(value, str):
        return value[1:8] if value.startswith("t") else None
    return month_of(taken_key(value)) if value is not None else None


def parse_month(text) -> date | None:
    """The first day of a "YYYY-MM" month; Invalid for anything else."""
    if text in (None, ""):
        return None
    try:
        if not isinstance(text, str) or len(text) != 7:
            raise ValueError
        year, month = int(text[:4]), int(text[5:])
        if text[4] != "-" or not (1 <= month <= 12) or year < 1:
            raise ValueError
        return date(year, month, 1)
    except ValueError:
        raise Invalid("A month is written YYYY-MM.", field_errors={"month": "YYYY-MM"}) from None


def _month_key(day: date) -> str:
    """The key text below which everything is taken before `day`'s month ends: "t2021-07"
    for June 2021 (every key of June is below it, every key of July above)."""
    if day.month < 12:
        return f"t{day.year:04d}-{day.month + 1:02d}"
    return f"t{day.year + 1:04d}-01" if day.year < 9999 else "u"  # "u": above every "t…"


async def timeline_page(
    ctx, viewer: Viewer, *, limit: int = 60, cursor: str | None = None, month: date | None = None,
    fields: dict | None = None,
) -> dict:
    """{"items", "next_cursor"}: the newest items first, from `cursor`, or from the end of
    `month` (the scrubber's jump), or from the newest. `fields`: a projection of the items
    (TILE_FIELDS, API_FIELDS; `_id` and `taken_key` are always read, for the cursor); by
    default all but the search fields."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}.",
                      field_errors={"limit": f"between 1 and {MAX_LIMIT}"})
    visible = visible_media_query(viewer)
    if visible is None:
        return {"items": [], "next_cursor": None}
    # Plain ranges read one after the other, never one `$or` over them: the embedded
    # database answers an `$or` by scanning and sorting the whole collection.
    if cursor:
        value, last_id = _cursor(cursor)
        ranges = [{FIELD: {"$lt": value}}]
        if last_id != BEFORE_ALL:  # else nothing of `value` is left (see _next_cursor)
            ranges.insert(0, {FIELD: value, "_id": {"$lt": last_id}})
    elif month is not None:
        ranges = [{FIELD: {"$lt": _month_key(month)}}]
    else:
        ranges = [{}]
    albums = await _few_albums(ctx, viewer, visible)
    visible = _sql_friendly(visible)
    fields = _with_keys(fields or API_FIELDS)
    items: list[dict] = []
    for extra in ranges:
        wanted = limit + 1 - len(items)
        if wanted <= 0:
            break
        if albums is None:
            items += await _read(ctx, _merge(visible, extra), wanted, fields)
        else:
            items += await _read_albums(ctx, albums, extra, wanted, fields)
    more = len(items) > limit
    following = items[limit] if more else None
    items = items[:limit]
    return {"items": items, "next_cursor": _next_cursor(items[-1], following) if more and items else None}


# The least id: a cursor (key, BEFORE_ALL) goes on below `key`, nothing of `key` itself left.
BEFORE_ALL = "0" * 24


def _next_cursor(last: dict, following: dict) -> str:
    """The cursor after `last`. When the item after it (read as the page's one extra) has
    another key, no item of `last`'s key is left, and the cursor says so with the least id:
    its page is then one range (one read less, one per album for a member's albums)."""
    key = last.get(FIELD)
    if isinstance(key, str) and following.get(FIELD) != key:
        return encode_cursor(FIELD, -1, {FIELD: key, "_id": BEFORE_ALL})
    return encode_cursor(FIELD, -1, last)


# A cursor this page makes is about 100 characters; a longer one is refused before it is
# decoded (1,400 nested brackets are 1,900 characters, and deep enough to stop the decoder).
CURSOR_MAX = 512


def _cursor(cursor) -> tuple[str, str]:
    """(taken_key, _id) of a cursor; Invalid for anything this module did not write."""
    bad = Invalid("The cursor is not valid.", field_errors={"cursor": "is not valid"})
    if not isinstance(cursor, str) or len(cursor) > CURSOR_MAX:
        raise bad
    try:
        value, last_id = decode_cursor(cursor, FIELD, -1)
    except RecursionError:
        raise bad from None
    if not isinstance(value, str) or (value and not value.startswith("t")):
        raise bad
    return value, last_id


def _sql_friendly(visible: dict) -> dict:
    """`{"private": False}` written `{"private": {"$eq": False}}`: the same filter (`private`
    is always one boolean), but the embedded database translates the plain form to SQL with
    an "or an array holding it" arm, a JSON subquery per row walked (2.8 ms of SQL a page
    against 0.5)."""
    if visible.get("private") is False:
        return {**visible, "private": {"$eq": False}}
    return visible


def _with_keys(fields: dict) -> dict:
    """`fields` reading the cursor's keys too (an inclusion without them gets them)."""
    if any(fields.values()):
        return {**fields, "_id": 1, FIELD: 1}
    return {k: v for k, v in fields.items() if k not in ("_id", FIELD)}


async def _read(ctx, query: dict, wanted: int, fields: dict) -> list[dict]:
    # The embedded database applies a projection without copying the documents whole
    # (server/embedded_sql.py projector): fewer fields are less to convert and move.
    return await ctx.db.media.find(query, fields).sort(ORDER).limit(wanted).to_list()


async def _read_albums(ctx, albums: list[str], extra: dict, wanted: int, fields: dict) -> list[dict]:
    """The first `wanted` items of `albums` in the range `extra`, merged: album by album,
    each read only down to the `wanted`-th key found so far (an album whose newest item is
    older reads nothing it then throws away)."""
    items: list[dict] = []
    for album in albums:
        query = {"album_id": album, **extra}
        if len(items) >= wanted and not isinstance(extra.get(FIELD), str):
            query[FIELD] = {**extra.get(FIELD, {}), "$gte": items[wanted - 1].get(FIELD) or ""}
        items = heapq.nsmallest(wanted, items + await _read(ctx, query, wanted, fields), key=_descending)
    return items


class _descending:
    """Sorts (taken_key, _id) newest first for heapq.nsmallest."""

    __slots__ = ("key",)

    def __init__(self, doc: dict):
        self.key = (doc.get(FIELD) or "", doc["_id"])

    def __lt__(self, other: _descending) -> bool:
        return self.key > other.key


async def _few_albums(ctx, viewer: Viewer, visible: dict) -> list[str] | None:
    """The ids of the albums a viewer who may see PER_ALBUM_MAX albums or fewer sees, by
    role only (no share links); None for everyone else, who read one range."""
    if set(visible) != {"album_path"} or viewer.shares:
        return None
    ids = visible["album_path"]["$in"]
    # Kept on the context until a write (as a viewer's roles are): two reads a page saved.
    key = ("timeline-albums", tuple(sorted(ids)))
    found = ctx.cached(key)
    if found is None:
        generation = ctx.generation
        found = await _albums_below(ctx, ids)
        ctx.remember(key, found, generation)
    return None if len(found) > PER_ALBUM_MAX else list(found)


async def _albums_below(ctx, ids: list[str]) -> tuple[str, ...]:
    found: set[str] = set()
    # The albums and those below them as two queries, not one `$or` (which the embedded
    # database answers by reading every album in Python).
    for query in ({"_id": {"$in": ids}}, {"ancestors": {"$in": ids}}):
        found.update(a["_id"] for a in await ctx.db.albums.find(query, {"_id": 1}).limit(
            PER_ALBUM_MAX + 1).to_list())
        if len(found) > PER_ALBUM_MAX:
            break
    return tuple(sorted(found))


# Months are found by stepping down the key: the newest item below the last month found
# names the next month, whose items are counted as one key range (two index reads a month;
# ten years of photos, 120 months, in well under a second on the embedded database, where
# reading one date per item took ~16 s for 100,000). The count is still made once at a time
# per visibility class and kept for MONTHS_SECONDS whatever is written meanwhile (the
# scrubber may lag a new month by that long); the page waits for it half a second at most.
MONTHS_SECONDS = 600
_months: dict = {}  # (db name, visibility) -> (made at, months)
_counting: dict = {}  # (db name, visibility) -> the running count's task


def _months_key(ctx, visible: dict) -> tuple:
    return (ctx.db.name, repr(sorted(visible.items(), key=str)))


def months_counted(ctx, viewer: Viewer) -> bool:
    """Are this viewer's months counted (lately)? Part of a timeline page's cache key: a
    page built before its scrubber's count is there is kept, and built again once it is."""
    visible = visible_media_query(viewer)
    if visible is None:
        return True
    hit = _months.get(_months_key(ctx, visible))
    return bool(hit and time.monotonic() - hit[0] < MONTHS_SECONDS)


async def months_soon(ctx, viewer: Viewer, wait: float = 0.5) -> list[dict] | None:
    """The months if counted lately or countable within `wait` seconds (a small gallery);
    else the last count if any, or None — the count goes on for the next visit."""
    visible = visible_media_query(viewer)
    if visible is None:
        return []
    key = _months_key(ctx, visible)
    hit = _months.get(key)
    if hit and time.monotonic() - hit[0] < MONTHS_SECONDS:
        return hit[1]
    try:
        return await asyncio.wait_for(asyncio.shield(_start_count(ctx, viewer, visible, key)), wait)
    except TimeoutError:
        return hit[1] if hit else None


def _start_count(ctx, viewer: Viewer, visible: dict, key: tuple) -> asyncio.Task:
    task = _counting.get(key)
    if task is None or task.done():
        task = asyncio.get_running_loop().create_task(_count(ctx, viewer, visible, key))
        # Its failure (say, the database closing at shutdown) is the asker's; one nobody
        # waited for is dropped here rather than logged as never retrieved.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        _counting[key] = task
    return task


async def _count(ctx, viewer: Viewer, visible: dict, key: tuple) -> list[dict]:
    # A member of a few albums counts them one by one, like their pages: on the embedded
    # database a count over `album_path` decodes every document it counts.
    albums = await _few_albums(ctx, viewer, visible)
    counts: Counter = Counter()
    for where in [{"album_id": a} for a in albums] if albums is not None else [visible]:
        await _count_months(ctx, where, counts)
    found = [{"month": m, "count": counts[m]} for m in sorted((m for m in counts if m), reverse=True)]
    if counts.get(None):
        found.append({"month": None, "count": counts[None]})
    if len(_months) > 1000:
        _months.clear()
    _months[key] = (time.monotonic(), found)
    return found


async def _count_months(ctx, where: dict, counts: Counter) -> None:
    """Add the items matching `where` per month to `counts` (None: the undated)."""
    below = None
    for _ in range(MONTHS_MAX):
        extra = {FIELD: {"$lt": below}} if below is not None else {}
        newest = await _read(ctx, _merge(where, extra), 1, {FIELD: 1})
        if not newest:
            return
        month = month_of(newest[0].get(FIELD) or "")
        start = f"t{month}" if month else ""
        span = {FIELD: {"$gte": start, "$lt": below}} if below is not None else {FIELD: {"$gte": start}}
        counts[month] += await ctx.db.media.count_documents(_merge(where, span if month else {FIELD: ""}))
        if not month:
            return  # the undated come last
        below = start


async def timeline_months(ctx, viewer: Viewer) -> list[dict]:
    """[{"month": "YYYY-MM" or None, "count"}] newest first (None, the undated, last)."""
    visible = visible_media_query(viewer)
    if visible is None:
        return []
    key = _months_key(ctx, visible)
    hit = _months.get(key)
    if hit and time.monotonic() - hit[0] < MONTHS_SECONDS:
        return hit[1]
    return await asyncio.shield(_start_count(ctx, viewer, visible, key))
