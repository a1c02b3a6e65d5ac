"""Getting a file into an album: type by content, limits, a clean name, an atomic move, a record.

Every way in (browser upload, tus, ZIP import, synchronization) ends here with a complete
file under `tmp/` and its size and SHA-256. `ingest_file` either moves that file into
`originals/<album dirpath>/` and inserts a pending media object, or deletes it and raises:
the temp file is always consumed, so callers never leak bytes in `tmp/`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from pymongo import ReturnDocument

from gallery import settings as gallery_settings
from gallery.errors import Conflict, Invalid, TooLarge, Unsupported
from gallery.ids import new_id
from media.errors import MediaError, UnsupportedMedia
from media.sniff import MIME_TYPES, Sniffed, check_allowed, sniff

log = logging.getLogger("atrium.ingest")

MEDIA_VERSION = 1
USAGE_ID = "usage"
MAX_NAME = 200
MAX_NAME_BYTES = 240

# Extensions people use for a type whose canonical extension (media.sniff) differs.
_ALIASES = {
    "jpeg": "jpg",
    "jpe": "jpg",
    "jfif": "jpg",
    "tiff": "tif",
    "heif": "heic",
    "htm": "html",
    "mpeg": "mpg",
    "oga": "ogg",
    "ogv": "ogg",
    "qt": "mov",
    "mpga": "mp3",
}
# Every extension media.sniff can name, plus the aliases people use for them.
_KNOWN_EXTENSIONS = {ext for _kind, ext in MIME_TYPES.values() if ext} | set(_ALIASES)
# C0/C1 control characters, and characters Windows or shells treat specially.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_RESERVED = re.compile(r'[<>:"|?*]')


# -- usage and quota --------------------------------------------------------------------
async def current_usage(ctx) -> int:
    """Bytes of originals this tenant stores (a counter kept by add_usage, not a disk walk)."""
    doc = await ctx.db.meta.find_one({"_id": USAGE_ID})
    return int(doc.get("bytes", 0)) if doc else 0


async def add_usage(ctx, delta: int) -> int:
    """Change the usage counter by `delta` bytes (negative when files go away); returns it."""
    doc = await ctx.db.meta.find_one_and_update(
        {"_id": USAGE_ID},
        {"$inc": {"bytes": int(delta)}, "$set": {"version": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return int(doc.get("bytes", 0))


def quota_bytes(ctx) -> int:
    """The tenant's quota in bytes; 0 means unlimited."""
    return int(ctx.record.get("quota_bytes") or 0)


async def check_quota(ctx, incoming: int) -> None:
    """Raise TooLarge when `incoming` more bytes would not fit in the tenant's quota."""
    quota = quota_bytes(ctx)
    if quota and await current_usage(ctx) + incoming > quota:
        raise TooLarge(_quota_message(quota))


async def _reserve(ctx, size: int) -> None:
    """Count `size` bytes against the quota atomically (no two uploads both take the last MB)."""
    quota = quota_bytes(ctx)
    total = await add_usage(ctx, size)
    if quota and total > quota:
        await add_usage(ctx, -size)
        raise TooLarge(_quota_message(quota))


def _quota_message(quota: int) -> str:
    return f"This gallery's storage quota ({_mb(quota)}) is used up; the file does not fit."


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def upload_limit(settings: dict) -> int:
    """The largest file one upload may carry, in bytes."""
    return int(settings.get("max_upload_mb", 2048)) * 1024 * 1024


def check_size(settings: dict, size: int) -> None:
    limit = upload_limit(settings)
    if size > limit:
        raise TooLarge(
            f"The file is {_mb(size)}; this gallery accepts files of at most {_mb(limit)}."
        )


# -- names --------------------------------------------------------------------------------
def clean_file_name(name: str | None, extension: str = "") -> str:
    """A safe file name: no directories, control characters or reserved characters, at most
    200 characters, ending in the sniffed type's extension (`extension`, canonical, no dot)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _RESERVED.sub("_", _CONTROL.sub("", name))
    name = " ".join(name.split()).strip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext_key = ext.lower()
    if extension and _ALIASES.get(ext_key, ext_key) != extension:
        if ext_key in _KNOWN_EXTENSIONS or not ext:
            ext = extension  # a wrong media extension is replaced
        else:
            stem, ext = name, extension  # "my.holiday" -> "my.holiday.jpg"
    stem = stem.strip(". ") or "file"
    if len(ext) > 16:
        stem, ext = f"{stem}.{ext}", ""
    room = MAX_NAME - (len(ext) + 1 if ext else 0)
    stem = stem[:room]
    # File systems count bytes (255 on most): leave room for " (99)" as well.
    suffix = len(ext.encode()) + 1 if ext else 0
    while len(stem.encode()) + suffix > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(". ") or "file"
    return f"{stem}.{ext}" if ext else stem


def clean_dir_name(name: str) -> str:
    """A safe directory name for an album (same rules as files, no extension handling)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").replace("/", "_")
    name = _RESERVED.sub("_", _CONTROL.sub("", name))
    name = " ".join(name.split()).strip(". ")[:MAX_NAME]
    while len(name.encode()) > MAX_NAME_BYTES:
        name = name[:-1]
    return name.rstrip(". ") or "album"


