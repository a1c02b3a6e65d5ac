"""Poster frames for video (a key frame near the start, rotation applied) and cover art
for audio, as JPEG previews that the image pipeline turns into derivatives.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PIL import Image

from media.errors import CorruptMedia, UnsupportedMedia
from media.probe import FFMPEG, INPUT_GUARD, ProbeResult
from media.tools import Preview, partial_output, run_tool

# --------------------------------------------------------------------------- posters


def fit_within(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Scale (width, height) to fit the box, keep the aspect, never upscale, even sides.

    The box is orientation-free: its long side bounds the long edge. Even sides
    because yuv420p (chroma at half resolution) needs them.
    """
    long_max, short_max = max(max_width, max_height), min(max_width, max_height)
    box_w, box_h = (long_max, short_max) if width >= height else (short_max, long_max)
    scale = min(1.0, box_w / width, box_h / height)

    def even(value: float, limit: int) -> int:
        return max(2, min(round(value / 2) * 2, limit - limit % 2))

    return even(width * scale, min(width, box_w)), even(height * scale, min(height, box_h))


def _jpeg_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as im:  # reads the header only
            if im.format != "JPEG":
                raise CorruptMedia(f"ffmpeg wrote {im.format}, not JPEG")
            return im.size
    except OSError as exc:
        raise CorruptMedia(f"the poster is not a readable image: {exc}") from exc


async def _grab(args: list[str], tmp: Path, timeout: float) -> bool:
    """Run an ffmpeg still-image command; True if it wrote a non-empty file."""
    tmp.unlink(missing_ok=True)
    await run_tool(args, timeout=timeout)
    return tmp.exists() and tmp.stat().st_size > 0


async def video_frame(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    info: ProbeResult,
    *,
    offset: float = 3.0,
    fraction: float = 0.1,
    max_dimension: int = 1920,
    timeout: float = 30.0,
) -> Preview:
    """Write a JPEG poster frame of a video, taken at min(`offset`, `fraction` × duration).

    Rotation is applied (ffmpeg autorotates decoded frames; the tests check it).
    The seek is an input seek that decodes key frames only (`-skip_frame nokey`):
    about 0.2 s instead of ~0.8 s for decoding up to the exact time. It takes the
    first key frame at or after the time; if there is none (short clip, long GOP), the
    last key frame before it; if seeking fails, the very first frame.
    """
    if info.video_stream is None or info.display_size is None:
        raise UnsupportedMedia("the file has no video stream")
    src = os.path.abspath(src)
    at = max(0.0, min(offset, fraction * info.duration)) if info.duration else 0.0
    width, height = fit_within(*info.display_size, max_dimension, max_dimension)
    output = ["-map", f"0:{info.video_stream}", "-frames:v", "1", "-fps_mode", "passthrough"]
    output += ["-vf", f"scale={width}:{height},setsar=1", "-q:v", "3", "-f", "image2"]
    attempts = [(at, ["-skip_frame", "nokey", "-ss", f"{at:.3f}"])]
    if at > 0:
        attempts.append((at, ["-skip_frame", "nokey", "-noaccurate_seek", "-ss", f"{at:.3f}"]))
    attempts.append((0.0, []))
    deadline = time.monotonic() + timeout
    with partial_output(dest, ".part.jpg") as tmp:
        for taken_at, seek in attempts:
            remaining = max(0.1, deadline - time.monotonic())
            args = [*FFMPEG, *INPUT_GUARD, *seek, "-i", src, *output, str(tmp)]
            if await _grab(args, tmp, remaining):
                size = _jpeg_size(tmp)
                break
        else:
            raise CorruptMedia("no video frame could be decoded")
    return Preview(Path(dest), size[0], size[1], "frame", round(taken_at, 3))


async def extract_cover_art(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    info: ProbeResult,
    *,
    max_dimension: int = 1920,
    timeout: float = 30.0,
) -> Preview | None:
    """Write an audio file's embedded cover art as a JPEG; None if it has none."""
    if info.cover_art_stream is None:
        return None
    m = max_dimension
    scale = f"scale=w='min(iw,{m})':h='min(ih,{m})':force_original_aspect_ratio=decrease"
    with partial_output(dest, ".part.jpg") as tmp:
        args = [*FFMPEG, *INPUT_GUARD, "-i", os.path.abspath(src)]
        args += ["-map", f"0:{info.cover_art_stream}", "-frames:v", "1", "-vf", scale]
        args += ["-q:v", "3", "-f", "image2", str(tmp)]
        if not await _grab(args, tmp, timeout):
            raise CorruptMedia("the embedded cover art could not be decoded")
        size = _jpeg_size(tmp)
    return Preview(Path(dest), size[0], size[1], "cover_art")


async def make_poster(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    info: ProbeResult,
    *,
    offset: float = 3.0,
    fraction: float = 0.1,
    max_dimension: int = 1920,
    timeout: float = 30.0,
) -> Preview | None:
    """Poster for a video (a frame) or audio (its cover art, or None: the caller draws an icon)."""
    if info.kind == "audio":
        return await extract_cover_art(
            src, dest, info, max_dimension=max_dimension, timeout=timeout
        )
    return await video_frame(
        src,
        dest,
        info,
        offset=offset,
        fraction=fraction,
        max_dimension=max_dimension,
        timeout=timeout,
    )
