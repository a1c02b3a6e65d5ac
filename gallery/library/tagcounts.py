"""Maintained tag counts: one `tag_counts` document per (album, tag) the tag cloud reads.

Counting tags over every media object on each cloud took 0.4-1.3 s on a 10,000-item
gallery (bench/tags.py), so the counts are kept in step as media change:

    {_id: "<album_id>/<tag_key>", album_id, album_path, private, tag, tag_key, count}

`album_path` and `private` are the album's, exactly the fields media carry, so
gallery.people.permissions.visible_media_query filters these documents like media: a tag used
only in a private album is never counted for a visitor. `tag` is the spelling first
used in that album; the cloud shows the spelling counted most often.

Every write that adds, removes, moves or re-tags media calls one function here; album
moves, privacy changes and deletions rewrite these documents with the same update they
apply to media. `rebuild_tag_counts` recomputes everything from media (a tenant's first
cloud builds it; after a crash between a media write and its count write it repairs).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from pymongo import DeleteOne, UpdateOne
from pymongo.errors import BulkWriteError

from gallery.library.tags import tag_key

_BUILT_ID = "tag_counts"  # meta document: the counts of this database have been built
_BATCH = 500
# Tag clouds per (tenant, visibility) that gallery.library.search keeps a few seconds; they live
# here so that every write that changes counts drops them without importing search.
CLOUD_SECONDS = 5.0
cloud_cache: dict[tuple, tuple[float, list[dict]]] = {}
_build_locks: dict[str, asyncio.Lock] = {}


def _doc_id(album_id: str, key: str) -> str:
    return f"{album_id}/{key}"


def _scope(media: dict) -> dict:
    """The album fields of a media object that its tag counts carry."""
    path = list(media.get("album_path") or [media["album_id"]])
    return {"album_id": media["album_id"], "album_path": path, "private": bool(media.get("private"))}


def _keys(tags) -> dict[str, str]:
    """{tag_key: spelling} of a media object's tags (first spelling of a key wins)."""
    out: dict[str, str] = {}
    for tag in tags or ():
        if isinstance(tag, str) and tag_key(tag):
            out.setdefault(tag_key(tag), tag)
    return out


async def _adjust(ctx, scope: dict, tags: dict[str, str], delta: int) -> None:
    """Add `delta` to the count of each tag in the album `scope`; drop counts that reach 0."""
    if not tags or not delta:
        return
    ids = {key: _doc_id(scope["album_id"], key) for key in tags}
    ops = [
        UpdateOne(
            {"_id": ids[key]},
            {"$inc": {"count": delta}, "$setOnInsert": {**scope, "tag": tag, "tag_key": key}},
            upsert=True,
        )
        for key, tag in tags.items()
    ]
    try:
        await ctx.db.tag_counts.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        # Two first uses of a tag in one album at once: MongoDB lets one upsert insert and
        # fails the other with a duplicate key; run again, it is now a plain increment.
        errors = exc.details.get("writeErrors") or []
        if not errors or any(e.get("code") != 11000 for e in errors):
            raise
        await ctx.db.tag_counts.bulk_write([ops[e["index"]] for e in errors], ordered=False)
    if delta < 0:
        await ctx.db.tag_counts.bulk_write(
            [DeleteOne({"_id": i, "count": {"$lte": 0}}) for i in ids.values()], ordered=False
        )
    forget(ctx)


def forget(ctx) -> None:
    """Drop the cached tag clouds of a tenant (after tags change)."""
    for key in [k for k in cloud_cache if k[1] == ctx.db.name]:
        cloud_cache.pop(key, None)


# -- hooks: one call per media write ------------------------------------------------------------


async def media_added(ctx, media: dict) -> None:
    """A media object was inserted (upload, import, copy)."""
    await _adjust(ctx, _scope(media), _keys(media.get("tags")), +1)


async def media_removed(ctx, media: dict) -> None:
    """A media object was deleted."""
    await _adjust(ctx, _scope(media), _keys(media.get("tags")), -1)


async def media_moved(ctx, media: dict, album: dict) -> None:
    """A media object (as it was) now lives in `album`."""
    tags = _keys(media.get("tags"))
    await _adjust(ctx, _scope(media), tags, -1)
    await _adjust(ctx, _scope({"album_id": album["_id"], **_album_fields(album)}), tags, +1)


def _album_fields(album: dict) -> dict:
    return {
        "album_path": list(album.get("ancestors", [])) + [album["_id"]],
        "private": bool(album.get("private")),
    }


async def media_retagged(ctx, media: dict, new_tags) -> None:
    """A media object's tags change from media["tags"] to `new_tags`."""
    old, new = _keys(media.get("tags")), _keys(new_tags)
    scope = _scope(media)
    await _adjust(ctx, scope, {k: t for k, t in old.items() if k not in new}, -1)
    await _adjust(ctx, scope, {k: t for k, t in new.items() if k not in old}, +1)


