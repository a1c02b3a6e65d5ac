"""Probing video and audio with ffprobe (JSON output) into a ProbeResult.

Inputs are passed as absolute paths with `-protocol_whitelist file`, so neither a file
name such as ``http://…`` nor a playlist hidden inside a container makes ffmpeg open
anything but local files. Callers sniff the type with libmagic before probing:
ffprobe trusts file extensions.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from media.dates import quicktime_taken
from media.errors import CorruptMedia, MediaTooLarge, ToolFailed, UnsupportedMedia
from media.tools import run_tool

#: 8K (8192×4352). Above it, decoding a single frame costs hundreds of megabytes.
DEFAULT_MAX_VIDEO_PIXELS = 8192 * 4352

#: How every ffmpeg run starts, and the guard that keeps it to local files.
FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
INPUT_GUARD = ["-protocol_whitelist", "file"]
# Containers that are images or text, not time-based media, though ffprobe opens them.
_NOT_AV_FORMATS = {"tty", "image2", "image2pipe"}


@dataclass(frozen=True)
class ProbeResult:
    """What ffprobe says about a video or audio file (the fields the gallery uses)."""

    duration: float | None  # seconds
    container: str  # ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    #: major_brand of an ISO-BMFF file ("isom", "qt", "M4A"); DocType of Matroska ("webm")
    container_brand: str | None
    video_codec: str | None  # ffprobe codec_name: "h264", "hevc", "vp9", …
    audio_codec: str | None  # "aac", "mp3", "opus", "pcm_s16le", …
    width: int | None  # stored frame size, before rotation
    height: int | None
    #: clockwise degrees (0, 90, 180, 270) to turn the stored frame upright; the
    #: convention of the old `rotate` tag. ffprobe's displaymatrix `rotation` is
    #: counter-clockwise, so a phone's portrait clip shows -90 there and 90 here.
    rotation: int
    pixel_aspect: float  # sample aspect ratio; 1.0 for square pixels
    frame_rate: float | None
    bit_rate: int | None  # whole file, bits/s
    video_bit_rate: int | None
    audio_bit_rate: int | None
    pix_fmt: str | None
    audio_channels: int | None
    sample_rate: int | None
    video_stream: int | None  # stream indexes, for `-map 0:N`
    audio_stream: int | None
    cover_art_stream: int | None  # an attached_pic stream (album art in MP3/M4A/FLAC)
    #: when it was recorded, ISO 8601 local time with offset (media.dates.quicktime_taken)
    date_taken: str | None = None

    @property
    def kind(self) -> Literal["video", "audio"]:
        return "video" if self.video_stream is not None else "audio"

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width and height as shown: pixel aspect and rotation applied."""
        if not self.width or not self.height:
            return None
        width = max(1, round(self.width * self.pixel_aspect))
        height = self.height
        return (height, width) if self.rotation in (90, 270) else (width, height)


# --------------------------------------------------------------------------- probe


def to_float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _int(value: Any) -> int | None:
    number = to_float(value)
    return int(number) if number is not None else None


def _ratio(value: Any) -> float | None:
    """'30000/1001' → 29.97; '0/0' and garbage → None."""
    if not isinstance(value, str) or "/" not in value:
        return to_float(value)
    num, _, den = value.partition("/")
    n, d = to_float(num), to_float(den)
    return n / d if n and d else None


def _aspect(value: Any) -> float:
    if isinstance(value, str) and ":" in value:
        num, _, den = value.partition(":")
        n, d = to_float(num), to_float(den)
        if n and d:
            return n / d
    return 1.0


def _rotation(stream: dict[str, Any]) -> int:
    for side_data in stream.get("side_data_list") or []:
        if "rotation" in side_data:
            ccw = to_float(side_data["rotation"]) or 0.0
            return round(-ccw / 90.0) * 90 % 360
    tag = to_float((stream.get("tags") or {}).get("rotate"))  # ffmpeg < 5 and old files
    return round((tag or 0.0) / 90.0) * 90 % 360


