"""Custom order: the media or sub-albums a person drags into place keep the positions they
already occupied, in the new order, and the album's sort becomes "position".

Only the listed items are rewritten (a page of an album of 10,000 changes a page of
documents). Nothing changes unless every id is in that album and visible to the viewer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import UpdateOne

from gallery.errors import Invalid
from gallery.ids import is_id
from gallery.library.albums import viewable_album
from gallery.people.permissions import Viewer, can, require

MAX_ORDER = 1000


def _clean_ids(ids, what: str) -> list[str]:
    if not isinstance(ids, list) or not ids:
        raise Invalid(f"Send a list of {what} ids.", field_errors={what: "must be a list of ids"})
    if len(ids) > MAX_ORDER:
        raise Invalid(
            f"At most {MAX_ORDER} {what} can be ordered at once.",
            field_errors={what: f"at most {MAX_ORDER}"},
        )
    if not all(isinstance(i, str) and is_id(i) for i in ids):
        raise Invalid(
            "Every id must be an id.", field_errors={what: "holds a value that is not an id"}
        )
    if len(set(ids)) != len(ids):
        raise Invalid("An id is listed twice.", field_errors={what: "holds an id twice"})
    return ids


async def _renumber(collection, query: dict) -> None:
    """Give every item of the album its own position (old data may share positions)."""
    docs = await collection.find(query, {"_id": 1}).sort([("position", 1), ("_id", 1)]).to_list()
    await collection.bulk_write(
        [UpdateOne({"_id": d["_id"]}, {"$set": {"position": i}}) for i, d in enumerate(docs)]
    )


async def _reorder(collection, query: dict, ids: list[str], what: str) -> None:
    found = await collection.find(
        {**query, "_id": {"$in": ids}}, {"_id": 1, "position": 1}
    ).to_list()
    if len(found) != len(ids):
        raise Invalid(
            f"Some {what} are not in this album.",
            field_errors={what: "holds ids not in this album"},
        )
    positions = sorted(int(d.get("position") or 0) for d in found)
    if len(set(positions)) != len(positions):
        await _renumber(collection, query)
        found = await collection.find(
            {**query, "_id": {"$in": ids}}, {"_id": 1, "position": 1}
        ).to_list()
        positions = sorted(int(d.get("position") or 0) for d in found)
    now = datetime.now(UTC)
    await collection.bulk_write(
        [
            UpdateOne({"_id": i}, {"$set": {"position": p, "updated": now}})
            for i, p in zip(ids, positions, strict=True)
        ]
    )


async def order_album(ctx, viewer: Viewer, album_id: str, *, media=None, albums=None) -> dict:
    """Put the listed media (or sub-albums) of an album in the given order (needs edit_album)."""
    album = await viewable_album(ctx, viewer, album_id)
    require(viewer, "edit_album", album)
    if (media is None) == (albums is None):
        raise Invalid("Send either a list of media ids or a list of album ids.")
    if media is not None:
        ids = _clean_ids(media, "media")
        await _reorder(ctx.db.media, {"album_id": album["_id"]}, ids, "media")
        await ctx.db.albums.update_one(
            {"_id": album["_id"]},
            {"$set": {"sort_field": "position", "sort_direction": 1, "updated": datetime.now(UTC)}},
        )
    else:
        ids = _clean_ids(albums, "albums")
        children = await ctx.db.albums.find(
            {"parent_id": album["_id"], "_id": {"$in": ids}}
        ).to_list()
        if len(children) != len(ids) or not all(can(viewer, "view", c) for c in children):
            raise Invalid(
                "Some albums are not in this album.",
                field_errors={"albums": "holds ids not in this album"},
            )
        await _reorder(ctx.db.albums, {"parent_id": album["_id"]}, ids, "albums")
    return await ctx.db.albums.find_one({"_id": album["_id"]})
