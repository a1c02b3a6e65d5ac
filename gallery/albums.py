"""Albums: a tree whose nodes store their ancestor ids (permission checks are one set test)."""

from __future__ import annotations

from datetime import UTC, datetime

from gallery.ids import new_id

ALBUM_VERSION = 1


def album_document(title: str, parent: dict | None, *, owner_id: str | None = None, dirname: str = "") -> dict:
    now = datetime.now(UTC)
    return {
        "_id": new_id(),
        "title": title,
        "summary": "",
        "parent_id": parent["_id"] if parent else None,
        "ancestors": (parent["ancestors"] + [parent["_id"]]) if parent else [],
        "dirname": dirname,
        "private": bool(parent and parent.get("private")),
        "sort_field": "position",
        "sort_direction": 1,
        "cover_id": None,
        "owner_id": owner_id,
        "position": 0,
        "created": now,
        "updated": now,
        "version": ALBUM_VERSION,
    }


async def root_album(ctx) -> dict | None:
    return await ctx.db.albums.find_one({"parent_id": None})


async def child_albums(ctx, album_id: str, limit: int = 500) -> list[dict]:
    return await ctx.db.albums.find({"parent_id": album_id}).sort("position", 1).limit(limit).to_list()
