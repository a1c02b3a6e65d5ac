"""Search: one box over title, caption, tags, file name and metadata values; tags; recent.

Every media object keeps `search_keys` (gallery.library.keywords). A query is split into words the
same way and every word must be among the keys (`$all`): plain text always, never a
pattern or an operator. Results are filtered by gallery.people.permissions.visible_media_query,
newest first, paged by cursor.

The filters are written as one flat dict: nx-27017 answers `{"search_keys": {"$all":
...}, "private": False}` about twenty times faster than the same filter inside `$and`.
"""

from __future__ import annotations

import time

from gallery.errors import Invalid
from gallery.i18n import Message
from gallery.library.keywords import fold, keyword_fields, search_keys, words
from gallery.library.listing import _after, decode_cursor, encode_cursor
from gallery.library.search_filters import SearchFilters
from gallery.library.tagcounts import CLOUD_SECONDS as _CLOUD_SECONDS
from gallery.library.tagcounts import cloud_cache as _cloud_cache
from gallery.library.tagcounts import rebuild_tag_counts, visible_counts
from gallery.people.permissions import Viewer, visible_media_query

MAX_QUERY_WORDS = 10
MAX_LIMIT = 200
# Result counts stop here ("more than 1,000 results"): counting is a pass over the matches.
COUNT_CAP = 1000


def _visible_filter(viewer: Viewer, extra: dict) -> dict | None:
    visible = visible_media_query(viewer)
    if visible is None:
        return None
    if set(visible) & set(extra):
        return {"$and": [visible, extra]}
    return {**visible, **extra}


async def search_media(
    ctx, viewer: Viewer, query: str, *, limit: int = 60, cursor: str | None = None,
    filters: SearchFilters | None = None,
) -> dict:
    """Media the viewer may see whose keys hold every word of `query` and that pass
    `filters` (kind, date taken: gallery.library.search_filters), newest first. Filters
    alone (no words) search everything the viewer may see."""
    if not isinstance(query, str):
        raise Invalid("The search must be text.", field_errors={"q": "must be text"})
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(
            Message("%(name)s must be between %(minimum)s and %(maximum)s.", name="limit", minimum=1, maximum=MAX_LIMIT),
            field_errors={"limit": Message("must be between %(minimum)s and %(maximum)s", minimum=1, maximum=MAX_LIMIT)},
        )
    wanted = list(dict.fromkeys(words(query[:500])))[:MAX_QUERY_WORDS]
    filters = filters or SearchFilters()
    if not wanted and not filters:
        return {"items": [], "next_cursor": None, "words": [], "total": 0, "total_capped": False}
    extra: dict = {"search_keys": {"$all": wanted}} if wanted else {}
    extra.update(filters.query())
    if cursor:
        if not isinstance(cursor, str) or len(cursor) > 2000:
            raise Invalid("The cursor is not valid.", field_errors={"cursor": "is not valid"})
        value, last_id = decode_cursor(cursor, "date_added", -1)
        extra.update(_after("date_added", -1, value, last_id))
    find = _visible_filter(viewer, extra)
    if find is None:
        return {"items": [], "next_cursor": None, "words": wanted, "total": 0, "total_capped": False}
    items = (
        await ctx.db.media.find(find, {"search_keys": 0})
        .sort([("date_added", -1), ("_id", -1)])
        .limit(limit + 1)
        .to_list()
    )
    more = len(items) > limit
    items = items[:limit]
    total = None  # only the first page counts (a count is a second pass over the matches)
    if not cursor:
        total = len(items)
        if more:
            total = await ctx.db.media.count_documents(find, limit=COUNT_CAP + 1)
    return {
        "items": items,
        "next_cursor": encode_cursor("date_added", -1, items[-1]) if more and items else None,
        "words": wanted,
        "total": total,
        "total_capped": total is not None and total > COUNT_CAP,
    }


async def recent_media(ctx, viewer: Viewer, *, limit: int = 30) -> list[dict]:
    """The newest media objects the viewer may see."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    find = visible_media_query(viewer)
    if find is None:
        return []
    return (
        await ctx.db.media.find(find, {"search_keys": 0})
        .sort([("date_added", -1), ("_id", -1)])
        .limit(limit)
        .to_list()
    )


async def _all_tags(ctx, viewer: Viewer) -> list[dict]:
    """Every tag on media the viewer may see with its use count, most used first.

    Read from the maintained per-album counts (gallery.library.tagcounts), filtered by the same
    visibility query as media. Kept a few seconds per (tenant, visibility): every write
    that changes counts drops this process's copy, the short lifetime bounds how stale
    another process's copy (a separate job worker) can be.
    """
    visible = visible_media_query(viewer)
    if visible is None:
        return []
    cache_key = (id(ctx.db), ctx.db.name, repr(sorted(visible.items(), key=str)))
    hit = _cloud_cache.get(cache_key)
    now = time.monotonic()
    if hit and now - hit[0] < _CLOUD_SECONDS:
        return hit[1]
    cloud = sorted(
        await visible_counts(ctx, visible), key=lambda e: (-e["count"], e["tag"].casefold())
    )
    if len(_cloud_cache) > 1000:
        _cloud_cache.clear()
    _cloud_cache[cache_key] = (now, cloud)
    return cloud


async def tag_cloud(ctx, viewer: Viewer, *, limit: int = 100) -> list[dict]:
    """[{"tag", "count"}] of the tags on media the viewer may see, most used first."""
    limit = max(1, min(int(limit), 5000))
    return (await _all_tags(ctx, viewer))[:limit]


async def suggest_tags(ctx, viewer: Viewer, prefix: str, *, limit: int = 10) -> list[str]:
    """Tags starting with `prefix` (ignoring case and accents), most used first."""
    limit = max(1, min(int(limit), 100))
    wanted = fold(" ".join((prefix or "").split()))[:100]
    tags = await _all_tags(ctx, viewer)
    if not wanted:
        return [t["tag"] for t in tags[:limit]]
    return [t["tag"] for t in tags if fold(t["tag"]).startswith(wanted)][:limit]


async def keys_after_update(ctx, media_id: str, update: dict) -> dict:
    """The search field of a media object once `update` is applied (processing adds metadata)."""
    media = await ctx.db.media.find_one({"_id": media_id}, {"search_keys": 0}) or {}
    return keyword_fields({**media, **update})


async def reindex(ctx, batch: int = 500) -> int:
    """Recompute every media object's search keys (after a change of the rules)."""
    from pymongo import UpdateOne

    done = 0
    last = ""
    while True:
        docs = (
            await ctx.db.media.find({"_id": {"$gt": last}}, {"search_keys": 0})
            .sort("_id", 1)
            .limit(batch)
            .to_list()
        )
        if not docs:
            return done
        await ctx.db.media.bulk_write(
            [UpdateOne({"_id": d["_id"]}, {"$set": keyword_fields(d)}) for d in docs]
        )
        done += len(docs)
        last = docs[-1]["_id"]


__all__ = [
    "fold", "keyword_fields", "rebuild_tag_counts", "recent_media", "reindex", "search_keys",
    "search_media",
    "suggest_tags", "tag_cloud", "words",
]
