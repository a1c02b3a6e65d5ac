"""Media objects: one file in an album plus its derivatives and metadata.

A media object carries `album_path` (the album's ancestors and the album) and `private`
(copied from the album), so permission checks never load the album: `media_scope()`
gives `gallery.people.permissions` an album-shaped view of the media object.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from gallery.errors import Invalid, NotFound
from gallery.i18n import Message
from gallery.ids import is_id, new_id
from gallery.intake import sync_state
from gallery.library import meta_edits, tagcounts
from gallery.library.albums import album_dir, dirpath_of, get_album
from gallery.library.filenames import clean_file_name, place_file
from gallery.library.keywords import keyword_fields
from gallery.library.media_access import media_scope
from gallery.library.people import clean_people, people_fields
from gallery.library.tags import clean_tags, tag_fields
from gallery.library.transforms import combine_transform, transform_arguments
from gallery.media_folder import read_only, require_writable
from gallery.people.permissions import Viewer, require, require_copy
from gallery.usage import add_usage

MEDIA_VERSION = 1
KINDS = ("image", "video", "audio", "document", "other", "external")
STATES = ("pending", "ready", "failed")
MAX_TITLE = 200
MAX_CAPTION = 10_000
MAX_FILE_NAME = 150


# -- documents -------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """The clean name a media object's file keeps (gallery.library.filenames rules, shorter cap)."""
    return clean_file_name(name, max_length=MAX_FILE_NAME)


def media_document(
    album: dict,
    *,
    file_name: str,
    kind: str,
    mime: str,
    extension: str,
    original_path: str | None,
    size: int = 0,
    sha256: str | None = None,
    owner_id: str | None = None,
    uploaded_by: str | None = None,
    title: str = "",
    caption: str = "",
    tags=(),
    position: int = 0,
    state: str = "pending",
    fresh: bool = False,
) -> dict:
    """A new media object's document. `fresh`: its file has just come in, so the gallery's
    intake settings apply to it once, at its first processing (gallery/processing/originals.py)."""
    now = datetime.now(UTC)
    doc = {
        "_id": new_id(),
        "album_id": album["_id"],
        "album_path": list(album.get("ancestors", [])) + [album["_id"]],
        "private": bool(album.get("private")),
        "kind": kind if kind in KINDS else "other",
        "mime": mime,
        "extension": extension,
        "title": title or "",
        "caption": caption or "",
        **tag_fields(list(tags)),
        "file_name": file_name,
        "original": {"path": original_path, "size": size, "sha256": sha256, **intake_mark(kind, fresh)},
        "content_hash": sha256,
        "width": None,
        "height": None,
        "duration": None,
        "date_taken": None,
        "taken_key": "",  # the timeline's order (media.dates.taken_key): undated until processed
        "taken": None,  # processing fills it from the file (media/dates.py)
        "date_added": now,
        "updated": now,
        "position": position,
        "state": state,
        "failure": None,
        "derivatives": {},
        "metadata": {},
        "owner_id": owner_id,
        "uploaded_by": uploaded_by or owner_id,
        "version": MEDIA_VERSION,
    }
    doc.update(keyword_fields(doc))
    return doc


