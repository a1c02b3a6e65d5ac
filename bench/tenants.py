"""Does the cost of the service grow with its tenant count? (`python -m bench.tenants`)

For 1, 100 and 1,000 tenants (each provisioned and installed, so its home page is a real
gallery page) this starts the real service as a process on the embedded database and
prints: start time (until /_health answers), resident memory of the service after the
load (and of the embedded database child), and p50/p99 latency of a tenant home page
requested on random tenants by 20 concurrent clients (wrk when installed: three rounds of
5 s after a warm-up, each row reporting its median round and the rounds' p99 spread).
`--keep DIR` provisions into DIR once and reuses it, to compare changes quickly.

Targets: start time flat, memory growth under 50 MB per 1,000 tenants, p99 at 1,000
tenants within 1.3x of 1 tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from tornado.httpclient import AsyncHTTPClient

from bench.wrk import run_wrk

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Marking-Tenants-1"


async def install_tenant(registry, slug: str, title: str, password: str = PASSWORD):
    """Create and install a tenant (admin user `admin`); return its fresh context."""
    from tenants.installer import finish_install
    from tenants.provision import create_tenant

    _, token = await create_tenant(registry, slug, title, [], "")
    ctx = await registry.context_for_slug(slug)
    await finish_install(registry, ctx, token, {
        "title": title, "username": "admin", "email": f"a@{slug}.test",
        "password": password, "password2": password,
    })
    return await registry.context_for_slug(slug)


async def provision(data_dir: Path, count: int, concurrency: int = 24) -> None:
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        registry = services.registry

        async def one(i: int) -> None:
            await install_tenant(registry, f"t{i:04d}", f"Gallery {i}")

        # A pool of workers rather than batches: a slow tenant does not hold up the rest.
        pending = iter(range(count))

        async def worker() -> None:
            for i in pending:
                await one(i)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await services.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    client = AsyncHTTPClient()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("service exited during start-up")
        try:
            response = await client.fetch(f"http://127.0.0.1:{port}/_health", raise_error=False)
            if response.code == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.02)
    raise RuntimeError("service did not become healthy")


async def load(port: int, slugs: list[str], requests: int, clients: int, *, each_once: bool = False) -> list[float]:
    """Latencies of `requests` home pages on random tenants (or of every tenant once, in a
    random order, with `each_once`), `clients` at a time."""
    client = AsyncHTTPClient(max_clients=clients)
    latencies: list[float] = []
    rng = random.Random(7)
    order = rng.sample(slugs, len(slugs)) if each_once else None
    remaining = len(slugs) if each_once else requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            slug = order[remaining] if order else rng.choice(slugs)
            start = time.perf_counter()
            response = await client.fetch(f"http://127.0.0.1:{port}/g/{slug}/", raise_error=False)
            latencies.append(time.perf_counter() - start)
            if response.code != 200:
                raise RuntimeError(f"{slug}: HTTP {response.code}")

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


ROUNDS, ROUND_SECONDS = 3, 5.0

# wrk asks for the home page of a random tenant on every request (prefix routing).
_WRK_SCRIPT = """
local paths = {%s}
math.randomseed(7)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def wrk_random_tenants(port: int, slugs: list[str], clients: int, duration: float) -> dict:
    """p50/p99/req/s from wrk (a separate C process, so the load generator does not take
    the service's CPU the way an in-process Python client does)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % ", ".join(f'"/g/{slug}/"' for slug in slugs))
    try:
        result = run_wrk(f"http://127.0.0.1:{port}", clients, duration, {}, script=script.name)
    finally:
        os.unlink(script.name)
    if result["errors"]:
        raise RuntimeError(f"wrk saw {result['errors']} non-2xx answers")
    return result


async def measure(count: int, requests: int, clients: int, extra_env: dict | None = None,
                  use_wrk: bool = False, keep: Path | None = None) -> dict:
    if keep is not None:
        data_dir = keep / f"{count}-tenants"
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        data_dir = Path(tempfile.mkdtemp(prefix=f"atrium-bench-{count}-"))
    try:
        t0 = time.perf_counter()
        done = data_dir / "provisioned"
        if not done.exists():
            await provision(data_dir, count)
            done.touch()
        provision_s = time.perf_counter() - t0
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
        env.update(ATRIUM_LOGGING_ACCESS_LOG="false", ATRIUM_LOGGING_LEVEL="WARNING", ATRIUM_JOBS_WORKERS="0")
        env.update(extra_env or {})
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--data-dir", str(data_dir), "run", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            await wait_healthy(port, proc)
            start_s = time.perf_counter() - start
            service = psutil.Process(proc.pid)
            rss_start = service.memory_info().rss
            slugs = [f"t{i:04d}" for i in range(count)]
            # First visits: the tenant's record, settings and database file are not yet
            # open or cached in the fresh service. Then the steady state on random tenants.
            first = await load(port, slugs, 0, clients, each_once=True)
            await load(port, slugs, min(200, requests), clients)  # warm-up
            if use_wrk:
                # Rounds, each row reporting its median round: on a small shared machine one
                # noisy second moves a p99 of ~10 ms by more than the effect measured.
                rounds = [await asyncio.to_thread(wrk_random_tenants, port, slugs, clients, ROUND_SECONDS)
                          for _ in range(ROUNDS)]
            else:
                started = time.perf_counter()
                latencies = await load(port, slugs, requests, clients)
                wall_s = time.perf_counter() - started
            rss = service.memory_info().rss
            children = service.children(recursive=True)
            db_rss = sum(c.memory_info().rss for c in children)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        row = {
            "tenants": count, "provision_s": provision_s, "start_s": start_s,
            "rss_start_mb": rss_start / 2**20, "rss_mb": rss / 2**20, "db_rss_mb": db_rss / 2**20,
            "first_p99_ms": 1000 * percentile(first, 99),
        }
        if use_wrk:
            p99s = sorted(r["p99"] for r in rounds)
            row.update(
                p50_ms=statistics.median(r["p50"] for r in rounds), p99_ms=statistics.median(p99s),
                rps=statistics.median(r["rps"] for r in rounds), p99_spread=(p99s[0], p99s[-1]),
            )
        else:
            row.update(
                p50_ms=1000 * percentile(latencies, 50), p99_ms=1000 * percentile(latencies, 99),
                rps=len(latencies) / wall_s,  # requests answered per second of wall-clock time
            )
        return row
    finally:
        if keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,100,1000")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--env", action="append", default=[], metavar="ATRIUM_KEY=VALUE",
                        help="configuration for the measured service (repeatable)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator for the steady state (auto: wrk when installed)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="provision into DIR and reuse it on the next run (to compare changes)")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    use_wrk = args.client == "wrk" or (args.client == "auto" and bool(shutil.which("wrk")))
    rows = []
    for count in [int(c) for c in args.counts.split(",")]:
        rows.append(asyncio.run(measure(count, args.requests, args.clients, extra_env, use_wrk, args.keep)))
        print(f"measured {count} tenants", file=sys.stderr, flush=True)
    print()
    client = (f"wrk, median of {ROUNDS} rounds of {ROUND_SECONDS:.0f} s" if use_wrk
              else f"Python client, {args.requests} requests")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; steady state: {client}, "
          f"{args.clients} connections on random tenants; 'first p99': each tenant's first visit after start")
    print(f"{'tenants':>8} {'provision s':>12} {'start s':>8} {'RSS MB':>8} {'DB RSS MB':>10} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'p99 rounds':>12} {'req/s':>8} {'first p99':>10}")
    for r in rows:
        spread = "{:.1f}-{:.1f}".format(*r["p99_spread"]) if "p99_spread" in r else "-"
        print(f"{r['tenants']:>8} {r['provision_s']:>12.1f} {r['start_s']:>8.2f} {r['rss_mb']:>8.1f} "
              f"{r['db_rss_mb']:>10.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {spread:>12} "
              f"{r['rps']:>8.0f} {r['first_p99_ms']:>10.1f}")
    first, last = rows[0], rows[-1]
    growth = (last["rss_mb"] - first["rss_mb"]) / max(last["tenants"] - first["tenants"], 1) * 1000
    print()
    print(f"start time ratio {last['tenants']} vs {first['tenants']} tenants: {last['start_s'] / first['start_s']:.2f}x (target: flat)")
    print(f"service memory growth per 1,000 tenants: {growth:.1f} MB (target < 50 MB)")
    print(f"p99 ratio {last['tenants']} vs {first['tenants']} tenants: {last['p99_ms'] / first['p99_ms']:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