async def before_store(ctx, media_id: str, update: dict) -> None:
    """Processing is about to $set `update` (metadata keywords may become the tags)."""
    if "tags" not in update:
        return
    media = await ctx.db.media.find_one(
        {"_id": media_id}, {"album_id": 1, "album_path": 1, "private": 1, "tags": 1}
    )
    if media is not None:
        await media_retagged(ctx, media, update["tags"])


# -- album-wide changes -------------------------------------------------------------------------


async def album_privacy(ctx, album_id: str, private: bool) -> None:
    """The album's subtree became private or public (same filter as the media update)."""
    await ctx.db.tag_counts.update_many({"album_path": album_id}, {"$set": {"private": private}})
    forget(ctx)


async def album_deleted(ctx, album_id: str) -> None:
    """The album and everything below it are gone (same filter as the media deleted)."""
    await ctx.db.tag_counts.delete_many({"album_path": {"$in": [album_id]}})
    forget(ctx)


# -- reading and rebuilding ---------------------------------------------------------------------


async def ensure_built(ctx) -> None:
    """Build the counts once per database (databases made before tag counts existed).

    Asked of the database each time (one lookup by id): a process-wide "done" flag would
    outlive a database dropped and made again under the same name. The lock keeps two
    first clouds of one process from rebuilding over each other.
    """
    if await ctx.db.meta.find_one({"_id": _BUILT_ID}, {"_id": 1}) is not None:
        return
    async with _build_locks.setdefault(ctx.db.name, asyncio.Lock()):
        if await ctx.db.meta.find_one({"_id": _BUILT_ID}, {"_id": 1}) is None:
            await rebuild_tag_counts(ctx)


async def rebuild_tag_counts(ctx) -> int:
    """Recompute every count from the media collection; the number of count documents."""
    tally = Tally()
    # One cursor over the collection: keyset batches (`_id > last`) took 14 s per 10,000
    # media on nx-27017, which filters each batch in Python; this takes about 1.5 s.
    fields = {"album_id": 1, "album_path": 1, "private": 1, "tags": 1}
    async for media in ctx.db.media.find({}, fields).batch_size(_BATCH):
        tally.add(media)
    return await tally.write(ctx)


class Tally:
    """Every count of a set of media objects, counted as they are seen and written in place
    of all counts: rebuild_tag_counts over the collection, or a restore over the media it
    inserts (the same counts without reading 10,000 documents back)."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.scopes: dict[str, dict] = {}
        self.spelling: dict[str, str] = {}

    def add(self, media: dict) -> None:
        tags = _keys(media.get("tags"))
        if not tags:
            return
        scope = _scope(media)
        for key, tag in tags.items():
            doc_id = _doc_id(scope["album_id"], key)
            self.counts[doc_id] += 1
            self.scopes.setdefault(doc_id, scope)
            self.spelling.setdefault(doc_id, tag)

    async def write(self, ctx) -> int:
        """Replace the database's counts with these; the number of count documents."""
        await ctx.db.tag_counts.delete_many({})
        docs = [
            {
                "_id": doc_id, **self.scopes[doc_id], "tag": self.spelling[doc_id],
                "tag_key": doc_id.split("/", 1)[1], "count": n,
            }
            for doc_id, n in self.counts.items()
        ]
        for i in range(0, len(docs), _BATCH):  # insert_many: ~20x faster than bulk InsertOne here
            await ctx.db.tag_counts.insert_many(docs[i : i + _BATCH], ordered=False)
        await ctx.db.meta.update_one({"_id": _BUILT_ID}, {"$set": {"built": True}}, upsert=True)
        forget(ctx)
        return len(docs)


async def visible_counts(ctx, visible: dict) -> list[dict]:
    """[{"tag", "count"}] over the albums `visible` (a visible_media_query) lets through.

    One $match + $group on tag_counts, grouped by spelling and merged by key here: nx-27017
    runs that shape in SQL (about 30 ms over 10,000 count documents) but mishandles a
    compound group key and takes a slow path for $first.
    """
    await ensure_built(ctx)
    match = visible or {"count": {"$gte": 1}}  # (an administrator sees every count)
    cursor = await ctx.db.tag_counts.aggregate(
        [{"$match": match}, {"$group": {"_id": "$tag", "count": {"$sum": "$count"}}}]
    )
    merged: dict[str, dict] = {}
    for row in await cursor.to_list():
        tag, count = row["_id"], int(row["count"] or 0)
        if not isinstance(tag, str) or not tag_key(tag) or count <= 0:
            continue
        entry = merged.setdefault(tag_key(tag), {"tag": tag, "count": 0, "best": 0})
        entry["count"] += count
        if count > entry["best"]:  # the spelling most people used
            entry.update(tag=tag, best=count)
    return [{"tag": e["tag"], "count": e["count"]} for e in merged.values()]