def _numbered(name: str, n: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"


def place_file(src: Path, directory: Path, name: str) -> Path:
    """Move `src` into `directory` under `name`, or "name (2)" etc.; never overwrite.

    A hard link refuses an existing target atomically, so two uploads racing for one name
    both land; where links are not supported, fall back to an existence check + rename.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = directory / (name if n == 1 else _numbered(name, n))
        try:
            os.link(src, candidate)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            if candidate.exists():
                continue
            os.replace(src, candidate)
            return candidate
        os.unlink(src)
        return candidate
    raise Conflict("Too many files with this name in the album.")


async def album_dirpath(ctx, album: dict) -> str:
    """The album's directory under originals/ (documents without `dirpath` get it from ancestors)."""
    if "dirpath" in album:
        return album["dirpath"] or ""
    if not album.get("parent_id"):
        return ""
    ids = list(album.get("ancestors", []))
    found = {a["_id"]: a for a in await ctx.db.albums.find({"_id": {"$in": ids}}).to_list()}
    parts = [found[i].get("dirname") or "" for i in ids if i in found] + [
        album.get("dirname") or ""
    ]
    return "/".join(p for p in parts if p)


# -- the media document -------------------------------------------------------------------
def media_document(
    album: dict,
    user: dict | None,
    *,
    kind: str,
    mime: str,
    extension: str,
    file_name: str,
    title: str,
    caption: str = "",
    tags=None,
    position: int = 0,
    original: dict | None = None,
    state: str = "pending",
) -> dict:
    """A media object as docs/data-model.md describes it."""
    user_id = user["_id"] if user else None
    return {
        "_id": new_id(),
        "album_id": album["_id"],
        "album_path": list(album.get("ancestors", [])) + [album["_id"]],
        "private": bool(album.get("private")),
        "kind": kind,
        "mime": mime,
        "extension": extension,
        "title": title,
        "caption": caption or "",
        "tags": list(tags or []),
        "file_name": file_name,
        "original": original,
        "content_hash": original["sha256"] if original else None,
        "width": None,
        "height": None,
        "duration": None,
        "date_taken": None,
        "date_added": datetime.now(UTC),
        "position": position,
        "state": state,
        "failure": None,
        "derivatives": {},
        "metadata": {},
        "owner_id": user_id,
        "uploaded_by": user_id,
        "version": MEDIA_VERSION,
    }


async def next_position(ctx, album_id: str) -> int:
    last = (
        await ctx.db.media.find({"album_id": album_id}, {"position": 1})
        .sort("position", -1)
        .limit(1)
        .to_list()
    )
    return (int(last[0].get("position") or 0) + 1) if last else 0


def _clean_tags(tags) -> list[str]:
    if not tags:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    return list(dict.fromkeys(t.strip()[:100] for t in tags if isinstance(t, str) and t.strip()))[
        :100
    ]


async def enqueue_processing(ctx, services, media_id: str) -> None:
    """Queue `media.process`; a web-only process (no workers here) still queues it for others."""
    if services is None:
        return
    if services.jobs is not None:
        await services.jobs.enqueue(ctx.slug, "media.process", {"media_id": media_id})
        return
    from server.jobs import JobQueue

    config = services.config
    queue = JobQueue(services.host_db, config.jobs.lease_seconds, config.jobs.max_attempts)
    await queue.enqueue(ctx.slug, "media.process", {"media_id": media_id})


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- ingest -------------------------------------------------------------------------------
async def sniff_file(path) -> Sniffed:
    try:
        return await asyncio.to_thread(sniff, path)
    except MediaError as exc:
        raise Unsupported(exc.reason) from None


async def ingest_file(
    ctx,
    services,
    viewer_user,
    album,
    tmp_path,
    original_name,
    *,
    size,
    sha256,
    title=None,
    caption=None,
    tags=None,
) -> dict:
    """Turn a complete temp file into a pending media object of `album`; returns its document.

    The caller has checked permissions. Raises Invalid (empty), Unsupported (type not
    allowed; the message names the detected type), TooLarge (size or quota) or Conflict
    (duplicates=skip and the same content is in the album). The temp file is consumed.
    """
    tmp_path = Path(tmp_path)
    reserved = 0
    try:
        settings = await gallery_settings.get_settings(ctx)
        if size == 0:
            raise Invalid("This file is empty.")
        check_size(settings, size)
        sniffed = await sniff_file(tmp_path)
        try:
            check_allowed(sniffed, settings.get("allowed_extensions") or ())
        except UnsupportedMedia as exc:
            raise Unsupported(exc.reason) from None
        if settings.get("duplicates") == "skip":
            existing = await ctx.db.media.find_one(
                {"album_id": album["_id"], "content_hash": sha256}
            )
            if existing:
                raise Conflict(
                    f"This file is already in the album as \u201c{existing.get('file_name')}\u201d "
                    f"(media {existing['_id']}); duplicates are skipped."
                )
        await _reserve(ctx, size)
        reserved = size
        name = clean_file_name(original_name, sniffed.extension)
        dirpath = await album_dirpath(ctx, album)
        directory = ctx.storage.resolve("originals/" + dirpath if dirpath else "originals")
        placed = await asyncio.to_thread(place_file, tmp_path, directory, name)
        relative = placed.relative_to(ctx.storage.path.resolve()).as_posix()
    except BaseException:
        await asyncio.to_thread(_unlink, tmp_path)
        if reserved:
            await add_usage(ctx, -reserved)
        raise
    try:
        doc = media_document(
            album,
            viewer_user,
            kind=sniffed.kind,
            mime=sniffed.mime,
            extension=sniffed.extension,
            file_name=placed.name,
            title=(title or "").strip()[:500] or placed.name.rsplit(".", 1)[0],
            caption=(caption or "")[:10_000],
            tags=_clean_tags(tags),
            position=await next_position(ctx, album["_id"]),
            original={"path": relative, "size": size, "sha256": sha256},
        )
        await ctx.db.media.insert_one(doc)
    except BaseException:
        await asyncio.to_thread(_unlink, placed)
        await add_usage(ctx, -size)
        raise
    try:
        await enqueue_processing(ctx, services, doc["_id"])
    except Exception:
        log.exception("could not queue processing of media %s", doc["_id"])
    return doc
