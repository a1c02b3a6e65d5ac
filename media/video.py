"""Video and audio web copies: which files need one, and making it with ffmpeg.

Probing lives in media.probe and posters in media.posters.

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
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from media.errors import ToolFailed
from media.posters import fit_within
from media.probe import FFMPEG, INPUT_GUARD, ProbeResult, to_float
from media.tools import partial_output, run_tool_with_progress


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


# --------------------------------------------------------------------------- decision

_MP4_VIDEO_AUDIO = {None, "aac", "mp3"}
_WEBM_VIDEO = {"vp8", "vp9", "av1"}
_WEBM_AUDIO = {None, "opus", "vorbis"}
_H264_PIX_FMTS = {"yuv420p", "yuvj420p"}  # 8-bit 4:2:0; High 10 / 4:2:2 / 4:4:4 do not play
_PCM = {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"}


def _is_mp4(info: ProbeResult) -> bool:
    return "mp4" in info.container.split(",")


def _is_quicktime(info: ProbeResult) -> bool:
    """A .mov (major brand "qt"): served as video/quicktime, which Firefox does not play."""
    return _is_mp4(info) and info.container_brand == "qt"


def _is_webm(info: ProbeResult) -> bool:
    return info.container.startswith("matroska") and info.container_brand == "webm"


def _h264_ok(info: ProbeResult) -> bool:
    return info.video_codec == "h264" and info.pix_fmt in _H264_PIX_FMTS


def _plays_as_is(info: ProbeResult, lossless_audio_as_is: bool) -> bool:
    if info.kind == "video":
        if _is_quicktime(info):
            return False
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
    if not (mp4 or webm) or _is_quicktime(info):
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
    # Only AAC is copied: MP3 in MP4 plays in most browsers, but the web copy is
    # promised to be H.264 + AAC, the one pairing every browser and device plays.
    copy_audio = allow_copy and info.audio_codec == "aac"
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
    # A rotated clip is re-encoded upright: players that ignore the display matrix
    # (and thumbnails made from the copy) then still show it the right way up.
    copy_video = allow_copy and _h264_ok(info) and not info.rotation
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

    Played as is: H.264 (8-bit 4:2:0) with AAC, MP3 or no audio in MP4 (a QuickTime
    .mov gets a copy: Firefox does not play video/quicktime);
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
            self.out_us = to_float(value) or self.out_us
        elif key == "progress":
            if value.strip() == "end":
                self.report(1.0)
            elif self.duration and self.out_us is not None:
                # 0.99 at most until ffmpeg says "end": the faststart pass still follows
                self.report(min(0.99, self.out_us / 1e6 / self.duration))


def _transcode_args(
    src: str, tmp: Path, plan: WebCopyPlan, profile: EncoderProfile, progress_interval: float
) -> list[str]:
    args = [*FFMPEG, "-nostats", "-progress", "pipe:1", "-stats_period", f"{progress_interval:g}"]
    args += [*INPUT_GUARD, "-i", src]
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
