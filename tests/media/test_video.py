"""media.video and media.tools: probing, posters, the web-copy decision, transcoding."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time

import pytest
from PIL import Image

from media.errors import (
    Cancelled,
    CorruptMedia,
    MediaError,
    MediaTooLarge,
    ToolFailed,
    ToolTimedOut,
)
from media.posters import fit_within, make_poster
from media.probe import probe
from media.tools import run_tool
from media.video import EncoderProfile, needs_web_copy, plan_transcode, transcode
from tests.media.av_samples import AVSamples, colour_at, is_jpeg, no_files_like, top_level_atoms


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> AVSamples:
    return AVSamples(tmp_path_factory.mktemp("av-video"))


# --------------------------------------------------------------------------- probe


async def test_probe_reads_codecs_duration_and_size_of_an_h264_mp4(samples):
    info = await probe(samples["h264_aac.mp4"])
    assert info.kind == "video"
    assert "mp4" in info.container.split(",")
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height, info.display_size) == (320, 240, (320, 240))
    assert info.duration == pytest.approx(3.0, abs=0.15)
    assert info.frame_rate == pytest.approx(25.0)
    assert info.rotation == 0
    assert info.pix_fmt == "yuv420p"
    assert info.bit_rate and info.video_bit_rate and info.audio_bit_rate
    assert info.audio_channels == 1 and info.sample_rate == 48000


@pytest.mark.parametrize(
    ("name", "container", "brand", "video", "audio", "duration"),
    [
        ("hevc.mkv", "matroska,webm", "matroska", "hevc", "aac", 2.0),
        ("mpeg4.avi", "avi", None, "mpeg4", "mp3", 2.0),
        ("vp9_opus.webm", "matroska,webm", "webm", "vp9", "opus", 1.0),
        ("vp9_opus.mkv", "matroska,webm", "matroska", "vp9", "opus", 1.0),
    ],
)
async def test_probe_names_container_and_codecs(
    samples, name, container, brand, video, audio, duration
):
    info = await probe(samples[name])
    assert (info.container, info.container_brand) == (container, brand)
    assert (info.video_codec, info.audio_codec) == (video, audio)
    assert info.duration == pytest.approx(duration, abs=0.15)


async def test_probe_reports_a_phone_clips_rotation_clockwise(samples):
    info = await probe(samples["phone.mov"])
    assert (info.width, info.height) == (320, 180)
    assert info.rotation == 90
    assert info.display_size == (180, 320)


@pytest.mark.parametrize("name", ["text.mp4", "empty.mp4", "truncated.mp4", "garbled.mp4"])
async def test_probe_of_a_file_that_is_not_really_a_video_raises_corrupt_media(samples, name):
    with pytest.raises(CorruptMedia) as caught:
        await probe(samples[name])
    assert "not a readable video" in caught.value.reason
    assert str(samples.root) not in caught.value.reason  # no storage paths in reasons


async def test_probe_of_an_8000_by_8000_video_raises_media_too_large(samples):
    with pytest.raises(MediaTooLarge, match="8000×8000"):
        await probe(samples["huge.mkv"])


async def test_probe_of_a_fifo_nobody_writes_times_out(tmp_path):
    fifo = tmp_path / "never.mp4"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ToolTimedOut):
        await probe(fifo, timeout=0.3)
    assert time.monotonic() - started < 5


# --------------------------------------------------------------------------- posters


async def test_poster_is_a_jpeg_taken_at_a_tenth_of_a_short_clip(samples, tmp_path):
    info = await probe(samples["h264_aac.mp4"])
    poster = await make_poster(samples["h264_aac.mp4"], tmp_path / "p.jpg", info)
    assert poster is not None and poster.source == "frame"
    assert poster.at_seconds == pytest.approx(0.3)
    assert (poster.width, poster.height) == (320, 240)
    assert is_jpeg(poster.path)
    assert no_files_like(tmp_path / "p.jpg") == [tmp_path / "p.jpg"]


async def test_poster_is_taken_at_the_offset_in_a_long_clip(samples, tmp_path):
    info = await probe(samples["long.mp4"])
    poster = await make_poster(samples["long.mp4"], tmp_path / "p.jpg", info, offset=1.5)
    assert poster is not None and poster.at_seconds == pytest.approx(1.5)


async def test_poster_of_a_clip_with_one_key_frame_falls_back_to_that_frame(samples, tmp_path):
    # libx264's default GOP (250) is longer than this 25-frame clip: no key frame after 0.1 s.
    info = await probe(samples["h264_10bit.mp4"])
    poster = await make_poster(samples["h264_10bit.mp4"], tmp_path / "p.jpg", info)
    assert poster is not None and is_jpeg(poster.path)


async def test_poster_of_a_rotated_clip_is_upright(samples, tmp_path):
    info = await probe(samples["phone.mov"])
    poster = await make_poster(samples["phone.mov"], tmp_path / "p.jpg", info)
    assert poster is not None and (poster.width, poster.height) == (180, 320)
    with Image.open(poster.path) as im:
        assert im.size == (180, 320)
    # The stored frame is red left, blue right; turned 90° clockwise, red is on top.
    assert colour_at(poster.path, (90, 40)) == "red"
    assert colour_at(poster.path, (90, 280)) == "blue"


async def test_probe_rotation_agrees_with_ffmpegs_own_autorotation(samples, tmp_path):
    upright_info = await probe(samples["upright.mov"])
    upright = await make_poster(samples["upright.mov"], tmp_path / "u.jpg", upright_info)
    info = await probe(samples["phone.mov"])
    turned = await make_poster(samples["phone.mov"], tmp_path / "t.jpg", info)
    assert upright is not None and turned is not None
    with Image.open(upright.path) as im:
        expected = im.rotate(-info.rotation, expand=True)  # PIL turns counter-clockwise
        expected.save(tmp_path / "expected.png")
    for xy in [(90, 40), (90, 280), (20, 160), (160, 160)]:
        assert colour_at(tmp_path / "expected.png", xy) == colour_at(turned.path, xy)


async def test_poster_of_a_huge_video_is_scaled_to_the_max_dimension(samples, tmp_path):
    info = await probe(samples["huge.mkv"], max_pixels=None)
    poster = await make_poster(samples["huge.mkv"], tmp_path / "p.jpg", info, max_dimension=800)
    assert poster is not None and (poster.width, poster.height) == (800, 800)


async def test_poster_of_a_corrupt_file_raises_and_leaves_nothing(samples, tmp_path):
    info = await probe(samples["h264_aac.mp4"])  # the caller believed it was this
    with pytest.raises(MediaError):
        await make_poster(samples["garbled.mp4"], tmp_path / "p.jpg", info)
    assert no_files_like(tmp_path / "p.jpg") == []


# --------------------------------------------------------------------------- decision


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("h264_aac.mp4", None),
        ("phone.mov", ("encode video", "copy audio")),  # QuickTime, rotated: re-encoded upright
        ("upright.mov", ("copy video", "copy audio")),  # QuickTime: remuxed into MP4
        ("vp9_opus.webm", None),
        ("h264_aac.mkv", ("copy video", "copy audio")),
        ("hevc.mkv", ("encode video", "copy audio")),
        ("mpeg4.avi", ("encode video", "encode audio")),  # MP3 becomes AAC
        ("vp9_opus.mkv", ("encode video", "encode audio")),
        ("h264_10bit.mp4", ("encode video", "no audio")),
    ],
)
async def test_which_videos_get_a_web_copy(samples, name, expected):
    plan = needs_web_copy(await probe(samples[name]))
    if expected is None:
        assert plan is None
        return
    assert plan is not None and plan.kind == "video" and plan.extension == "mp4"
    video = "copy video" if plan.copy_video else "encode video"
    audio = "no audio" if plan.audio_stream is None else "copy audio"
    if plan.audio_stream is not None and not plan.copy_audio:
        audio = "encode audio"
    assert (video, audio) == expected
    assert plan.reasons


async def test_ten_bit_h264_is_copied_for_its_pixel_format(samples):
    plan = needs_web_copy(await probe(samples["h264_10bit.mp4"]))
    assert plan is not None and plan.reasons == ("pixel format yuv420p10le",)


async def test_a_4k_h264_mp4_is_served_as_it_is(samples):
    info = await probe(samples["h264_aac.mp4"])
    assert needs_web_copy(dataclasses.replace(info, width=3840, height=2160)) is None


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((1920, 1080), (1280, 720), (1280, 720)),
        ((1080, 1920), (1280, 720), (720, 1280)),  # portrait: the box turns with it
        ((640, 480), (1280, 720), (640, 480)),  # never upscaled
        ((321, 241), (1280, 720), (320, 240)),  # even sides, not larger than the source
        ((8000, 8000), (1280, 720), (720, 720)),
        ((1920, 800), (1280, 720), (1280, 534)),
        ((3, 1), (1280, 720), (2, 2)),
    ],
)
def test_fit_within_keeps_aspect_and_even_sides(size, box, expected):
    assert fit_within(*size, *box) == expected


# --------------------------------------------------------------------------- transcode


async def test_web_copy_is_h264_aac_with_the_moov_atom_first(samples, tmp_path):
    info = await probe(samples["hevc.mkv"])
    plan = needs_web_copy(info)
    assert plan is not None
    fractions: list[float] = []
    dest = tmp_path / "web.mp4"
    result = await transcode(
        samples["hevc.mkv"], dest, plan, timeout=60, on_progress=fractions.append
    )
    assert result.path == dest and result.size == dest.stat().st_size
    out = await probe(dest)
    assert (out.video_codec, out.audio_codec, out.pix_fmt) == ("h264", "aac", "yuv420p")
    assert out.display_size == (320, 240)  # small sources are not upscaled
    assert out.duration == pytest.approx(info.duration, abs=0.15)
    atoms = top_level_atoms(dest)
    assert atoms.index("moov") < atoms.index("mdat")
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert no_files_like(dest) == [dest]


async def test_web_copy_of_h264_in_matroska_is_a_remux(samples, tmp_path):
    plan = needs_web_copy(await probe(samples["h264_aac.mkv"]))
    assert plan is not None and plan.copy_video and plan.copy_audio
    await transcode(samples["h264_aac.mkv"], tmp_path / "web.mp4", plan, timeout=60)
    out = await probe(tmp_path / "web.mp4")
    assert (out.video_codec, out.audio_codec, out.display_size) == ("h264", "aac", (320, 240))


async def test_web_copy_of_a_rotated_clip_is_upright_and_fits_the_profile(samples, tmp_path):
    profile = EncoderProfile(max_width=160, max_height=90)
    plan = plan_transcode(await probe(samples["phone.mov"]), profile)
    assert (plan.width, plan.height) == (90, 160)
    await transcode(samples["phone.mov"], tmp_path / "web.mp4", plan, profile, timeout=60)
    out = await probe(tmp_path / "web.mp4")
    assert out.rotation == 0 and (out.width, out.height) == (90, 160)
    poster = await make_poster(tmp_path / "web.mp4", tmp_path / "p.jpg", out)
    assert poster is not None
    assert colour_at(poster.path, (45, 20)) == "red"
    assert colour_at(poster.path, (45, 140)) == "blue"


async def test_progress_goes_from_zero_through_fractions_to_one(samples, tmp_path):
    plan = plan_transcode(await probe(samples["long.mp4"]))
    fractions: list[float] = []
    await transcode(
        samples["long.mp4"],
        tmp_path / "web.mp4",
        plan,
        timeout=60,
        on_progress=fractions.append,
        progress_interval=0.1,
    )
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert sum(0.0 < f < 1.0 for f in fractions) >= 2, fractions
    assert fractions == sorted(fractions)


async def test_cancel_stops_the_transcode_and_removes_the_partial_copy(samples, tmp_path):
    slow = EncoderProfile(preset="veryslow")  # ~10 s for this clip: still running when cancelled
    plan = plan_transcode(await probe(samples["long.mp4"]), slow)
    dest = tmp_path / "web.mp4"
    cancel = asyncio.Event()

    def on_progress(fraction: float) -> None:
        if fraction > 0:
            cancel.set()

    started = time.monotonic()
    with pytest.raises(Cancelled):
        await transcode(
            samples["long.mp4"],
            dest,
            plan,
            slow,
            timeout=60,
            on_progress=on_progress,
            cancel=cancel,
        )
    assert time.monotonic() - started < 8
    assert no_files_like(dest) == []


async def test_a_tiny_timeout_raises_tool_timed_out_and_leaves_no_file(samples, tmp_path):
    plan = plan_transcode(await probe(samples["long.mp4"]))
    dest = tmp_path / "web.mp4"
    with pytest.raises(ToolTimedOut):
        await transcode(samples["long.mp4"], dest, plan, timeout=0.3)
    assert no_files_like(dest) == []


async def test_transcode_from_a_hanging_input_times_out(samples, tmp_path):
    plan = plan_transcode(await probe(samples["h264_aac.mp4"]))
    fifo = tmp_path / "never.mp4"
    os.mkfifo(fifo)  # ffmpeg blocks opening it, deaf to SIGTERM: needs the SIGKILL
    dest = tmp_path / "web.mp4"
    started = time.monotonic()
    with pytest.raises(ToolTimedOut):
        await transcode(fifo, dest, plan, timeout=0.3)
    assert time.monotonic() - started < 5
    assert no_files_like(dest) == []


@pytest.mark.parametrize("name", ["garbled.mp4", "text.mp4", "empty.mp4", "truncated.mp4"])
async def test_transcode_of_a_corrupt_file_raises_tool_failed_with_ffmpegs_words(
    samples, tmp_path, name
):
    plan = plan_transcode(await probe(samples["h264_aac.mp4"]))
    dest = tmp_path / "web.mp4"
    with pytest.raises(ToolFailed) as caught:
        await transcode(samples[name], dest, plan, timeout=30)
    assert "Invalid data" in caught.value.reason
    assert str(tmp_path) not in caught.value.reason
    assert no_files_like(dest) == []


async def test_a_cancel_set_before_starting_raises_at_once(samples, tmp_path):
    plan = plan_transcode(await probe(samples["h264_aac.mp4"]))
    cancel = asyncio.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        await transcode(samples["h264_aac.mp4"], tmp_path / "w.mp4", plan, timeout=9, cancel=cancel)
    assert no_files_like(tmp_path / "w.mp4") == []


# --------------------------------------------------------------------------- tools


async def test_run_tool_returns_stdout():
    assert await run_tool(["echo", "hello"], timeout=5) == b"hello\n"


async def test_run_tool_failure_carries_the_last_ten_stderr_lines():
    script = "for i in $(seq 1 50); do echo line$i >&2; done; exit 3"
    with pytest.raises(ToolFailed) as caught:
        await run_tool(["sh", "-c", script], timeout=5)
    reason = caught.value.reason
    assert "exit status 3" in reason
    assert "line50" in reason and "line41" in reason and "line40" not in reason


async def test_run_tool_drains_a_flood_of_stderr_without_blocking():
    script = "head -c 3000000 /dev/zero | tr '\\0' x >&2; echo done"
    assert await run_tool(["sh", "-c", script], timeout=10) == b"done\n"


async def test_run_tool_kills_a_tool_that_runs_too_long():
    started = time.monotonic()
    with pytest.raises(ToolTimedOut):
        await run_tool(["sleep", "30"], timeout=0.2)
    assert time.monotonic() - started < 3


async def test_run_tool_kills_a_tool_that_ignores_sigterm():
    started = time.monotonic()
    with pytest.raises(ToolTimedOut):
        await run_tool(["sh", "-c", "trap '' TERM; exec sleep 30"], timeout=0.2)
    assert time.monotonic() - started < 4


async def test_run_tool_runs_under_nice():
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert int(await run_tool(["nice"], timeout=5, nice=7)) == min(19, base + 7)


async def test_run_tool_reports_a_missing_tool_as_tool_failed():
    with pytest.raises(ToolFailed, match="could not be started"):
        await run_tool(["no-such-tool-atrium"], timeout=5)