def intake_mark(kind: str, fresh: bool = True) -> dict:
    """The mark of a new image original its first processing looks for (and removes)."""
    return {"prepare": True} if fresh and kind == "image" else {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _place(ctx, folder: Path, file_name: str, source: Path, copy: bool) -> str:
    """Put `source` into `folder` under a free, clean name (never overwriting); return it.

    A copy is made in tmp/ first, so only complete files ever appear in originals/.
    """
    if copy:
        tmp = ctx.storage.temp_path()
        shutil.copyfile(source, tmp)
        source = tmp
    try:
        return place_file(source, folder, safe_filename(file_name)).name
    except BaseException:
        if copy:
            with contextlib.suppress(OSError):
                os.unlink(source)
        raise


def _original_rel(album: dict, name: str) -> str:
    folder = dirpath_of(album)
    return f"originals/{folder}/{name}" if folder else f"originals/{name}"


async def next_position(ctx, album_id: str) -> int:
    last = (
        await ctx.db.media.find({"album_id": album_id}, {"position": 1})
        .sort("position", -1)
        .limit(1)
        .to_list()
    )
    return (last[0].get("position", 0) + 1) if last else 0


async def add_media_file(
    ctx,
    album: dict,
    source,
    file_name: str,
    *,
    owner_id: str | None = None,
    title: str = "",
    caption: str = "",
    tags=None,
    sniffed=None,
    copy: bool = False,
) -> dict:
    """Store a file in the album's directory and insert a pending media object for it.

    The type is decided by content (media.sniff) unless the caller already sniffed it.
    The caller enqueues processing (enqueue_processing).
    """
    require_writable(ctx, "Adding files")
    source = Path(source)
    if sniffed is None:
        from media.sniff import sniff

        sniffed = await asyncio.to_thread(sniff, source)
    folder = album_dir(ctx, album)
    name = await asyncio.to_thread(_place, ctx, folder, file_name, source, copy)
    stored = folder / name
    size = (await asyncio.to_thread(stored.stat)).st_size
    sha = await asyncio.to_thread(_sha256, stored)
    doc = media_document(
        album,
        file_name=safe_filename(file_name),
        kind=sniffed.kind,
        mime=sniffed.mime,
        extension=sniffed.extension,
        original_path=_original_rel(album, name),
        size=size,
        sha256=sha,
        owner_id=owner_id,
        title=title,
        caption=caption,
        tags=clean_tags(tags),
        position=await next_position(ctx, album["_id"]),
        fresh=True,
    )
    await ctx.db.media.insert_one(doc)
    await tagcounts.media_added(ctx, doc)
    await count_usage(ctx, size)
    return doc


# -- reading ---------------------------------------------------------------------------------


async def get_media(ctx, media_id) -> dict:
    media = await ctx.db.media.find_one({"_id": media_id}) if is_id(media_id) else None
    if media is None:
        raise NotFound("No such album or media object.")
    return media


async def viewable_media(ctx, viewer: Viewer, media_id, permission: str = "view") -> dict:
    media = await get_media(ctx, media_id)
    require(viewer, permission, media_scope(media))
    return media


# -- editing ---------------------------------------------------------------------------------


def clean_media_fields(changes: dict) -> dict:
    errors: dict[str, str] = {}
    clean: dict = {}
    for key, value in changes.items():
        if key == "title":
            if not isinstance(value, str) or len(value) > MAX_TITLE:
                errors[key] = Message("must be text of at most %(count)s characters", count=MAX_TITLE)
            else:
                clean[key] = " ".join(value.split())
        elif key == "caption":
            if not isinstance(value, str) or len(value) > MAX_CAPTION:
                errors[key] = Message("must be text of at most %(count)s characters", count=MAX_CAPTION)
            else:
                clean[key] = value.strip()
        elif key == "tags":
            try:
                clean.update(tag_fields(clean_tags(value)))
            except Invalid as exc:
                errors.update(exc.field_errors)
        elif key == "people":
            try:
                clean.update(people_fields(clean_people(value)))
            except Invalid as exc:
                errors.update(exc.field_errors)
        elif key == "position":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
                errors[key] = Message("must be a whole number >= 0")
            else:
                clean[key] = value
        else:
            errors[key] = Message("cannot be changed here")
    if errors:
        raise Invalid("Please correct the marked fields.", field_errors=errors)
    return clean


async def update_media(ctx, viewer: Viewer, media_id: str, fields: dict) -> dict:
    """Edit title, caption, tags, position or corrected metadata fields (needs edit_media)."""
    media = await viewable_media(ctx, viewer, media_id, "edit_media")
    clean = clean_media_fields({k: v for k, v in fields.items() if k != "meta_edits"})
    edits = await meta_edits.edit_update(ctx, media, fields["meta_edits"]) if "meta_edits" in fields else {}
    if clean or edits:
        clean["updated"] = datetime.now(UTC)
        merged = {**media, **clean, "meta_edits": {**(media.get("meta_edits") or {}),
                                                   **{k.split(".", 1)[1]: v for k, v in edits.items()}}}
        clean.update(keyword_fields(merged), **edits)
        await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": clean})
        if "tags" in clean:
            await tagcounts.media_retagged(ctx, media, clean["tags"])
    return await get_media(ctx, media["_id"])


async def _clear_covers(ctx, media_id: str, keep_album_ids=()) -> None:
    query: dict = {"cover_id": media_id}
    if keep_album_ids:
        query["_id"] = {"$nin": list(keep_album_ids)}
    await ctx.db.albums.update_many(query, {"$set": {"cover_id": None}})


async def move_media(ctx, viewer: Viewer, media_id: str, album_id: str) -> dict:
    """Move a media object (and its file) to another album.

    Needs delete_media where it is and add_media where it goes.
    """
    media = await viewable_media(ctx, viewer, media_id, "delete_media")
    album = await get_album(ctx, album_id)
    require(viewer, "add_media", album)
    if album["_id"] == media["album_id"]:
        return media
    require_writable(ctx, "Moving media")  # its file moves with it
    original = media.get("original") or {}
    update = {
        "album_id": album["_id"],
        "album_path": list(album.get("ancestors", [])) + [album["_id"]],
        "private": bool(album.get("private")),
        "position": await next_position(ctx, album["_id"]),
        "updated": datetime.now(UTC),
    }
    if original.get("path"):
        src = ctx.storage.resolve(original["path"])
        if await asyncio.to_thread(src.is_file):
            name = await asyncio.to_thread(_place, ctx, album_dir(ctx, album), src.name, src, False)
            update["original.path"] = _original_rel(album, name)
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": update})
    await tagcounts.media_moved(ctx, media, album)
    await _clear_covers(ctx, media["_id"], keep_album_ids=update["album_path"])
    return await get_media(ctx, media["_id"])


async def copy_media_record(
    ctx, media: dict, album: dict, *, owner_id: str | None, keep_position: bool = False
) -> dict:
    """Copy a media object's record, original and derivatives into `album` (no
    permission checks)."""
    require_writable(ctx, "Copying media")
    new = dict(media)
    new_id_ = new_id()
    now = datetime.now(UTC)
    new.update(
        _id=new_id_,
        album_id=album["_id"],
        album_path=list(album.get("ancestors", [])) + [album["_id"]],
        private=bool(album.get("private")),
        date_added=now,
        updated=now,
        owner_id=owner_id,
    )
    if not keep_position:
        new["position"] = await next_position(ctx, album["_id"])
    # Members' votes stay with the original (gallery/library/ratings.py): the copy starts
    # with none, showing the file's own rating if it has one.
    new.pop("rating_sum", None)
    new.pop("rating_count", None)
    own = new.get("rating")
    new["rating_avg"] = float(own) if isinstance(own, int) and 1 <= own <= 5 else None
    original = dict(media.get("original") or {})
    # A copy is not a file coming in: its later processing must not rewrite it.
    original.pop("prepare", None)
    if original.get("path"):
        src = ctx.storage.resolve(original["path"])
        if await asyncio.to_thread(src.is_file):
            name = await asyncio.to_thread(_place, ctx, album_dir(ctx, album), src.name, src, True)
            original["path"] = _original_rel(album, name)
    new["original"] = original
    derivatives = {}
    src_dir = ctx.storage.derivatives / media["_id"]
    if await asyncio.to_thread(src_dir.is_dir):
        dst_dir = ctx.storage.derivatives / new_id_
        tmp = ctx.storage.temp_path()
        await asyncio.to_thread(shutil.copytree, src_dir, tmp)
        await asyncio.to_thread(os.replace, tmp, dst_dir)
        for key, info in (media.get("derivatives") or {}).items():
            info = dict(info)
            if info.get("path", "").startswith(f"derivatives/{media['_id']}/"):
                info["path"] = f"derivatives/{new_id_}/" + info["path"].rsplit("/", 1)[-1]
            derivatives[key] = info
    new["derivatives"] = derivatives
    new.update(keyword_fields(new))
    await ctx.db.media.insert_one(new)
    await tagcounts.media_added(ctx, new)
    await count_usage(ctx, int(original.get("size") or 0))
    return new


async def copy_media(ctx, viewer: Viewer, media_id: str, album_id: str) -> dict:
    """Copy a media object into another album (needs view_original here, add_media there)."""
    media = await viewable_media(ctx, viewer, media_id)
    album = await get_album(ctx, album_id)
    require_copy(viewer, media_scope(media), album, what="media")
    return await copy_media_record(ctx, media, album, owner_id=(viewer.user or {}).get("_id"))


async def count_usage(ctx, delta: int) -> None:
    """Keep the tenant's storage usage counter in step with originals added or removed."""
    if delta:
        await add_usage(ctx, delta)


async def remove_media_files(ctx, media: dict) -> None:
    """Delete a media object's original (never in a read-only media folder) and its
    derivatives directory."""
    path = (media.get("original") or {}).get("path")
    if path and not read_only(ctx):
        target = ctx.storage.resolve(path)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(target.unlink)
    await asyncio.to_thread(shutil.rmtree, ctx.storage.derivatives / media["_id"], True)


async def delete_media(ctx, viewer: Viewer, media_id: str) -> None:
    """Delete a media object, its original and its derivatives (needs delete_media)."""
    media = await viewable_media(ctx, viewer, media_id, "delete_media")
    if (await ctx.db.media.delete_one({"_id": media["_id"]})).deleted_count:
        await tagcounts.media_removed(ctx, media)
        await ctx.db.ratings.delete_many({"media_id": media["_id"]})  # members' votes on it
    if read_only(ctx):
        # Its file stays: the directory's recorded listing no longer matches its records,
        # so the next synchronization looks at it in full (and brings the file back).
        await sync_state.forget(ctx, [media["album_id"]])
    await remove_media_files(ctx, media)
    await count_usage(ctx, -int((media.get("original") or {}).get("size") or 0))
    await _clear_covers(ctx, media["_id"])


# -- processing requests ---------------------------------------------------------------------


async def enqueue_processing(ctx, queue, media_id: str, **extra) -> str:
    """Queue "media.process" for a media object (queue: a JobQueue or JobRunner).
    By job kind: gallery.processing.process registers the handler and sits above this module."""
    payload = {"media_id": media_id, **{k: v for k, v in extra.items() if v}}
    return await queue.enqueue(ctx.slug, "media.process", payload)


async def rotate_media(
    ctx, viewer: Viewer, media_id: str, queue, *, rotate: int = 0, flip: str | None = None
) -> dict:
    """Rotate/flip an image's derivatives (the original stays as it is); re-processes it."""
    media = await viewable_media(ctx, viewer, media_id, "edit_media")
    if media.get("kind") != "image":
        raise Invalid("Only images can be rotated or flipped.")
    transform = combine_transform(media.get("transform"), rotate, flip)
    await ctx.db.media.update_one(
        {"_id": media["_id"]},
        {
            "$set": {
                "transform": transform,
                "state": "pending",
                "failure": None,
                "updated": datetime.now(UTC),
            }
        },
    )
    await enqueue_processing(ctx, queue, media["_id"], **transform_arguments(transform))
    return await get_media(ctx, media["_id"])


async def replace_file(
    ctx, viewer: Viewer, media_id: str, source, file_name: str, queue, *, sniffed=None
) -> dict:
    """Replace a media object's original file, keeping its record; re-processes it."""
    media = await viewable_media(ctx, viewer, media_id, "edit_media")
    require_writable(ctx, "Replacing a file")
    album = await get_album(ctx, media["album_id"])
    source = Path(source)
    if sniffed is None:
        from media.sniff import sniff

        sniffed = await asyncio.to_thread(sniff, source)
    name = await asyncio.to_thread(_place, ctx, album_dir(ctx, album), file_name, source, False)
    stored = album_dir(ctx, album) / name
    size = (await asyncio.to_thread(stored.stat)).st_size
    sha = await asyncio.to_thread(_sha256, stored)
    old_path = (media.get("original") or {}).get("path")
    await ctx.db.media.update_one(
        {"_id": media["_id"]},
        {
            "$set": {
                "original": {"path": _original_rel(album, name), "size": size, "sha256": sha,
                             **intake_mark(sniffed.kind)},
                "content_hash": sha,
                "kind": sniffed.kind,
                "mime": sniffed.mime,
                "extension": sniffed.extension,
                "file_name": safe_filename(file_name),
                "state": "pending",
                "failure": None,
                "transform": None,
                "derivatives": {},
                "updated": datetime.now(UTC),
                **keyword_fields({**media, "file_name": safe_filename(file_name)}),
            }
        },
    )
    if old_path and old_path != _original_rel(album, name):
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(ctx.storage.resolve(old_path).unlink)
    await asyncio.to_thread(shutil.rmtree, ctx.storage.derivatives / media["_id"], True)
    await enqueue_processing(ctx, queue, media["_id"])
    return await get_media(ctx, media["_id"])


async def set_cover(ctx, viewer: Viewer, media_id: str, album_id: str | None = None) -> dict:
    """Make a media object the cover of its album (or of an album above it)."""
    media = await viewable_media(ctx, viewer, media_id)
    album = await get_album(ctx, album_id or media["album_id"])
    require(viewer, "edit_album", album)
    if album["_id"] not in (media.get("album_path") or []):
        raise Invalid(
            "The cover must be a media object in this album.",
            field_errors={"album_id": "does not contain this media object"},
        )
    await ctx.db.albums.update_one(
        {"_id": album["_id"]}, {"$set": {"cover_id": media["_id"], "updated": datetime.now(UTC)}}
    )
    return await get_album(ctx, album["_id"])
