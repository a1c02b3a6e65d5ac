"""What a gallery's settings do to an original as it comes in, once, at its first processing
(issue 18, item 7; GSP's OriginalImageJpegQuality and DiscardOriginalImageDuringImport):

- `original_jpeg_quality` (0: off): a JPEG original is written again at that quality,
  metadata kept, only when that makes it smaller (media/originals.py);
- `discard_originals` (off): a photo that gets an optimized copy keeps that copy as its
  original instead: the copy moves to the original's place (a HEIC or TIFF becomes a JPEG
  or WebP there), the record says what was discarded (`original.discarded`), and every
  route that serves originals (download, ZIP, view original, backup) serves that copy.

Every way in (upload, tus, ZIP import, synchronization, file replacement) marks a new
image original with `original.prepare` (gallery.library.media.intake_mark; a GSP import,
a restore and a copy do not); its processing claims the mark with one atomic
update, so of two processings of one item exactly one changes the file, and remaking
derivatives later never does. Size, hash, mtime (so a synchronization finds the file
unchanged) and the gallery's usage counter follow the new file. A read-only media folder
is never written: its originals stay as they are. Whatever goes wrong leaves the original.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from gallery.library.filenames import place_file
from gallery.library.keywords import keyword_fields
from gallery.media_folder import read_only
from gallery.processing.derivatives import _in_pool
from gallery.usage import add_usage

log = logging.getLogger("atrium.processing")

PREPARE = "original.prepare"
_MIME = {"jpg": "image/jpeg", "webp": "image/webp"}
_SAME = {"jpg": {"jpg", "jpeg", "jpe"}, "webp": {"webp"}}


def wanted(settings: dict) -> bool:
    return bool(int(settings.get("original_jpeg_quality") or 0) or settings.get("discard_originals"))


async def _claim(ctx, media: dict) -> bool:
    if not (media.get("original") or {}).get("prepare"):
        return False
    result = await ctx.db.media.update_one(
        {"_id": media["_id"], PREPARE: True}, {"$unset": {PREPARE: ""}}
    )
    return result.modified_count == 1


async def apply_intake(ctx, services, media: dict, settings: dict, made, update: dict) -> None:
    """After an image's derivatives (`made`) and metadata are made: change its original as
    the settings ask, once. Changes `update` (the processing's `$set`) to match."""
    if not await _claim(ctx, media) or not wanted(settings) or read_only(ctx):
        return
    from media.errors import MediaError
    from media.originals import Kept

    try:
        if settings.get("discard_originals") and made.optimized_path:
            await _discard(ctx, services, media, settings, made, update)
        elif int(settings.get("original_jpeg_quality") or 0) and media.get("mime") == "image/jpeg":
            await _reencode(ctx, services, media, int(settings["original_jpeg_quality"]))
    except (Kept, MediaError) as exc:
        log.info("media %s of %s keeps its original: %s", media["_id"], ctx.slug,
                 getattr(exc, "reason", None) or exc)
    except OSError as exc:  # the derivatives are made: the item is ready with its original
        log.warning("media %s of %s keeps its original: %s", media["_id"], ctx.slug, exc)


async def _reencode(ctx, services, media: dict, quality: int) -> None:
    from media.originals import reencode_jpeg

    src = ctx.storage.resolve(media["original"]["path"])
    tmp = ctx.storage.temp_path(".jpg")
    try:
        seen = await asyncio.to_thread(_seen, src)
        new = await _in_pool(services, reencode_jpeg, str(src), str(tmp), quality)
        await asyncio.to_thread(shutil.copymode, src, tmp)  # the owner's file keeps its mode
        await asyncio.to_thread(_replace, tmp, src, seen)
    finally:
        await asyncio.to_thread(_unlink, tmp)
    await _record(ctx, media, media["original"]["path"], src, new, {
        "original.reencoded": {"quality": quality, **_was(media)},
    })


async def _discard(ctx, services, media: dict, settings: dict, made, update: dict) -> None:
    from media.originals import keep_optimized

    old_rel = media["original"]["path"]
    src = ctx.storage.resolve(old_rel)
    ext = "webp" if settings.get("derivative_format") == "webp" else "jpg"
    tmp = ctx.storage.temp_path("." + ext)
    try:
        seen = await asyncio.to_thread(_seen, src)
        new = await _in_pool(services, keep_optimized, str(src), made.optimized_path, str(tmp),
                             int(settings.get("optimized_quality") or 85))
        await asyncio.to_thread(shutil.copymode, src, tmp)  # the owner's file keeps its mode
        if src.suffix.lower().lstrip(".") in _SAME[ext]:
            await asyncio.to_thread(_replace, tmp, src, seen)
            target, rel = src, old_rel
        else:  # a new name beside it (never over another file), then the old one goes
            target = await asyncio.to_thread(place_file, tmp, src.parent, f"{src.stem}.{ext}")
            rel = str(PurePosixPath(old_rel).parent / target.name)
    finally:
        await asyncio.to_thread(_unlink, tmp)
    file_name = media.get("file_name") or target.name
    if not file_name.lower().endswith(tuple("." + e for e in _SAME[ext])):
        file_name = f"{file_name.rsplit('.', 1)[0]}.{ext}"
    changes = {
        "original.discarded": {**_was(media), "file_name": media.get("file_name"),
                               "mime": media.get("mime"), "width": made.width,
                               "height": made.height},
        "mime": _MIME[ext], "extension": ext, "file_name": file_name,
        # The kept copy's pixels are upright with any rotation of the copy already in them.
        "transform": None,
        **keyword_fields({**media, "file_name": file_name}),
    }
    if not await _record(ctx, media, rel, target, new, changes):
        return
    if target != src:
        await asyncio.to_thread(_unlink, src)
    await asyncio.to_thread(_unlink, made.optimized_path)
    derivatives = dict(update.get("derivatives") or {})
    derivatives.pop("optimized", None)
    update.update(derivatives=derivatives, width=new.width, height=new.height)


def _was(media: dict) -> dict:
    original = media.get("original") or {}
    return {"size": original.get("size"), "sha256": original.get("sha256"),
            "at": datetime.now(UTC)}


async def _record(ctx, media: dict, rel: str, path: Path, new, changes: dict) -> bool:
    """Point the record at the new file (only if it still describes the old one) and count
    the bytes saved. The mtime is kept too, so a synchronization sees an unchanged file."""
    original = media["original"]
    stat = await asyncio.to_thread(path.stat)
    result = await ctx.db.media.update_one(
        {"_id": media["_id"], "original.path": original["path"],
         "original.sha256": original.get("sha256")},
        {"$set": {"original.path": rel, "original.size": new.size,
                  "original.sha256": new.sha256, "original.mtime_ns": stat.st_mtime_ns,
                  "updated": datetime.now(UTC), **changes}},
    )
    if not result.matched_count:
        log.warning("media %s of %s changed while its original was rewritten", media["_id"], ctx.slug)
        now = await ctx.db.media.find_one({"_id": media["_id"]}, {"original.path": 1})
        if now is None or (now.get("original") or {}).get("path") != rel:
            await asyncio.to_thread(_unlink, path)  # deleted or replaced: a file for nobody
        return False
    await add_usage(ctx, new.size - int(original.get("size") or 0))
    return True


def _seen(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _replace(tmp: Path, src: Path, seen: tuple[int, int]) -> None:
    """Put the new file in the original's place, unless the original changed meanwhile
    (a synchronization's newer file, say): that one is never overwritten."""
    from media.originals import Kept

    try:
        now = _seen(src)
    except FileNotFoundError:
        raise Kept("the original is gone") from None
    if now != seen:
        raise Kept("the original changed while it was being rewritten")
    os.replace(tmp, src)


def _unlink(path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
