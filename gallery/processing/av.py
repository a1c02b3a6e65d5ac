"""Processing of media objects that are not plain images: video, audio, PDF and other files.

`process_av()` is called by gallery.processing.process.process_one() for every non-image media
object and returns the part of the media document to store (gallery.processing.process._store
writes it). Video and audio are probed with ffprobe and the result kept on the media
object (`probe`: codecs, container, frame rate, bit rates, rotation…; plus `duration`,
`width`, `height` as shown, rotation applied); a
poster frame (video), the embedded cover art (audio) or page 1 (PDF) becomes the
thumbnail and the optimized image through the image pipeline in the process pool.
Everything else gets an icon thumbnail by type.

When browsers cannot play a file as it is, the returned update carries
`transcode.state = "pending"` and the caller queues `media.transcode`
(gallery.processing.transcoding).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from gallery.processing.derivatives import _derivative, _in_pool, image_specs
from media.dates import taken_fields
from media.errors import CorruptMedia, MediaError
from media.sniff import OFFICE_MIMES

log = logging.getLogger("atrium.processing")

#: Probe fields kept on the media object for the metadata panel.
PROBE_FIELDS = (
    "container",
    "container_brand",
    "video_codec",
    "audio_codec",
    "width",
    "height",
    "rotation",
    "frame_rate",
    "bit_rate",
    "video_bit_rate",
    "audio_bit_rate",
    "pix_fmt",
    "audio_channels",
    "sample_rate",
    "duration",
)


def encoder_profile(settings: dict):
    """The tenant's encoder profile (web-copy size, quality and speed) from its settings."""
    from media.video import EncoderProfile

    return EncoderProfile(
        max_width=int(settings.get("video_max_width", 1280)),
        max_height=int(settings.get("video_max_height", 720)),
        crf=int(settings.get("video_crf", 23)),
        preset=str(settings.get("video_preset", "veryfast")),
        audio_bitrate=f"{int(settings.get('audio_bitrate_kbps', 128))}k",
    )


def probe_summary(info) -> dict:
    """The probe result as stored on the media object (JSON-ready, display size added)."""
    data = {key: getattr(info, key) for key in PROBE_FIELDS}
    if info.frame_rate:
        data["frame_rate"] = round(info.frame_rate, 3)
    if info.duration:
        data["duration"] = round(info.duration, 3)
    size = info.display_size
    data["display_width"], data["display_height"] = size if size else (None, None)
    return data


def web_copy_plan(info, settings: dict):
    """The web copy a probed file needs under these settings, or None if it plays as it is."""
    from media.video import needs_web_copy

    return needs_web_copy(
        info,
        encoder_profile(settings),
        lossless_audio_as_is=bool(settings.get("audio_lossless_as_is", False)),
    )


async def _image_derivatives(services, preview: Path, out_dir: Path, media_id: str, settings):
    """Thumbnail and optimized image from a preview JPEG (poster, cover art, PDF page)."""
    from media.images import make_image_derivatives

    thumb, optimized = image_specs(settings)
    made = await _in_pool(
        services,
        make_image_derivatives,
        str(preview),
        str(out_dir),
        thumb,
        optimized,
        always_optimize=True,
    )
    derivatives = {
        "thumbnail": _derivative(
            media_id, made.thumbnail_path, made.thumbnail_width, made.thumbnail_height, thumb.format
        )
    }
    opt = _derivative(
        media_id, made.optimized_path, made.optimized_width, made.optimized_height, thumb.format
    )
    if opt:
        derivatives["optimized"] = opt
    return derivatives


async def icon_derivatives(services, media: dict, out_dir: Path, settings: dict) -> dict:
    """An icon thumbnail drawn for the file's type."""
    from media.icons import make_icon

    icon = out_dir / "thumbnail.png"
    size = int(settings["thumbnail_size"])
    label = media.get("extension") or media.get("kind") or "file"
    await _in_pool(services, make_icon, label, str(icon), size)
    stat = await asyncio.to_thread(icon.stat)
    return {
        "thumbnail": {
            "path": f"derivatives/{media['_id']}/thumbnail.png",
            "width": size,
            "height": size,
            "mime": "image/png",
            "size": stat.st_size,
            "icon": True,
        }
    }


async def _from_preview(services, media, out_dir, settings, make_preview) -> dict | None:
    """Run `make_preview(path)` (a coroutine writing a JPEG or returning None), then derive."""
    preview = out_dir / "preview.jpg"
    try:
        made = await make_preview(preview)
        if made is None:
            return None
        return await _image_derivatives(services, preview, out_dir, media["_id"], settings)
    finally:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(preview.unlink)