def _matroska_doctype(path: Path) -> str | None:
    """The EBML DocType ("webm" or "matroska"): ffprobe calls both "matroska,webm"."""
    with open(path, "rb") as f:  # 64 bytes: not worth a thread
        head = f.read(64)
    at = head.find(b"\x42\x82")
    if at < 0 or at + 3 > len(head) or not head[at + 2] & 0x80:
        return None
    size = head[at + 2] & 0x7F
    return head[at + 3 : at + 3 + size].decode("ascii", "replace").rstrip("\0") or None


def _parse_probe(data: dict[str, Any], path: Path) -> ProbeResult:
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    container = fmt.get("format_name") or ""
    if container in _NOT_AV_FORMATS or container.endswith("_pipe"):
        raise UnsupportedMedia(f"not a video or audio file (ffprobe sees {container!r})")

    def first(kind: str, cover: bool) -> dict[str, Any] | None:
        for stream in streams:
            is_cover = bool((stream.get("disposition") or {}).get("attached_pic"))
            if stream.get("codec_type") == kind and is_cover == cover:
                return stream
        return None

    video, audio, cover = first("video", False), first("audio", False), first("video", True)
    if video is None and audio is None:
        raise UnsupportedMedia("the file has no video or audio stream")

    brand = (fmt.get("tags") or {}).get("major_brand")
    if container.startswith("matroska"):
        brand = _matroska_doctype(path)
    duration = to_float(fmt.get("duration"))
    if duration is None:
        durations = [to_float(s.get("duration")) for s in (video, audio) if s]
        duration = max((d for d in durations if d), default=None)
    v, a = video or {}, audio or {}
    return ProbeResult(
        duration=duration,
        container=container,
        container_brand=brand.strip() if brand else None,
        video_codec=v.get("codec_name"),
        audio_codec=a.get("codec_name"),
        width=_int(v.get("width")),
        height=_int(v.get("height")),
        rotation=_rotation(v) if video else 0,
        pixel_aspect=_aspect(v.get("sample_aspect_ratio")),
        frame_rate=_ratio(v.get("avg_frame_rate")) or _ratio(v.get("r_frame_rate")),
        bit_rate=_int(fmt.get("bit_rate")),
        video_bit_rate=_int(v.get("bit_rate")),
        audio_bit_rate=_int(a.get("bit_rate")),
        pix_fmt=v.get("pix_fmt"),
        audio_channels=_int(a.get("channels")),
        sample_rate=_int(a.get("sample_rate")),
        video_stream=_int(video.get("index")) if video else None,
        audio_stream=_int(audio.get("index")) if audio else None,
        cover_art_stream=_int(cover.get("index")) if cover else None,
        date_taken=quicktime_taken(fmt.get("tags")) or quicktime_taken(v.get("tags")),
    )


async def probe(
    path: str | os.PathLike[str],
    *,
    timeout: float = 30.0,
    max_pixels: int | None = DEFAULT_MAX_VIDEO_PIXELS,
) -> ProbeResult:
    """Probe a video or audio file with ffprobe.

    Raises CorruptMedia when ffprobe cannot read it (zero bytes, text, truncated),
    UnsupportedMedia when it has no audio or video stream, MediaTooLarge when the
    frame exceeds `max_pixels`, ToolTimedOut when ffprobe hangs.
    """
    path = Path(os.path.abspath(path))
    args = ["ffprobe", "-hide_banner", "-loglevel", "error", *INPUT_GUARD]
    args += ["-print_format", "json", "-show_format", "-show_streams", str(path)]
    try:
        out = await run_tool(args, timeout=timeout)
    except ToolFailed as exc:
        raise CorruptMedia(f"not a readable video or audio file: {exc.reason}") from exc
    try:
        data = json.loads(out)
    except ValueError as exc:
        raise CorruptMedia("ffprobe returned unreadable output") from exc
    result = _parse_probe(data, path)
    pixels = (result.width or 0) * (result.height or 0)
    if max_pixels and pixels > max_pixels:
        raise MediaTooLarge(
            f"the video is {result.width}×{result.height}, more than the limit of "
            f"{max_pixels / 1e6:.1f} megapixels"
        )
    return result
