"""Everything a viewer may see, by date taken, newest first: the timeline.

Pages are cut by cursor on (date_taken, _id) like album pages (gallery.library.listing), as
plain ranges read one after another. On MongoDB each is an index range; the embedded
database evaluates a date range row by row, so a page deep into 100,000 items takes about
1.5 s there (the first page, 10 ms). Items without a date come last. The scrubber's months (how many items each month holds) are counted from
the dates alone, one count at a time per visibility class, and kept for a few minutes
(see MONTHS_SECONDS).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, date, datetime

from gallery.errors import Invalid
from gallery.library.listing import decode_cursor, encode_cursor
from gallery.people.permissions import Viewer, visible_media_query

MAX_LIMIT = 200
FIELD = "date_taken"
UNDATED = {FIELD: {"$eq": None}}
# Months read for the scrubber at most (one date per item): past this the scrubber shows
# the newest months only.
MONTHS_SCAN = 500_000


def _merge(visible: dict, extra: dict) -> dict:
    return {"$and": [visible, extra]} if set(visible) & set(extra) else {**visible, **extra}


def month_of(value) -> str | None:
    """"YYYY-MM" of a stored date (UTC), None for none."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{value.year:04d}-{value.month:02d}"


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


async def timeline_page(
    ctx, viewer: Viewer, *, limit: int = 60, cursor: str | None = None, month: date | None = None
) -> dict:
    """{"items", "next_cursor"}: the newest items first, from `cursor`, or from the end of
    `month` (the scrubber's jump), or from the newest."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}.",
                      field_errors={"limit": f"between 1 and {MAX_LIMIT}"})
    visible = visible_media_query(viewer)
    if visible is None:
        return {"items": [], "next_cursor": None}
    # The order is cut into plain ranges read one after the other (each an index range on
    # (date_taken, _id)), never one `$or` over them: the embedded database answers an `$or`
    # by scanning and sorting the whole collection, which on 100,000 items is seconds.
    if cursor:
        if not isinstance(cursor, str) or len(cursor) > 2000:
            raise Invalid("The cursor is not valid.", field_errors={"cursor": "is not valid"})
        value, last_id = decode_cursor(cursor, FIELD, -1)
        # `$and` with `$eq`: nx-27017 mis-reads {field: None, "_id": ...} in one dict.
        same = {"$and": [{FIELD: {"$eq": value}}, {"_id": {"$lt": last_id}}]}
        ranges = [same] if value is None else [same, {FIELD: {"$lt": value}}, UNDATED]
    elif month is not None:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        end = datetime(following.year, following.month, 1, tzinfo=UTC)
        ranges = [{FIELD: {"$lt": end}}, UNDATED]
    else:
        ranges = [{FIELD: {"$ne": None}}, UNDATED]
    items: list[dict] = []
    for extra in ranges:
        wanted = limit + 1 - len(items)
        if wanted <= 0:
            break
        items += (
            await ctx.db.media.find(_merge(visible, extra), {"search_keys": 0})
            .sort([(FIELD, -1), ("_id", -1)])
            .limit(wanted)
            .to_list()
        )
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": items,
        "next_cursor": encode_cursor(FIELD, -1, items[-1]) if more and items else None,
    }


# Counting months reads one date per item: on the embedded database about 6,000 items a
# second, so 100,000 items are counted in ~16 s. The count is therefore made once at a time
# per visibility class (later askers wait for it) and kept for MONTHS_SECONDS whatever is
# written meanwhile (the scrubber may lag a new month by that long), and the page does not
# wait for it: it shows the scrubber once a count is there (`months_soon`).
MONTHS_SECONDS = 600
_months: dict = {}  # (db name, visibility) -> (made at, months)
_counting: dict = {}  # (db name, visibility) -> the running count's task


def _months_key(ctx, visible: dict) -> tuple:
    return (ctx.db.name, repr(sorted(visible.items(), key=str)))


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
        return await asyncio.wait_for(asyncio.shield(_start_count(ctx, visible, key)), wait)
    except TimeoutError:
        return hit[1] if hit else None


def _start_count(ctx, visible: dict, key: tuple) -> asyncio.Task:
    task = _counting.get(key)
    if task is None or task.done():
        task = asyncio.get_running_loop().create_task(_count(ctx, visible, key))
        _counting[key] = task
    return task


async def _count(ctx, visible: dict, key: tuple) -> list[dict]:
    counts: Counter = Counter()
    async for doc in ctx.db.media.find(visible, {FIELD: 1, "_id": 0}).limit(MONTHS_SCAN):
        counts[month_of(doc.get(FIELD))] += 1
    months = sorted((m for m in counts if m), reverse=True)
    found = [{"month": m, "count": counts[m]} for m in months]
    if counts.get(None):
        found.append({"month": None, "count": counts[None]})
    if len(_months) > 1000:
        _months.clear()
    _months[key] = (time.monotonic(), found)
    return found


async def timeline_months(ctx, viewer: Viewer) -> list[dict]:
    """[{"month": "YYYY-MM" or None, "count"}] newest first (None, the undated, last)."""
    visible = visible_media_query(viewer)
    if visible is None:
        return []
    key = _months_key(ctx, visible)
    hit = _months.get(key)
    if hit and time.monotonic() - hit[0] < MONTHS_SECONDS:
        return hit[1]
    return await asyncio.shield(_start_count(ctx, visible, key))
