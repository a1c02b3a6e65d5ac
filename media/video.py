"""Video and audio: probe, poster frame, web-copy decision, transcode.

Pure functions in the sense of the design: paths and settings in, dataclasses out;
no tenants, HTTP or database. ffprobe/ffmpeg run through `media.tools`.

Argument lists are written out by hand rather than with ffmpeg-python: the order of
options matters here (`-ss` and `-skip_frame` before `-i`, repeated `-map`), which
ffmpeg-python's keyword arguments cannot express (it sorts them and allows one of each).

Inputs are passed as absolute paths and `-protocol_whitelist file`, so neither a file
name such as ``http://…`` nor a playlist hidden inside a container makes ffmpeg open
anything but local files. Callers sniff the type with libmagic before probing:
ffprobe trusts file extensions.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from media.errors import CorruptMedia, MediaTooLarge, ToolFailed, UnsupportedMedia
from media.tools import Preview, partial_output, run_tool, run_tool_with_progress

__all__ = [
    "DEFAULT_MAX_VIDEO_PIXELS",
    "EncoderProfile",
    "Preview",
    "ProbeResult",
    "TranscodeResult",
    "WebCopyPlan",
    "extract_cover_art",
    "fit_within",
    "make_poster",
    "needs_web_copy",
    "plan_transcode",
    "probe",
    "transcode",
    "video_frame",
]

#: 8K (8192×4352). Above it, decoding a single frame costs hundreds of megabytes.
DEFAULT_MAX_VIDEO_PIXELS = 8192 * 4352

_FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
_INPUT_GUARD = ["-protocol_whitelist", "file"]
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


@dataclass(frozen=True)
class EncoderProfile:
    """How web copies are encoded (like Gallery Server Pro's encoder profiles).

    `max_width`×`max_height` bounds the long and the short edge, whatever the
    orientation: a portrait 1080×1920 clip becomes 720×1280, not 405×720.
    """

    video_codec: str = "libx264"
    max_width: int = 1280
    max_height: int = 720
    crf: int = 23
    preset: str = "veryfast"
    audio_codec: str = "aac"
    audio_bitrate: str = "128k"


@dataclass(frozen=True)
class WebCopyPlan:
    """A web copy to make: H.264/AAC in MP4 for video, AAC in M4A for audio."""

    kind: Literal["video", "audio"]
    extension: Literal["mp4", "m4a"]
    mime_type: str
    #: the source stream already plays in browsers: copy it instead of re-encoding
    copy_video: bool
    copy_audio: bool
    video_stream: int | None
    audio_stream: int | None
    width: int | None  # display size of the copy (video)
    height: int | None
    duration: float | None  # of the source, for progress
    audio_channels: int | None
    reasons: tuple[str, ...]  # why the original is not served as it is, for people


@dataclass(frozen=True)
class TranscodeResult:
    path: Path
    size: int  # bytes
    seconds: float  # wall-clock time of the transcode
    plan: WebCopyPlan

    @property
    def realtime_factor(self) -> float | None:
        """Seconds of media made per second of work."""
        if not self.plan.duration or self.seconds <= 0:
            return None
        return self.plan.duration / self.seconds


# --------------------------------------------------------------------------- probe


def _float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _ratio(value: Any) -> float | None:
    """'30000/1001' → 29.97; '0/0' and garbage → None."""
    if not isinstance(value, str) or "/" not in value:
        return _float(value)
    num, _, den = value.partition("/")
    n, d = _float(num), _float(den)
    return n / d if n and d else None


def _aspect(value: Any) -> float:
    if isinstance(value, str) and ":" in value:
        num, _, den = value.partition(":")
        n, d = _float(num), _float(den)
        if n and d:
            return n / d
    return 1.0


def _rotation(stream: dict[str, Any]) -> int:
    for side_data in stream.get("side_data_list") or []:
        if "rotation" in side_data:
            ccw = _float(side_data["rotation"]) or 0.0
            return round(-ccw / 90.0) * 90 % 360
    tag = _float((stream.get("tags") or {}).get("rotate"))  # ffmpeg < 5 and old files
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
    duration = _float(fmt.get("duration"))
    if duration is None:
        durations = [_float(s.get("duration")) for s in (video, audio) if s]
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
    args = ["ffprobe", "-hide_banner", "-loglevel", "error", *_INPUT_GUARD]
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
            args = [*_FFMPEG, *_INPUT_GUARD, *seek, "-i", src, *output, str(tmp)]
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
        args = [*_FFMPEG, *_INPUT_GUARD, "-i", os.path.abspath(src)]
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


# --------------------------------------------------------------------------- decision

_MP4_VIDEO_AUDIO = {None, "aac", "mp3"}
_WEBM_VIDEO = {"vp8", "vp9", "av1"}
_WEBM_AUDIO = {None, "opus", "vorbis"}
_H264_PIX_FMTS = {"yuv420p", "yuvj420p"}  # 8-bit 4:2:0; High 10 / 4:2:2 / 4:4:4 do not play
_PCM = {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"}


def _is_mp4(info: ProbeResult) -> bool:
    return "mp4" in info.container.split(",")


def _is_webm(info: ProbeResult) -> bool:
    return info.container.startswith("matroska") and info.container_brand == "webm"


def _h264_ok(info: ProbeResult) -> bool:
    return info.video_codec == "h264" and info.pix_fmt in _H264_PIX_FMTS


def _plays_as_is(info: ProbeResult, lossless_audio_as_is: bool) -> bool:
    if info.kind == "video":
        if _is_mp4(info):
            return _h264_ok(info) and info.audio_codec in _MP4_VIDEO_AUDIO
        return (
            _is_webm(info) and info.video_codec in _WEBM_VIDEO and info.audio_codec in _WEBM_AUDIO
        )
    codec, fmt = info.audio_codec, info.container
    # Current Chromium and Firefox play WAV (PCM), FLAC and Ogg Vorbis/Opus natively, and
    # Safari plays WAV and FLAC (its Ogg support is recent). So these are served as they
    # are unless the gallery prefers small files over the original's fidelity.
    lossless = (fmt == "wav" and codec in _PCM) or (fmt == "flac" and codec == "flac")
    return (
        (fmt == "mp3" and codec == "mp3")
        or (_is_mp4(info) and codec in ("aac", "mp3"))
        or (fmt == "ogg" and codec in ("vorbis", "opus"))
        or (_is_webm(info) and codec in ("vorbis", "opus"))
        or (lossless and lossless_audio_as_is)
    )


def _reasons(info: ProbeResult) -> tuple[str, ...]:
    """Why the file does not play as it is, in words for the event log."""
    if info.kind == "audio":
        return (f"{info.audio_codec} audio in {info.container_brand or info.container}",)
    mp4, webm = _is_mp4(info), _is_webm(info)
    reasons = []
    if not (mp4 or webm):
        reasons.append(f"container {info.container_brand or info.container}")
    if info.video_codec != "h264" and not (webm and info.video_codec in _WEBM_VIDEO):
        reasons.append(f"video codec {info.video_codec}")
    elif info.video_codec == "h264" and info.pix_fmt not in _H264_PIX_FMTS:
        reasons.append(f"pixel format {info.pix_fmt}")
    audio_ok = _WEBM_AUDIO if webm else _MP4_VIDEO_AUDIO if mp4 else {None}
    if info.audio_codec not in audio_ok:
        reasons.append(f"audio codec {info.audio_codec}")
    return tuple(reasons)


def plan_transcode(
    info: ProbeResult,
    profile: EncoderProfile = EncoderProfile(),
    *,
    allow_copy: bool = False,
    reasons: tuple[str, ...] = ("requested",),
) -> WebCopyPlan:
    """A web-copy plan for any probed file; with `allow_copy`, streams that play are copied."""
    copy_audio = allow_copy and info.audio_codec in ("aac", "mp3")
    common: dict[str, Any] = {
        "copy_audio": copy_audio,
        "audio_stream": info.audio_stream,
        "duration": info.duration,
        "audio_channels": info.audio_channels,
        "reasons": reasons,
    }
    if info.kind == "audio":
        return WebCopyPlan(
            kind="audio",
            extension="m4a",
            mime_type="audio/mp4",
            copy_video=False,
            video_stream=None,
            width=None,
            height=None,
            **common,
        )
    copy_video = allow_copy and _h264_ok(info)
    size = info.display_size or (None, None)
    if not copy_video and info.display_size:
        size = fit_within(*info.display_size, profile.max_width, profile.max_height)
    return WebCopyPlan(
        kind="video",
        extension="mp4",
        mime_type="video/mp4",
        copy_video=copy_video,
        video_stream=info.video_stream,
        width=size[0],
        height=size[1],
        **common,
    )


def needs_web_copy(
    info: ProbeResult,
    profile: EncoderProfile = EncoderProfile(),
    *,
    lossless_audio_as_is: bool = True,
) -> WebCopyPlan | None:
    """None if browsers play the file as it is, else the web copy to make.

    Played as is: H.264 (8-bit 4:2:0) with AAC, MP3 or no audio in the MP4/MOV family;
    VP8/VP9/AV1 with Opus, Vorbis or no audio in WebM; MP3; AAC or MP3 in M4A/MP4;
    Ogg/WebM Vorbis and Opus; WAV (PCM) and FLAC unless `lossless_audio_as_is` is off.

    Size alone never causes a copy: a 4K H.264 MP4 is served as it is (the player
    scales it; browsers decode it in hardware). Copies are made for codec, container
    or pixel format reasons only; 10-bit or 4:2:2 H.264 does not play in browsers.
    When a stream already plays (H.264 in MKV, AAC in AVI) the copy remuxes it
    instead of re-encoding it; such a copy keeps the source's frame size.
    """
    if _plays_as_is(info, lossless_audio_as_is):
        return None
    return plan_transcode(info, profile, allow_copy=True, reasons=_reasons(info))


# --------------------------------------------------------------------------- transcode


class _Progress:
    """Turns ffmpeg's `-progress` key=value lines into a non-decreasing fraction 0..1."""

    def __init__(self, duration: float | None, callback: Callable[[float], None] | None):
        self.duration, self.callback, self.last, self.out_us = duration, callback, -1.0, None

    def report(self, fraction: float) -> None:
        fraction = min(1.0, max(self.last, fraction))
        if self.callback is not None and fraction > self.last:
            self.callback(fraction)
        self.last = fraction

    def line(self, line: str) -> None:
        key, _, value = line.partition("=")
        if key in ("out_time_us", "out_time_ms"):  # both microseconds (an ffmpeg quirk)
            self.out_us = _float(value) or self.out_us
        elif key == "progress":
            if value.strip() == "end":
                self.report(1.0)
            elif self.duration and self.out_us is not None:
                # 0.99 at most until ffmpeg says "end": the faststart pass still follows
                self.report(min(0.99, self.out_us / 1e6 / self.duration))


def _transcode_args(
    src: str, tmp: Path, plan: WebCopyPlan, profile: EncoderProfile, progress_interval: float
) -> list[str]:
    args = [*_FFMPEG, "-nostats", "-progress", "pipe:1", "-stats_period", f"{progress_interval:g}"]
    args += [*_INPUT_GUARD, "-i", src]
    if plan.kind == "video":
        args += ["-map", f"0:{plan.video_stream}"]
    if plan.audio_stream is not None:
        args += ["-map", f"0:{plan.audio_stream}"]
    # Metadata is dropped: the copy is for playback, and phones put GPS positions there.
    args += ["-map_metadata", "-1", "-map_chapters", "-1", "-max_muxing_queue_size", "1024"]
    if plan.kind == "video" and plan.copy_video:
        args += ["-c:v", "copy"]
    elif plan.kind == "video":
        scale = f"scale={plan.width}:{plan.height},setsar=1" if plan.width else "setsar=1"
        args += ["-vf", scale, "-c:v", profile.video_codec, "-pix_fmt", "yuv420p"]
        args += ["-preset", profile.preset, "-crf", str(profile.crf)]
    if plan.audio_stream is not None and plan.copy_audio:
        args += ["-c:a", "copy"]
    elif plan.audio_stream is not None:
        args += ["-c:a", profile.audio_codec, "-b:a", profile.audio_bitrate]
        if plan.audio_channels and plan.audio_channels > 2:
            args += ["-ac", "2"]
    return [*args, "-movflags", "+faststart", "-f", "mp4", str(tmp)]


async def transcode(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    plan: WebCopyPlan,
    profile: EncoderProfile = EncoderProfile(),
    *,
    timeout: float,
    on_progress: Callable[[float], None] | None = None,
    cancel: asyncio.Event | None = None,
    nice: int = 10,
    progress_interval: float = 0.5,
) -> TranscodeResult:
    """Make the web copy described by `plan` at `dest` (MP4 with the moov atom first).

    `on_progress` gets 0.0 first, then a non-decreasing fraction of the source
    duration every `progress_interval` seconds, then 1.0. The copy is written to ``dest + ".part.<ext>"`` and renamed
    into place only on success; on failure, timeout or `cancel` the process is killed,
    the partial file removed, and ToolFailed, ToolTimedOut or Cancelled raised.
    ffmpeg runs under `nice` so page requests stay responsive during a transcode.
    """
    progress = _Progress(plan.duration, on_progress)
    progress.report(0.0)
    started = time.monotonic()
    with partial_output(dest, f".part.{plan.extension}") as tmp:
        args = _transcode_args(os.path.abspath(src), tmp, plan, profile, progress_interval)
        await run_tool_with_progress(
            args, timeout=timeout, on_stdout_line=progress.line, nice=nice, cancel=cancel
        )
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise ToolFailed("ffmpeg finished but wrote no output")
        size = tmp.stat().st_size
    progress.report(1.0)
    return TranscodeResult(Path(dest), size, time.monotonic() - started, plan)
