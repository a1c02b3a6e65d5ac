"""Watermarked copies: which files need one, making them once, cleaning old ones up.

A visitor without `hide_watermark` on a media object's album never gets the clean
pixels of a watermarked kind (optimized copies and originals shown in the browser of
images, the poster, cover art or first page of video, audio and PDF; thumbnails too when
the setting says so): every route that returns image bytes
asks `needs_watermark()` and serves `watermarked()` instead. The copy is made lazily,
once per (media object, variant, source file, settings version), in the process pool
(media/watermark.py), and kept beside the derivatives as
`derivatives/<id>/wm-<version>-<variant>-<source key>.<ext>`. A settings change gives a
new version: new copies are made as they are asked for (no re-render storm), and the
"watermarks.cleanup" job removes the copies no current request would use.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from datetime import UTC, datetime

from gallery.library.media_access import media_scope
from gallery.people.permissions import Viewer, can
from gallery.settings import SETTINGS, get_settings
from gallery.library.transforms import transform_arguments
from jobs import queue as jobs
from jobs.queue import JobContext

log = logging.getLogger("atrium.watermarks")

RENDERER_VERSION = 1  # bump when media/watermark.py draws differently
KEYS = tuple(s.key for s in SETTINGS if s.key.startswith("watermark_"))
# What else changes the bytes of a watermarked copy.
_OUTPUT_KEYS = ("derivative_format", "optimized_quality", "thumbnail_quality", "optimized_size",
                "thumbnail_size")
IMAGE_DIR = "watermarks"  # <storage root>/watermarks/<sha256>.png: uploaded stamp images
CLEANUP_DELAY = 30.0  # > the settings cache (5 s): no process still renders the old version
MAX_IMAGE_BYTES = 900 * 1024  # under the 1 MB form body limit (limits.max_form_kb)
_MIME = {"jpeg": "image/jpeg", "webp": "image/webp"}
_EXT = {"jpeg": "jpg", "webp": "webp"}

# Renders under way in this process, by output path: concurrent requests for the same
# copy wait for the one render instead of starting their own.
_rendering: dict[str, asyncio.Future] = {}


def settings_version(settings: dict) -> str:
    """A short hash of every setting that changes a watermarked copy: it moves on every change."""
    chosen = {k: settings.get(k) for k in (*KEYS, *_OUTPUT_KEYS)}
    chosen["renderer"] = RENDERER_VERSION
    text = json.dumps(chosen, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def version_changed(keys) -> bool:
    """Does a change of these settings give watermarked copies a new version?"""
    return any(k in KEYS or k in _OUTPUT_KEYS for k in keys)


def active(settings: dict) -> bool:
    return bool(settings.get("watermark_enabled")) and bool(
        (settings.get("watermark_text") or "").strip() or settings.get("watermark_image")
    )


def watermarked_kind(settings: dict, media: dict, variant: str, source: str | None = None) -> bool:
    """Is this variant of this media object one that carries the watermark? `source`: the
    stored file that would be served, when known."""
    if not active(settings):
        return False
    if media.get("kind") == "image":
        if variant == "thumbnail":
            return bool(settings.get("watermark_thumbnails"))
        return variant in ("optimized", "web", "original")
    # Video, audio, PDF: the poster frame, cover art or first page served as the
    # "optimized" image (and the thumbnail made from it) are pictures of the content too.
    # The file itself (a video standing in for its missing poster) is not an image, and a
    # drawn type icon shows nothing of the content.
    if source is not None and source == (media.get("original") or {}).get("path"):
        return False
    if variant == "thumbnail":
        thumbnail = (media.get("derivatives") or {}).get("thumbnail") or {}
        return bool(settings.get("watermark_thumbnails")) and not thumbnail.get("icon")
    return variant == "optimized"


def may_see_clean(viewer: Viewer, media: dict) -> bool:
    """hide_watermark on the album, or the object's owner who may view its original."""
    scope = media_scope(media)
    if can(viewer, "hide_watermark", scope):
        return True
    user_id = (viewer.user or {}).get("_id")
    return bool(user_id) and media.get("owner_id") == user_id and can(
        viewer, "view_original", scope
    )


