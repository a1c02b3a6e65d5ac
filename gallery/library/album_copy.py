"""Copying an album subtree: albums, media records and files. Above both gallery.library.albums
and gallery.library.media, which each know only their own documents."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gallery.errors import Invalid
from gallery.library.albums import (
    _next_position,
    album_dir,
    album_document,
    contains,
    get_album,
    sibling_dirnames,
)
from gallery.library.filenames import safe_dirname
from gallery.library.media import copy_media_record
from gallery.media_folder import require_writable
from gallery.people.permissions import Viewer, require, require_copy


async def copy_album(ctx, viewer: Viewer, album_id: str, dest_parent_id: str) -> dict:
    """Copy an album, its sub-albums, media records and files below another album."""
    album = await get_album(ctx, album_id)
    dest = await get_album(ctx, dest_parent_id)
    # The same rule as copying media (gallery.people.permissions.require_copy): the subtree's
    # originals are duplicated, so view_original on the album, add_album and add_media here.
    require_copy(viewer, album, dest, what="album")
    require(viewer, "add_media", dest)
    require_writable(ctx, "Copying an album")  # its files would be copied
    if dest["_id"] == album["_id"] or album["_id"] in dest.get("ancestors", []):
        raise Invalid(
            "An album cannot be copied into itself or one of its sub-albums.",
            field_errors={"parent_id": "is inside the album being copied"},
        )
    sources = await ctx.db.albums.find(contains("ancestors", album["_id"])).to_list()
    sources.sort(key=lambda a: len(a.get("ancestors", [])))
    for src in sources:  # roles hold below their albums: this only guards that rule
        require(viewer, "view_original", src)
    new_albums: dict[str, dict] = {}
    now = datetime.now(UTC)
    owner = (viewer.user or {}).get("_id")
    for src in [album, *sources]:
        parent = dest if src is album else new_albums[src["parent_id"]]
        if src is album:
            name = safe_dirname(
                src.get("dirname") or src["title"], await sibling_dirnames(ctx, parent)
            )
        else:
            name = src.get("dirname") or safe_dirname(src["title"])
        copy = album_document(src["title"], parent, owner_id=owner, dirname=name)
        for key in ("summary", "sort_field", "sort_direction", "position"):
            copy[key] = src.get(key, copy[key])
        copy["private"] = bool(src.get("private") or parent.get("private"))
        copy["created"] = copy["updated"] = now
        copy["_copied_cover"] = src.get("cover_id")
        if src is album:
            copy["position"] = await _next_position(ctx.db.albums, {"parent_id": dest["_id"]})
        await asyncio.to_thread(album_dir(ctx, copy).mkdir, parents=True, exist_ok=True)
        new_albums[src["_id"]] = copy
    media_ids: dict[str, str] = {}
    for src_id, copy in new_albums.items():
        cover = copy.pop("_copied_cover")
        await ctx.db.albums.insert_one(copy)
        copy["_copied_cover"] = cover
        async for m in ctx.db.media.find({"album_id": src_id}).sort("_id", 1):
            new = await copy_media_record(ctx, m, copy, owner_id=owner, keep_position=True)
            media_ids[m["_id"]] = new["_id"]
    for copy in new_albums.values():
        cover = copy.pop("_copied_cover")
        if cover and cover in media_ids:
            await ctx.db.albums.update_one(
                {"_id": copy["_id"]}, {"$set": {"cover_id": media_ids[cover]}}
            )
    return await get_album(ctx, new_albums[album["_id"]]["_id"])
