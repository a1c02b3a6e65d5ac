"""One page of an album's media, in the album's order, by offset or by cursor.

A page reads one page of documents (plus one more to know whether there is a next) and
one indexed count; nothing loads or counts the whole album per request.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from gallery.errors import Invalid
from gallery.ids import is_id

MAX_PAGE = 500


_SORT_KEYS = {
    "position": "position",
    "title": "title",
    "date_taken": "date_taken",
    "date_added": "date_added",
    "file_name": "file_name",
}


def _encode_value(value):
    return {"$d": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(value):
    if isinstance(value, dict) and set(value) == {"$d"}:
        return datetime.fromisoformat(value["$d"])
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise ValueError("bad cursor value")


def encode_cursor(field: str, direction: int, doc: dict) -> str:
    raw = json.dumps([field, direction, _encode_value(doc.get(field)), doc["_id"]])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str, direction: int):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        c_field, c_dir, value, last_id = json.loads(raw)
        value = _decode_value(value)
        if c_field != field or c_dir != direction or not is_id(last_id):
            raise ValueError("cursor of another order")
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Invalid(
            "The cursor is not valid (the album's order may have changed).",
            field_errors={"cursor": "is not valid"},
        ) from None
    return value, last_id


def _after(field: str, direction: int, value, last_id: str) -> dict:
    """Documents after (value, last_id) in the order (field, direction), (_id, direction).

    MongoDB sorts null first, so a null value needs its own branches. Written with `$eq`
    inside `$and` lists: nx-27017 mis-reads `{field: None, "_id": ...}` in one dict.
    """
    op = "$gt" if direction == 1 else "$lt"
    same = {"$and": [{field: {"$eq": value}}, {"_id": {op: last_id}}]}
    if value is None:
        return {"$or": [same, {field: {"$ne": None}}]} if direction == 1 else same
    branches = [{field: {op: value}}, same]
    if direction == -1:
        branches.append({field: {"$eq": None}})
    return {"$or": branches}


async def list_album_media(
    ctx, album: dict, *, offset: int = 0, limit: int = 60, cursor: str | None = None
) -> dict:
    """One page of an album's media in the album's order, plus the album's media count.

    Reads one page (and one indexed count), never the whole album.
    """
    field = _SORT_KEYS.get(album.get("sort_field"), "position")
    direction = -1 if album.get("sort_direction") == -1 else 1
    limit = max(1, min(int(limit), MAX_PAGE))
    query: dict = {"album_id": album["_id"]}
    find = query
    if cursor:
        value, last_id = decode_cursor(cursor, field, direction)
        find = {"$and": [query, _after(field, direction, value, last_id)]}
    found = ctx.db.media.find(find).sort([(field, direction), ("_id", direction)])
    if not cursor and offset:
        found = found.skip(int(offset))
    items = await found.limit(limit + 1).to_list()
    more = len(items) > limit
    items = items[:limit]
    total = await ctx.db.media.count_documents(query)
    return {
        "items": items,
        "total": total,
        "offset": None if cursor else offset,
        "limit": limit,
        "next_cursor": encode_cursor(field, direction, items[-1]) if more and items else None,
    }