async def _kept_web_copy(ctx, media: dict) -> dict | None:
    """An existing complete web copy survives reprocessing (rotate, regenerate)."""
    web = (media.get("derivatives") or {}).get("web")
    if not web or not web.get("path"):
        return None
    from storage.root import StorageError

    try:
        exists = await asyncio.to_thread(ctx.storage.resolve(web["path"]).is_file)
    except StorageError:
        return None
    return web if exists else None


async def process_audio_video(ctx, services, media, src: Path, out_dir: Path, settings) -> dict:
    """Probe, poster or cover art, and whether a web copy is needed."""
    from media.posters import make_poster
    from media.probe import probe

    try:
        info = await probe(src)
    except CorruptMedia as exc:
        raise CorruptMedia(f"This file is not a readable video or audio file ({exc.reason}).")
    kind = info.kind
    size = info.display_size or (None, None)
    update: dict = {
        "kind": kind,
        "duration": round(info.duration, 3) if info.duration else None,
        "width": size[0],
        "height": size[1],
        "probe": probe_summary(info),
        **taken_fields(info.date_taken),  # QuickTime's recording date, when it has one
    }
    if kind == "video" and (media.get("mime") or "").startswith("audio/"):
        update["mime"] = "video/mp4" if "mp4" in info.container.split(",") else media["mime"]
    if kind == "audio" and (media.get("mime") or "").startswith("video/"):
        # An MP4 with sound only: libmagic calls it video; it is played as audio.
        update["mime"] = "audio/mp4" if "mp4" in info.container.split(",") else media["mime"]

    async def poster(dest: Path):
        return await make_poster(
            src,
            dest,
            info,
            offset=float(settings.get("video_poster_seconds", 3)),
            fraction=0.1,
            max_dimension=int(settings["optimized_size"]),
        )

    derivatives = await _from_preview(services, media, out_dir, settings, poster)
    if derivatives is None:  # audio without cover art
        derivatives = await icon_derivatives(services, {**media, **update}, out_dir, settings)
    plan = web_copy_plan(info, settings)
    kept = await _kept_web_copy(ctx, media)
    if plan is None:
        update["transcode"] = {"state": "none", "progress": None, "reasons": []}
    elif kept:
        derivatives["web"] = kept
        update["transcode"] = {**(media.get("transcode") or {}), "state": "ready", "progress": 1.0}
    else:
        update["transcode"] = {
            "state": "pending",
            "progress": 0.0,
            "reasons": list(plan.reasons),
            "error": None,
        }
    update["derivatives"] = derivatives
    return update


async def process_document(ctx, services, media, src: Path, out_dir: Path, settings) -> dict:
    """PDF: page 1 as thumbnail and optimized image. Other documents: an icon."""
    if media.get("mime") == "application/pdf":
        from media.documents import render_pdf_first_page

        async def page(dest: Path):
            return await render_pdf_first_page(
                src, dest, max_dimension=int(settings["optimized_size"])
            )

        try:
            derivatives = await _from_preview(services, media, out_dir, settings, page)
        except MediaError as exc:
            raise CorruptMedia(f"This PDF cannot be read ({exc.reason}).") from exc
        return {"derivatives": derivatives}
    if media.get("mime") in OFFICE_MIMES:
        derivatives = await _office_page(services, media, src, out_dir, settings)
        if derivatives is not None:
            return {"derivatives": derivatives}
    return {"derivatives": await icon_derivatives(services, media, out_dir, settings)}


async def _office_page(services, media, src: Path, out_dir: Path, settings) -> dict | None:
    """Page 1 drawn by LibreOffice where the host has it; None (an icon) without it, or when
    it fails on this file: the file itself is still fine to download."""
    from media.office import render_office_first_page

    async def page(dest: Path):
        return await render_office_first_page(
            src, dest, max_dimension=int(settings["optimized_size"])
        )

    try:
        return await _from_preview(services, media, out_dir, settings, page)
    except MediaError as exc:
        log.warning("media %s: no page preview from LibreOffice: %s", media["_id"], exc.reason)
        return None


async def process_av(ctx, services, media: dict, src: Path, out_dir: Path, settings) -> dict:
    """The update for a non-image media object; raises MediaError when it cannot be processed."""
    size = (await asyncio.to_thread(src.stat)).st_size
    kind = media.get("kind")
    if size == 0:
        raise CorruptMedia("The file is empty (0 bytes).")
    if kind in ("video", "audio"):
        return await process_audio_video(ctx, services, media, src, out_dir, settings)
    if kind == "document":
        return await process_document(ctx, services, media, src, out_dir, settings)
    return {"derivatives": await icon_derivatives(services, media, out_dir, settings)}