def needs_watermark(
    settings: dict, viewer: Viewer, media: dict, variant: str, *, download: bool = False,
    source: str | None = None,
) -> bool:
    """Must this viewer get the watermarked copy of `variant` (made from `source`)? An
    original downloaded as a file by someone with view_original is the untouched original."""
    if not watermarked_kind(settings, media, variant, source):
        return False
    if download and variant == "original" and can(viewer, "view_original", media_scope(media)):
        return False
    return not may_see_clean(viewer, media)


def image_path(ctx, digest: str) -> str:
    return str(ctx.storage.resolve(f"{IMAGE_DIR}/{digest}.png"))


def spec_for(ctx, settings: dict):
    from media.watermark import WatermarkSpec

    digest = settings.get("watermark_image") or ""
    return WatermarkSpec(
        text=settings.get("watermark_text") or "",
        font=settings.get("watermark_font") or "sans-bold",
        text_size=int(settings.get("watermark_text_size") or 5),
        color=settings.get("watermark_color") or "#ffffff",
        opacity=int(settings.get("watermark_opacity") or 0),
        position=settings.get("watermark_position") or "bottom-right",
        margin=int(settings.get("watermark_margin") or 0),
        image_path=image_path(ctx, digest) if digest else None,
        image_width=int(settings.get("watermark_image_width") or 20),
        image_opacity=int(settings.get("watermark_image_opacity") or 0),
        image_position=settings.get("watermark_image_position") or "bottom-right",
    )


def _plan(ctx, settings: dict, media: dict, variant: str, source: str) -> dict:
    """Where the copy of `variant` made from `source` (a stored relative path) lives, and
    how to make it. One stat of the source: its size and mtime are in the name, so a
    remade derivative (rotate, regenerate) gets a new copy."""
    fmt = settings.get("derivative_format", "jpeg")
    is_original = source == (media.get("original") or {}).get("path")
    if variant == "original":
        max_side = None
    elif variant == "thumbnail":
        max_side = int(settings["thumbnail_size"]) if is_original else None
    else:
        max_side = int(settings["optimized_size"]) if is_original else None
    src = str(ctx.storage.resolve(source))
    st = os.stat(src)
    key = hashlib.sha256(
        f"{source}:{st.st_size}:{st.st_mtime_ns}:{max_side}".encode()
    ).hexdigest()[:12]
    name = f"wm-{settings_version(settings)}-{variant}-{key}.{_EXT.get(fmt, 'jpg')}"
    transform = transform_arguments(media.get("transform")) if variant != "original" else {}
    return {
        "src": src,
        "relative": f"derivatives/{media['_id']}/{name}",
        "out": str(ctx.storage.derivatives / media["_id"] / name),
        "mime": _MIME.get(fmt, "image/jpeg"),
        "ext": _EXT.get(fmt, "jpg"),
        "kwargs": {
            "max_side": max_side,
            "fmt": fmt,
            "quality": int(
                settings["thumbnail_quality" if variant == "thumbnail" else "optimized_quality"]
            ),
            "upright": is_original,
            **({k: v for k, v in transform.items() if v} if is_original else {}),
        },
    }


def _cached_plan(ctx, settings: dict, media: dict, variant: str, source: str) -> dict:
    """_plan, remembered on the context until the tenant's next write (a settings change,
    a remade derivative and a render all write), so a cached copy costs one stat."""
    key = ("watermark", media["_id"], variant, source)
    plan = ctx.cached(key)
    if plan is None:
        generation = ctx.generation
        plan = _plan(ctx, settings, media, variant, source)
        ctx.remember(key, plan, generation)
    return plan


