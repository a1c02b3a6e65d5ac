"""Video processing timings on a generated 60 s 1080p clip: `python -m bench.video`.

Prints one table: ffprobe time, poster time (ours: input seek decoding key frames
only, next to an accurate seek for comparison) and the transcode's real-time factor
(seconds of media per second of work) for the default profile, 1080p → 720p.

Each measurement is an async function taking a `Bench` and returning rows; `main`
runs those in MEASUREMENTS in order. `start_transcode` runs the default transcode as a
task so a measurement can do something else while it runs, which is what the
album-page latency measurement needs (see the marked place in MEASUREMENTS).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from media.posters import make_poster
from media.probe import ProbeResult, probe
from media.tools import run_tool
from media.video import EncoderProfile, TranscodeResult, plan_transcode, transcode
from tests.media.av_samples import bench_1080p_mp4


@dataclass
class Row:
    measurement: str
    value: float
    unit: str
    note: str = ""


@dataclass
class Bench:
    clip: Path
    workdir: Path
    info: ProbeResult
    runs: int
    profile: EncoderProfile

    def start_transcode(self, name: str = "web.mp4") -> asyncio.Task[TranscodeResult]:
        """The default 1080p → 720p transcode as a task (under nice, as the job runner runs it)."""
        plan = plan_transcode(self.info, self.profile)
        dest = self.workdir / name
        return asyncio.ensure_future(
            transcode(self.clip, dest, plan, self.profile, timeout=900, nice=10)
        )


async def _timed(make: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await make()
        times.append(time.perf_counter() - started)
    return times


def _summary(times: list[float]) -> str:
    return f"median of {len(times)}, min {min(times):.3f}, max {max(times):.3f}"


async def measure_probe(bench: Bench) -> list[Row]:
    times = await _timed(lambda: probe(bench.clip), bench.runs)
    return [Row("ffprobe (JSON, format + streams)", statistics.median(times), "s", _summary(times))]


async def measure_poster(bench: Bench) -> list[Row]:
    """Ours next to an accurate seek, at the default time and just before a key frame.

    The clip has a key frame every second, so 3.0 s is one; at 3.9 s an accurate
    seek decodes 29 frames to get there, while ours takes the key frame at 4.0 s.
    """
    dest = bench.workdir / "poster.jpg"
    rows = []
    for at in (min(3.0, 0.1 * (bench.info.duration or 0)), 3.9):

        def ours(at: float = at) -> Awaitable[object]:
            return make_poster(bench.clip, dest, bench.info, offset=at, fraction=1.0)

        accurate = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        accurate += ["-ss", f"{at}", "-i", str(bench.clip), "-frames:v", "1", "-q:v", "3"]
        accurate += ["-f", "image2", str(dest)]
        for label, make in [
            ("-skip_frame nokey input seek (ours)", ours),
            ("accurate input seek", lambda args=accurate: run_tool(args, timeout=60)),
        ]:
            times = await _timed(make, bench.runs)
            rows.append(
                Row(f"poster at {at:g} s, {label}", statistics.median(times), "s", _summary(times))
            )
    return rows


async def measure_transcode(bench: Bench) -> list[Row]:
    result = await bench.start_transcode()
    out = await probe(result.path)
    note = (
        f"{bench.info.display_size} → {out.display_size}, crf {bench.profile.crf}, "
        f"{bench.profile.preset}, {result.size / 1e6:.1f} MB"
    )
    return [
        Row("transcode wall time", result.seconds, "s", note),
        Row(
            "transcode real-time factor",
            result.realtime_factor or 0.0,
            "× real time",
            "seconds of media per second of work",
        ),
    ]


MEASUREMENTS: list[Callable[[Bench], Awaitable[list[Row]]]] = [
    measure_probe,
    measure_poster,
    measure_transcode,
    # ── HOOK: measure_album_latency(bench) goes here once the web service exists ──
    # "Album page p99 under 20 concurrent clients while a transcode runs vs without":
    # start the app on a temporary storage root, load an album page with 20
    # concurrent clients for N seconds (p50/p99), then again while
    # `bench.start_transcode()` runs, and return both as rows.
]


def print_table(rows: list[Row]) -> None:
    width = max(len(r.measurement) for r in rows)
    print(f"{'measurement':<{width}}  {'value':>9}  {'unit':<12}  note")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 12}  {'-' * 4}")
    for r in rows:
        print(f"{r.measurement:<{width}}  {r.value:>9.3f}  {r.unit:<12}  {r.note}")


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.video", description=__doc__)
    parser.add_argument("--seconds", type=int, default=60, help="length of the clip")
    parser.add_argument("--runs", type=int, default=5, help="repetitions of quick steps")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "atrium-bench-video",
        help="where the clip is generated (and kept for the next run) and outputs go",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    clip_path = args.workdir / f"testsrc2-1080p30-{args.seconds}s.mp4"
    if not clip_path.exists():
        print(f"generating {clip_path} (once) …", flush=True)
    clip = await asyncio.to_thread(bench_1080p_mp4, clip_path, args.seconds)
    info = await probe(clip)
    bench = Bench(clip, args.workdir, info, args.runs, EncoderProfile())
    print(
        f"clip: {info.display_size[0]}×{info.display_size[1]} {info.video_codec} "
        f"{info.pix_fmt}, {info.frame_rate:g} fps, {info.duration:g} s, {info.audio_codec}"
    )
    load_before = os.getloadavg()[0]
    rows: list[Row] = []
    for measure in MEASUREMENTS:
        rows += await measure(bench)
    print_table(rows)
    # Other work on the machine skews every number here; say how busy it was.
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    asyncio.run(main())
