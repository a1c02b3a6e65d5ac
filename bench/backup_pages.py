"""The gallery home page's latency for other visitors while a backup job runs in the service
(bench/backup.py; `python -m bench.backup_pages DATA_DIR` on a data directory that holds a
gallery "source", such as the one bench/backup.py makes).

Four anonymous visitors ask for the page without pause, idle for IDLE_SECONDS (after a warm-up),
then for as long as a `gallery.backup` job runs, then idle again for IDLE_SECONDS; each request is stamped with the time
it started, and the job's progress is read every quarter second, so that the requests are
told apart by the job's phase: its start (snapshot, hand-over to the child, until the first
bytes are copied), the copying, and its end (backup.xml and the fsync). A p99 over a few
hundred idle requests moved by half from run to run on this machine: the idle windows give
thousands, before and after the job (the machine's state drifts meanwhile).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient

from bench.tenants import free_port, percentile, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
VISITORS = 4
WARM_SECONDS, IDLE_SECONDS = 3.0, 10.0
JOB_LIMIT_SECONDS = 300


@dataclass
class PageFigures:
    idle_ms: float
    busy_ms: float
    job_seconds: float
    idle_count: int
    busy_count: int
    phases: list  # [(name, seconds, count, p50 ms, p99 ms, max ms)]
    before_ms: float  # the idle p99 of each window
    after_ms: float

    @property
    def ratio(self) -> float:
        return self.busy_ms / self.idle_ms

    def lines(self) -> list[str]:
        out = [(f"home page p99: idle {self.idle_ms:.1f} ms ({self.idle_count} requests; {self.before_ms:.1f} "
                f"before the job, {self.after_ms:.1f} after), during a backup "
               f"job ({self.job_seconds:.1f} s, {self.busy_count} requests) {self.busy_ms:.1f} ms "
               f"= {self.ratio:.2f}x")]
        for name, seconds, count, p50, p99, top in self.phases:
            out.append(f"  {name:<34}{seconds:6.1f} s {count:6} requests  p50 {p50:6.1f}  p99 {p99:6.1f}  "
                       f"max {top:6.1f} ms")
        return out


async def _visit(port: int, stop: asyncio.Event, stamps: list) -> None:
    client = AsyncHTTPClient(max_clients=VISITORS)

    async def visitor() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            response = await client.fetch(f"http://127.0.0.1:{port}/g/source/", raise_error=False)
            stamps.append((start, time.perf_counter() - start))
            if response.code != 200:
                raise RuntimeError(f"home page: HTTP {response.code}")

    await asyncio.gather(*(visitor() for _ in range(VISITORS)))


async def _window(port: int, seconds: float) -> list:
    stamps: list = []
    stop = asyncio.Event()
    task = asyncio.ensure_future(_visit(port, stop, stamps))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    return stamps


def _ms(values: list[float], p: float) -> float:
    return percentile(values, p) * 1000


async def measure(data_dir: Path) -> PageFigures:
    from jobs.queue import JobQueue
    from server.config import load_config
    from server.services import build_services

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
    env.update(ATRIUM_LOGGING_ACCESS_LOG="false", ATRIUM_LOGGING_LEVEL="WARNING", ATRIUM_JOBS_WORKERS="1")
    proc = await asyncio.to_thread(
        subprocess.Popen, [sys.executable, "-m", "server", "--data-dir", str(data_dir), "run",
                           "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    services = None
    try:
        await wait_healthy(port, proc)
        await _window(port, WARM_SECONDS)
        idle = [latency for _, latency in await _window(port, IDLE_SECONDS)]
        config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
        services = await build_services(config)  # attaches to the service's database
        stamps: list = []
        stop = asyncio.Event()
        visitors = asyncio.ensure_future(_visit(port, stop, stamps))
        start = time.perf_counter()
        job_id = await JobQueue(services.host_db).enqueue("source", "gallery.backup", {"requested_by": "bench"})
        first_bytes = copied = None
        while (job := await services.host_db.jobs.find_one({"_id": job_id}))["state"] in ("queued", "running"):
            now = time.perf_counter()
            if now - start > JOB_LIMIT_SECONDS:
                raise SystemExit(f"the backup job did not end in {JOB_LIMIT_SECONDS} s: {job.get('state')} "
                                 f"{job.get('message') or ''}")
            done = job.get("progress") or 0
            if done > 0 and first_bytes is None:
                first_bytes = now
            if done >= 0.99 and copied is None:
                copied = now
            await asyncio.sleep(0.25)
        end = time.perf_counter()
        stop.set()
        await visitors
        # Idle again after the job (the machine's state drifts over a minute or two: the
        # job is measured between two idle windows, and against both).
        after = [latency for _, latency in await _window(port, IDLE_SECONDS)]
        if job["state"] != "done":
            raise SystemExit(f"the backup job ended {job['state']}: {job.get('error') or job.get('message')}")
        busy = [(s, latency) for s, latency in stamps if start <= s <= end]
        first_bytes = first_bytes or end
        copied = copied or end
        phases = []
        for name, (a, b) in {"start (snapshot, hand-over)": (start, first_bytes),
                             "copying the originals": (first_bytes, copied),
                             "end (backup.xml, fsync)": (copied, end)}.items():
            part = [latency for s, latency in busy if a <= s < b]
            if part:
                phases.append((name, b - a, len(part), _ms(part, 50), _ms(part, 99), max(part) * 1000))
        latencies = [latency for _, latency in busy] or [0.0]
        return PageFigures(_ms(idle + after, 99), _ms(latencies, 99), end - start, len(idle) + len(after),
                           len(busy), phases, _ms(idle, 99), _ms(after, 99))
    finally:
        if services is not None:
            await services.close()
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)


if __name__ == "__main__":
    print("\n".join(asyncio.run(measure(Path(sys.argv[1]))).lines()))
