"""Albums: a tree whose nodes store their ancestor ids (permission checks are one set test).

Each album has a directory under `originals/` (`dirpath`, the root's is ""), so the
storage root mirrors the tree. Moving a subtree rewrites `ancestors` of every album and
`album_path` of every media object below it with two multi-document updates (pull the
old prefix, push the new one), whatever the depth; the path strings (`dirpath`,
`original.path`) are rewritten per document in bulk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from datetime import UTC, datetime

from pymongo import UpdateOne

from gallery.errors import Invalid, NotFound
from gallery.i18n import Message
from gallery.ids import is_id, new_id
from gallery.library import tagcounts
from gallery.library.filenames import safe_dirname
from gallery.library.privacy import apply_private
from gallery.media_folder import read_only, require_writable
from gallery.people.permissions import Viewer, require
from gallery.settings import get_settings
from gallery.usage import add_usage

ALBUM_VERSION = 1
# The metadata ones (camera … file size) sort by what processing read from the files
# (gallery.library.listing maps each to its field); media without it come first.
SORT_FIELDS = ("position", "title", "date_taken", "date_added", "file_name",
               "camera", "lens", "iso", "focal_length", "file_size", "rating")
MAX_TITLE = 200
MAX_SUMMARY = 4000
_BULK = 500


def default_sort(settings: dict) -> dict:
    """The gallery's order for new albums (settings default_album_sort, _direction)."""
    field = settings.get("default_album_sort") or "position"
    return {
        "sort_field": field if field in SORT_FIELDS else "position",
        "sort_direction": -1 if settings.get("default_album_sort_direction") == "descending" else 1,
    }


