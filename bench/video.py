"""Video processing timings on a generated 60 s 1080p clip: `python -m bench.video`.

Prints one table: ffprobe time, poster time (ours: input seek decoding key frames
only, next to an accurate seek for comparison), the transcode's real-time factor
(seconds of media per second of work) for the default profile, 1080p → 720p, and the
album page's p50/p99 latency under 20 concurrent clients with and without a transcode.

Each measurement is an async function taking a `Bench` and returning rows; `main`
runs those in MEASUREMENTS in order. `start_transcode` runs the default transcode as a
task so a measurement can do something else while it runs: `measure_album_latency`
loads the album page with 20 concurrent clients without and during a transcode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
        from gallery.processing.transcoding import TRANSCODE_NICE

        plan = plan_transcode(self.info, self.profile)
        dest = self.workdir / name
        return asyncio.ensure_future(
            transcode(self.clip, dest, plan, self.profile, timeout=900, nice=TRANSCODE_NICE)
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


LATENCY_CLIENTS = 20
LATENCY_SECONDS = 8.0
ALBUM_ITEMS = 60


async def _album_with_media(data_dir: Path) -> str:
    """Provision the bench tenant with an album of ALBUM_ITEMS small photos; its id."""
    from PIL import Image

    from bench.upload import SLUG, provision
    from gallery.library import albums
    from gallery.library.media import add_media_file, enqueue_processing
    from jobs.queue import JobQueue
    from server.config import load_config
    from server.services import build_services

    await provision(data_dir)
    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        ctx = await services.registry.context_for_slug(SLUG)
        root = await albums.root_album(ctx)
        admin = await albums_viewer(ctx)
        album = await albums.create_album(ctx, admin, root["_id"], {"title": "Latency"})
        queue = JobQueue(services.host_db)
        photo = data_dir / "photo.jpg"
        for i in range(ALBUM_ITEMS):
            Image.new("RGB", (800, 600), (i * 4 % 256, 90, 160)).save(photo, "JPEG")
            media = await add_media_file(ctx, album, photo, f"photo-{i:02d}.jpg", copy=True)
            await enqueue_processing(ctx, queue, media["_id"])
        return album["_id"]
    finally:
        await services.close()


async def albums_viewer(ctx):
    from gallery.people.permissions import viewer_for

    user = await ctx.db.users.find_one({"username": "admin"})
    return await viewer_for(ctx, user, {})


async def _load(url: str, seconds: float, clients: int) -> list[float]:
    """`clients` loops GETting `url` for `seconds`; every request's latency in seconds."""
    from tornado.httpclient import AsyncHTTPClient

    http = AsyncHTTPClient(force_instance=True, max_clients=clients)
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            started = time.perf_counter()
            response = await http.fetch(url, raise_error=False, request_timeout=60)
            latencies.append(time.perf_counter() - started)
            errors += response.code != 200

    await asyncio.gather(*(client() for _ in range(clients)))
    http.close()
    if errors:
        raise RuntimeError(f"{errors} of {len(latencies)} requests to {url} failed")
    return latencies


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure_album_latency(bench: Bench) -> list[Row]:
    """Album page p50/p99 under 20 concurrent clients, without and during a transcode.

    The service runs as its own process (as in production); the transcode runs here
    under the job runner's niceness, exactly as it starts ffmpeg, so both compete for
    the same cores. The album holds ALBUM_ITEMS processed photos.
    """
    import shutil
    import subprocess
    import sys

    from tornado.httpclient import AsyncHTTPClient

    from bench.tenants import free_port, wait_healthy
    from bench.upload import ROOT, SLUG

    data_dir = Path(tempfile.mkdtemp(prefix="latency-", dir=bench.workdir))
    proc = None
    try:
        album_id = await _album_with_media(data_dir)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
        env.update(ATRIUM_LOGGING_ACCESS_LOG="false", ATRIUM_LOGGING_LEVEL="WARNING")
        env.update(ATRIUM_JOBS_WORKERS="2", ATRIUM_LIMITS_IMAGE_WORKERS="2")
        args = [sys.executable, "-m", "server", "--data-dir", str(data_dir), "run"]
        proc = subprocess.Popen(  # noqa: ASYNC220 - starts at once, like bench.upload
            [*args, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await wait_healthy(port, proc)
        base = f"http://127.0.0.1:{port}/g/{SLUG}"
        api = AsyncHTTPClient()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the photos' thumbnails are made first
            page = await api.fetch(f"{base}/api/v1/albums/{album_id}/media?limit=100")
            items = json.loads(page.body)["items"]
            if items and all(m["state"] != "pending" for m in items):
                break
            await asyncio.sleep(0.5)
        url, measured = f"{base}/albums/{album_id}", "album page"
        probe_page = await api.fetch(url, raise_error=False)
        if probe_page.code != 200:  # no album page yet: the JSON listing it is made from
            url, measured = f"{base}/api/v1/albums/{album_id}/media", "album media API"
        await _load(url, 2.0, LATENCY_CLIENTS)  # warm-up
        idle = await _load(url, LATENCY_SECONDS, LATENCY_CLIENTS)
        task = bench.start_transcode("latency-web.mp4")
        await asyncio.sleep(1.0)  # let ffmpeg get going
        busy = await _load(url, LATENCY_SECONDS, LATENCY_CLIENTS)
        still_running = not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        if proc is not None:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 30)
        shutil.rmtree(data_dir, ignore_errors=True)
    path = url.split(f"/g/{SLUG}", 1)[1].replace(album_id, "<id>")
    note = f"GET {path}, {LATENCY_CLIENTS} clients × {LATENCY_SECONDS:g} s"
    during = "" if still_running else " (the transcode ended before the load did)"
    ratio = _p(busy, 0.99) / _p(idle, 0.99)
    return [
        Row(
            f"{measured} p50, no transcode",
            _p(idle, 0.5) * 1000,
            "ms",
            f"{note}, {len(idle)} requests",
        ),
        Row(f"{measured} p99, no transcode", _p(idle, 0.99) * 1000, "ms", note),
        Row(
            f"{measured} p50, during a transcode",
            _p(busy, 0.5) * 1000,
            "ms",
            f"{len(busy)} requests{during}",
        ),
        Row(
            f"{measured} p99, during a transcode",
            _p(busy, 0.99) * 1000,
            "ms",
            "ffmpeg under nice 19",
        ),
        Row(f"{measured} p99 ratio (target ≤ 1.5)", ratio, "×", "during / without"),
    ]


MEASUREMENTS: list[Callable[[Bench], Awaitable[list[Row]]]] = [
    measure_probe,
    measure_poster,
    measure_transcode,
    measure_album_latency,
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
    parser.add_argument(
        "--only",
        action="append",
        choices=[m.__name__.removeprefix("measure_") for m in MEASUREMENTS],
        help="run only this measurement (repeatable)",
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
        if not args.only or measure.__name__.removeprefix("measure_") in args.only:
            rows += await measure(bench)
    print_table(rows)
    # Other work on the machine skews every number here; say how busy it was.
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    asyncio.run(main())