async def watermarked(
    ctx, services, media: dict, variant: str, source: str, settings: dict | None = None
) -> dict:
    """{"path", "mime"} of the watermarked copy of `variant` made from the stored file
    `source`, rendered in the process pool on the first request only. Raises OSError
    when the source is not there, media.errors.MediaError when it cannot be decoded."""
    from gallery.processing.derivatives import _in_pool
    from media.watermark import render_watermarked

    if settings is None:
        settings = await get_settings(ctx)
    plan = _cached_plan(ctx, settings, media, variant, source)
    out = plan["out"]
    if not os.path.isfile(out):
        running = _rendering.get(out)
        if running is None:
            running = asyncio.get_running_loop().create_future()
            _rendering[out] = running
            try:
                await asyncio.to_thread(os.makedirs, os.path.dirname(out), exist_ok=True)
                await _in_pool(
                    services, render_watermarked, plan["src"], out, spec_for(ctx, settings),
                    **plan["kwargs"],
                )
                await ctx.db.watermark_stats.update_one(
                    {"_id": "renders"}, {"$inc": {"count": 1}}, upsert=True
                )
                running.set_result(None)
                await _replaced(ctx, services, out, variant)
            except BaseException as exc:
                running.set_exception(exc)
                running.exception()  # retrieved: no "never retrieved" warning if alone
                raise
            finally:
                _rendering.pop(out, None)
        else:
            await asyncio.shield(running)
    return {"path": plan["relative"], "mime": plan["mime"]}


def protect_entries(ctx, services, settings: dict, viewer: Viewer, entries: list) -> list:
    """Blocking (a stat per watermarked entry): call it in a thread. ZIP entries (gallery.downloads.Entry) with the watermarked copy in place of every
    file this viewer may not have clean; each copy is made (if it is not cached) by the
    ZIP's writer thread when it reaches the entry."""
    from dataclasses import replace

    from gallery.library.downloads import _unique

    taken = {e.name.casefold() for e in entries}
    out = []
    for entry in entries:
        media = entry.media
        if media is None or not entry.source or not needs_watermark(
            settings, viewer, media, entry.variant, download=True, source=entry.source
        ):
            out.append(entry)
            continue
        try:
            plan, prepare = zip_preparer(ctx, services, settings, media, entry.variant,
                                         entry.source)
        except OSError:
            continue  # the source is gone: left out, as ZipStream does with missing files
        folder, _, base = entry.name.rpartition("/")
        stem = base.rsplit(".", 1)[0] if "." in base else base
        name = entry.name
        if f"{stem}.{plan['ext']}" != base:  # a PNG original becomes a JPEG copy: a new name
            taken.discard(name.casefold())
            name = _unique(f"{folder}/{stem}.{plan['ext']}" if folder else f"{stem}.{plan['ext']}",
                           taken)
        out.append(replace(entry, name=name, path=plan["out"], compress=False, prepare=prepare))
    return out


async def _replaced(ctx, services, out: str, variant: str) -> None:
    """A new copy beside an older one of the same variant (another settings version, a
    rotated or regenerated source): the cleanup job removes the old one a little later."""
    name = os.path.basename(out)
    others = await asyncio.to_thread(_listing, os.path.dirname(out))
    if any(n.startswith("wm-") and f"-{variant}-" in n and n != name for n in others):
        from gallery.intake.ingest import job_queue

        await schedule_cleanup(ctx, job_queue(services))


def zip_preparer(ctx, services, settings: dict, media: dict, variant: str, source: str):
    """For a ZIP entry: (relative path, mime, ext, a blocking function that makes the copy
    if needed and returns its absolute path). Called from the ZIP's writer thread, so the
    copy is made as the archive reaches it, not all before the first byte."""
    from gallery.processing.derivatives import get_pool
    from media.watermark import render_watermarked

    plan = _plan(ctx, settings, media, variant, source)
    spec = spec_for(ctx, settings)

    def prepare() -> str:
        out = plan["out"]
        if not os.path.isfile(out):
            os.makedirs(os.path.dirname(out), exist_ok=True)
            future = get_pool(services).submit(
                render_watermarked, plan["src"], out, spec, **plan["kwargs"]
            )
            future.result()
        return out

    return plan, prepare