def album_document(
    title: str, parent: dict | None, *, owner_id: str | None = None, dirname: str = ""
) -> dict:
    now = datetime.now(UTC)
    parent_dirpath = dirpath_of(parent) if parent else ""
    return {
        "_id": new_id(),
        "title": title,
        "summary": "",
        "parent_id": parent["_id"] if parent else None,
        "ancestors": (parent["ancestors"] + [parent["_id"]]) if parent else [],
        "dirname": dirname,
        "dirpath": _join(parent_dirpath, dirname) if parent else "",
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
    return (
        await ctx.db.albums.find({"parent_id": album_id}).sort("position", 1).limit(limit).to_list()
    )


# -- names on disk -----------------------------------------------------------------------


def dirpath_of(album: dict) -> str:
    """The album's directory under originals/ ("" for the root)."""
    return album.get("dirpath") or ""


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


async def sibling_dirnames(ctx, parent: dict, exclude_id: str | None = None) -> set[str]:
    query: dict = {"parent_id": parent["_id"]}
    if exclude_id:
        query["_id"] = {"$ne": exclude_id}
    names = {
        d.get("dirname", "") for d in await ctx.db.albums.find(query, {"dirname": 1}).to_list()
    }
    folder = (
        ctx.storage.originals / dirpath_of(parent) if dirpath_of(parent) else ctx.storage.originals
    )

    def on_disk() -> set[str]:
        try:
            return {e.name for e in os.scandir(folder) if e.is_dir()}
        except FileNotFoundError:
            return set()

    names |= await asyncio.to_thread(on_disk)
    return names


def album_dir(ctx, album: dict):
    """The album's directory as a Path (resolved inside the storage root)."""
    rel = dirpath_of(album)
    return ctx.storage.resolve(f"originals/{rel}" if rel else "originals")


# -- reading -------------------------------------------------------------------------------


async def get_album(ctx, album_id) -> dict:
    album = await ctx.db.albums.find_one({"_id": album_id}) if is_id(album_id) else None
    if album is None:
        raise NotFound("No such album or media object.")
    return album


async def viewable_album(ctx, viewer: Viewer, album_id, permission: str = "view") -> dict:
    album = await get_album(ctx, album_id)
    require(viewer, permission, album)
    return album


# -- validation ------------------------------------------------------------------------------


def clean_album_fields(changes: dict, *, creating: bool = False) -> dict:
    """Validate editable fields; raise Invalid with one message per bad field."""
    allowed = {
        "title",
        "summary",
        "sort_field",
        "sort_direction",
        "private",
        "cover_id",
        "position",
    }
    errors: dict[str, str] = {}
    clean: dict = {}
    for key, value in changes.items():
        if key not in allowed:
            errors[key] = Message("cannot be changed here")
        elif key == "title":
            title = " ".join(value.split()) if isinstance(value, str) else ""
            if not title or len(title) > MAX_TITLE:
                errors[key] = Message("is required (at most %(count)s characters)", count=MAX_TITLE)
            clean[key] = title
        elif key == "summary":
            if not isinstance(value, str) or len(value) > MAX_SUMMARY:
                errors[key] = Message("must be text of at most %(count)s characters", count=MAX_SUMMARY)
            else:
                clean[key] = value.strip()
        elif key == "sort_field":
            if value not in SORT_FIELDS:
                errors[key] = Message("must be one of: %(choices)s", choices=", ".join(SORT_FIELDS))
            clean[key] = value
        elif key == "sort_direction":
            if value not in (1, -1) or isinstance(value, bool):
                errors[key] = Message("must be 1 (ascending) or -1 (descending)")
            clean[key] = value
        elif key == "private":
            if not isinstance(value, bool):
                errors[key] = Message("must be true or false")
            clean[key] = value
        elif key == "cover_id":
            if value is not None and not is_id(value):
                errors[key] = Message("must be a media id or null")
            clean[key] = value
        elif key == "position":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
                errors[key] = Message("must be a whole number >= 0")
            clean[key] = value
    if creating and "title" not in changes:
        errors["title"] = Message("is required")
    if errors:
        raise Invalid("Please correct the marked fields.", field_errors=errors)
    return clean


# -- create / edit -----------------------------------------------------------------------------


async def _next_position(collection, query: dict) -> int:
    last = await collection.find(query, {"position": 1}).sort("position", -1).limit(1).to_list()
    return (last[0].get("position", 0) + 1) if last else 0


async def create_album(ctx, viewer: Viewer, parent_id: str, fields: dict) -> dict:
    """Create an album below `parent_id` (needs add_album there) and its directory."""
    parent = await get_album(ctx, parent_id)
    require(viewer, "add_album", parent)
    # Albums mirror directories; in a read-only folder they come from its directories.
    require_writable(ctx, "Creating an album")
    clean = clean_album_fields(fields, creating=True)
    clean.pop("cover_id", None)
    dirname = safe_dirname(clean["title"], await sibling_dirnames(ctx, parent))
    doc = album_document(
        clean["title"], parent, owner_id=(viewer.user or {}).get("_id"), dirname=dirname
    )
    doc.update(default_sort(await get_settings(ctx)))
    doc.update({k: v for k, v in clean.items() if k != "position"})
    if parent.get("private"):
        doc["private"] = True  # a public album below a private one would leak
    doc["position"] = clean.get(
        "position", await _next_position(ctx.db.albums, {"parent_id": parent["_id"]})
    )
    await asyncio.to_thread(album_dir(ctx, doc).mkdir, parents=True, exist_ok=True)
    await ctx.db.albums.insert_one(doc)
    return doc


async def update_album(
    ctx, viewer: Viewer, album_id: str, fields: dict, settings: dict | None = None
) -> dict:
    """Edit title, summary, sort order, cover, privacy or position (needs edit_album)."""
    album = await get_album(ctx, album_id)
    require(viewer, "edit_album", album)
    clean = clean_album_fields(fields)
    if "cover_id" in clean and clean["cover_id"] is not None:
        cover = await ctx.db.media.find_one(
            {"_id": clean["cover_id"], **contains("album_path", album["_id"])}, {"_id": 1}
        )
        if cover is None:
            raise Invalid(
                "The cover must be a media object in this album.",
                field_errors={"cover_id": "is not in this album"},
            )
    private = clean.pop("private", None)
    if clean:
        clean["updated"] = datetime.now(UTC)
        await ctx.db.albums.update_one({"_id": album["_id"]}, {"$set": clean})
    if private is not None and private != bool(album.get("private")):
        await set_private(ctx, album, private)
    renaming = "title" in clean and clean["title"] != album["title"] and album.get("parent_id")
    if renaming and (settings or {}).get("sync_dirnames_with_titles") and not read_only(ctx):
        parent = await get_album(ctx, album["parent_id"])
        siblings = await sibling_dirnames(ctx, parent, exclude_id=album["_id"])
        siblings.discard(album.get("dirname", ""))
        new_name = safe_dirname(clean["title"], siblings)
        if new_name != album.get("dirname"):
            await _relocate(ctx, album, parent, new_name)
    return await get_album(ctx, album["_id"])


async def set_private(ctx, album: dict, private: bool) -> None:
    """Make an album and everything below it private (or public)."""
    await apply_private(ctx, album, private)


# -- move ----------------------------------------------------------------------------------------


def contains(field: str, value) -> dict:
    """Filter: the array `field` holds `value`.

    Written as `$in` because nx-27017 (the embedded server) finds nothing for a plain
    equality on an indexed array field (updates and counts are fine); MongoDB treats both
    forms alike and uses the index.
    """
    return {field: {"$in": [value]}}


def _in_subtree(album_id: str) -> dict:
    return {"$or": [{"_id": album_id}, contains("ancestors", album_id)]}


async def _rewrite_prefix(
    collection, query: dict, field: str, old: list[str], new: list[str]
) -> None:
    """Replace the leading `old` ids of an id list with `new` in every matching document."""
    if old == new:
        return
    if old:
        await collection.update_many(query, {"$pullAll": {field: old}})
    if new:
        await collection.update_many(query, {"$push": {field: {"$each": new, "$position": 0}}})


async def _rewrite_paths(ctx, album_id: str, old_dir: str, new_dir: str) -> None:
    """Change the directory prefix of the subtree's albums and of its media files."""
    if old_dir == new_dir:
        return
    ops = []
    async for a in ctx.db.albums.find(contains("ancestors", album_id), {"dirpath": 1}):
        rest = (a.get("dirpath") or "")[len(old_dir) :]
        ops.append(UpdateOne({"_id": a["_id"]}, {"$set": {"dirpath": new_dir + rest}}))
        if len(ops) >= _BULK:
            await ctx.db.albums.bulk_write(ops)
            ops = []
    if ops:
        await ctx.db.albums.bulk_write(ops)
    old_prefix = f"originals/{old_dir}/"
    ops = []
    async for m in ctx.db.media.find(contains("album_path", album_id), {"original": 1}):
        path = (m.get("original") or {}).get("path") or ""
        if path.startswith(old_prefix):
            new_path = f"originals/{new_dir}/" + path[len(old_prefix) :]
            ops.append(UpdateOne({"_id": m["_id"]}, {"$set": {"original.path": new_path}}))
        if len(ops) >= _BULK:
            await ctx.db.media.bulk_write(ops)
            ops = []
    if ops:
        await ctx.db.media.bulk_write(ops)


async def _relocate(ctx, album: dict, new_parent: dict, new_dirname: str) -> None:
    """Put the album (with its subtree) below new_parent under new_dirname: disk, then DB."""
    old_dir = dirpath_of(album)
    new_dir = _join(dirpath_of(new_parent), new_dirname)
    src = album_dir(ctx, album)
    dst = ctx.storage.resolve(f"originals/{new_dir}")

    def move_dir() -> None:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            if dst.exists():
                raise Invalid("A directory with that name already exists.")
            os.rename(src, dst)
        else:
            dst.mkdir(parents=True, exist_ok=True)

    await asyncio.to_thread(move_dir)
    old_prefix = list(album.get("ancestors", []))
    new_prefix = list(new_parent.get("ancestors", [])) + [new_parent["_id"]]
    now = datetime.now(UTC)
    try:
        await ctx.db.albums.update_one(
            {"_id": album["_id"]},
            {
                "$set": {
                    "parent_id": new_parent["_id"],
                    "ancestors": new_prefix,
                    "dirname": new_dirname,
                    "dirpath": new_dir,
                    "updated": now,
                }
            },
        )
        await _rewrite_prefix(
            ctx.db.albums, contains("ancestors", album["_id"]), "ancestors", old_prefix, new_prefix
        )
        subtree = contains("album_path", album["_id"])
        for collection in (ctx.db.media, ctx.db.tag_counts):  # tag counts carry the path too
            await _rewrite_prefix(collection, subtree, "album_path", old_prefix, new_prefix)
        tagcounts.forget(ctx)
        await _rewrite_paths(ctx, album["_id"], old_dir, new_dir)
    except BaseException:
        if dst.is_dir() and not src.exists():
            with contextlib.suppress(OSError):
                os.rename(dst, src)
        raise


async def move_album(ctx, viewer: Viewer, album_id: str, new_parent_id: str) -> dict:
    """Move an album and its subtree below another album (not into itself or its descendants).

    Needs delete_album on the current parent and add_album on the new one.
    """
    album = await get_album(ctx, album_id)
    if not album.get("parent_id"):
        raise Invalid("The root album cannot be moved.")
    parent = await get_album(ctx, album["parent_id"])
    require(viewer, "view", album)
    require(viewer, "delete_album", parent, hide=False)
    new_parent = await get_album(ctx, new_parent_id)
    require(viewer, "add_album", new_parent)
    if new_parent["_id"] == album["_id"] or album["_id"] in new_parent.get("ancestors", []):
        raise Invalid(
            "An album cannot be moved into itself or one of its sub-albums.",
            field_errors={"parent_id": "is inside the album being moved"},
        )
    if new_parent["_id"] == parent["_id"]:
        return album
    require_writable(ctx, "Moving an album")  # it moves the album's directory
    name = safe_dirname(
        album.get("dirname") or album["title"], await sibling_dirnames(ctx, new_parent)
    )
    await _relocate(ctx, album, new_parent, name)
    position = await _next_position(ctx.db.albums, {"parent_id": new_parent["_id"]})
    await ctx.db.albums.update_one({"_id": album["_id"]}, {"$set": {"position": position}})
    if new_parent.get("private") and not album.get("private"):
        await set_private(ctx, await get_album(ctx, album["_id"]), True)
    return await get_album(ctx, album["_id"])


# -- delete --------------------------------------------------------------------------------------


async def delete_album(ctx, viewer: Viewer, album_id: str, *, delete_files: bool = True) -> dict:
    """Delete an album and its subtree (needs delete_album on the parent).

    Derivatives always go; originals go too unless delete_files is False (then the
    directory stays on disk and a later synchronization can bring the files back), or the
    originals are in a read-only media folder (records only, always).
    Returns counts of what was removed.
    """
    # In a read-only folder the usage counts the records (nothing of ours is on disk):
    # it goes with them, or the next synchronization would count the files again.
    records_only = read_only(ctx)
    delete_files = delete_files and not records_only
    album = await get_album(ctx, album_id)
    if not album.get("parent_id"):
        raise Invalid("The root album cannot be deleted.")
    parent = await get_album(ctx, album["parent_id"])
    require(viewer, "view", album)
    require(viewer, "delete_album", parent, hide=False)
    removed_media: list[str] = []
    derivatives = ctx.storage.derivatives
    removed_bytes = 0
    async for m in ctx.db.media.find(
        contains("album_path", album["_id"]), {"_id": 1, "original": 1}
    ):
        removed_media.append(m["_id"])
        removed_bytes += int((m.get("original") or {}).get("size") or 0)
        await asyncio.to_thread(shutil.rmtree, derivatives / m["_id"], True)
    # An album without a directory of its own (dirpath "") shares its parent's: removing
    # "its" directory would wipe the parent's originals, so its files go one by one.
    if delete_files and dirpath_of(album):
        await asyncio.to_thread(shutil.rmtree, album_dir(ctx, album), True)
    elif delete_files:
        async for m in ctx.db.media.find(contains("album_path", album["_id"]), {"original": 1}):
            path = (m.get("original") or {}).get("path")
            if path:
                with contextlib.suppress(FileNotFoundError):
                    await asyncio.to_thread(ctx.storage.resolve(path).unlink)
    media_result = await ctx.db.media.delete_many(contains("album_path", album["_id"]))
    await tagcounts.album_deleted(ctx, album["_id"])
    albums_result = await ctx.db.albums.delete_many(_in_subtree(album["_id"]))
    if (delete_files or records_only) and removed_bytes:
        await add_usage(ctx, -removed_bytes)
    for i in range(0, len(removed_media), _BULK):
        await ctx.db.albums.update_many(
            {"cover_id": {"$in": removed_media[i : i + _BULK]}}, {"$set": {"cover_id": None}}
        )
        # Members' votes on them (gallery/library/ratings.py).
        await ctx.db.ratings.delete_many({"media_id": {"$in": removed_media[i : i + _BULK]}})
    return {"albums": albums_result.deleted_count, "media": media_result.deleted_count}
