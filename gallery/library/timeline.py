"""Everything a viewer may see, by date taken, newest first: the timeline.

Pages are cut by cursor on (date_taken, _id) like album pages (gallery.library.listing), so a
page costs one indexed range read however deep into 100,000 items it is. Items without a
date come last. The scrubber's months (how many items each month holds) are counted from
the dates alone and kept on the tenant context until the next write (ctx.cached), one
count per visibility class.
"""

from __future__ import annotations

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


async def timeline_months(ctx, viewer: Viewer) -> list[dict]:
    """[{"month": "YYYY-MM" or None, "count"}] newest first (None, the undated, last)."""
    visible = visible_media_query(viewer)
    if visible is None:
        return []
    key = ("timeline-months", repr(sorted(visible.items(), key=str)))
    found = ctx.cached(key)
    if found is not None:
        return found
    generation = ctx.generation
    counts: Counter = Counter()
    async for doc in ctx.db.media.find(visible, {FIELD: 1, "_id": 0}).limit(MONTHS_SCAN):
        counts[month_of(doc.get(FIELD))] += 1
    months = sorted((m for m in counts if m), reverse=True)
    found = [{"month": m, "count": counts[m]} for m in months]
    if counts.get(None):
        found.append({"month": None, "count": counts[None]})
    ctx.remember(key, found, generation)
    return found