# -- the uploaded stamp image --------------------------------------------------------------------


def store_image(ctx, data: bytes) -> str:
    """Check and keep an uploaded watermark PNG; return its sha256 (the setting's value).
    Blocking: call it in a thread. Raises gallery.errors.Invalid for anything but a PNG."""
    from gallery.errors import Invalid
    from media.errors import MediaError
    from media.watermark import load_stamp_image

    if len(data) > MAX_IMAGE_BYTES:
        raise Invalid("The watermark image may be at most 900 KB.", field_errors={"image": "too large"})
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{IMAGE_DIR}/{digest}.png"
    tmp = ctx.storage.temp_path(".png")
    try:
        tmp.write_bytes(data)
        try:
            stamp = load_stamp_image(str(tmp))
        except MediaError as exc:
            raise Invalid(exc.reason, field_errors={"image": exc.reason}) from None
        if stamp.getextrema()[3][0] == 255:
            raise Invalid(
                "The watermark image must have transparent parts (a PNG with alpha).",
                field_errors={"image": "no transparency"},
            )
    finally:
        tmp.unlink(missing_ok=True)
    ctx.storage.write_atomic(relative, data)
    return digest


# -- cleanup ----------------------------------------------------------------------------------------


async def schedule_cleanup(ctx, queue, delay: float = CLEANUP_DELAY) -> str:
    return await queue.enqueue(
        ctx.slug, "watermarks.cleanup", {}, delay=delay, dedupe=f"watermarks.cleanup:{ctx.slug}"
    )


async def cleanup(ctx) -> dict:
    """Remove watermarked copies of other settings versions (all of them when watermarks
    are off) and copies made from a source file that has since changed."""
    settings = await get_settings(ctx)
    version = settings_version(settings)
    on = active(settings)
    removed = kept = 0
    last_id = ""
    while True:
        batch = (
            await ctx.db.media.find({"_id": {"$gt": last_id}}, {"_id": 1, "original": 1,
                                                               "derivatives": 1, "kind": 1,
                                                               "transform": 1})
            .sort("_id", 1).limit(200).to_list()
        )
        if not batch:
            break
        for media in batch:
            last_id = media["_id"]
            directory = ctx.storage.derivatives / media["_id"]
            names = await asyncio.to_thread(_listing, directory)
            current = set()
            if on and any(n.startswith(f"wm-{version}-") for n in names):
                current = await asyncio.to_thread(_current_names, ctx, settings, media)
            for name in names:
                if not name.startswith("wm-"):
                    continue
                if name in current:
                    kept += 1
                    continue
                await asyncio.to_thread(_unlink, directory / name)
                removed += 1
    return {"removed": removed, "kept": kept, "version": version}


def _listing(directory) -> list[str]:
    try:
        return os.listdir(directory)
    except FileNotFoundError:
        return []


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _current_names(ctx, settings: dict, media: dict) -> set[str]:
    names = set()
    derivatives = media.get("derivatives") or {}
    sources = [(media.get("original") or {}).get("path")]
    sources += [(derivatives.get(v) or {}).get("path") for v in ("thumbnail", "optimized")]
    for variant in ("thumbnail", "optimized", "web", "original"):
        for source in sources:
            if not source:
                continue
            try:
                names.add(os.path.basename(_plan(ctx, settings, media, variant, source)["out"]))
            except (OSError, ValueError):
                continue
    return names


@jobs.register("watermarks.cleanup")
async def cleanup_job(job: JobContext) -> dict:
    result = await cleanup(job.tenant)
    log.info("watermarks of %s cleaned up: %s", job.tenant.slug, result)
    return {**result, "at": datetime.now(UTC).isoformat()}

