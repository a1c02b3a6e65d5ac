"""Do album pages stay fast on a 10,000-item album? (`python -m bench.pages`)

Fills one album with 10,000 media records (documents of the shape
gallery.library.media.media_document makes, each with a tiny generated thumbnail file on disk)
and one with 60, starts the real service as a process on the embedded database, and
measures with 20 concurrent keep-alive clients (wrk when installed, otherwise a
multi-process Python client): p50/p99 latency and requests per second of

- the album page, first page and a middle page, on both albums (anonymous visitor),
  and the 10,000 album's first page for a signed-in administrator;
- the album media API (offset and cursor) on a middle page;
- the media page;
- the authorizing thumbnail handler (/media/<id>/thumbnail) and, side by side in the
  same run, Tornado's plain StaticFileHandler serving the same file from a second
  tiny Tornado process;
- mixed anonymous traffic (album and media pages, thumbnails, API listings and media
  reads over 20 items of each; every request a random one) at 20 and at 200
  connections: p50, p99, errors (non-2xx/3xx and socket errors), req/s.

- the timeline (issue 17, item 15) over --timeline items (default 100,000; bench/pages_timeline.py):
  cached rows (its first page, a jump to a month, its API at a middle cursor; the first page
  and a cursor for a member whose role opens two albums, the big and the small) and uncached
  rows, a first visit of each page as a scrolling visitor meets them (distinct month jumps
  and cursors, none asked for before), anonymous and member, API and page.

Targets: album page and timeline p99 < 60 ms, the 10,000 album within 1.2x of the 60 album, the
thumbnail handler at least 0.5x the StaticFileHandler's requests per second, the album
media API within 3x of the album page's CPU per request, no errors in mixed traffic. The
machine's load average is printed: on a shared machine compare rows of one run.

    python -m bench.pages [--big 10000] [--small 60] [--timeline 100000] [--duration 5] [--clients 20]
                          [--mixed-clients 200] [--client auto|wrk|python] [--only timeline]
                          [--data-dir DIR] [--connections 20,1]

`--data-dir DIR` keeps the filled gallery in DIR and uses it again on the next run with the
same sizes (filling 100,000 records takes minutes). `--connections 20,1` measures the
timeline rows at 20 connections and again at 1 (one visitor scrolling: the latency a person
meets for a page nobody asked for before), side by side in the timeline summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import pages_timeline
from bench.pages_data import SLUG, prepare
from bench.tenants import ROOT, free_port, wait_healthy
from bench.wrk import run_wrk

# ------------------------------------------------------------------ the processes

STATIC_APP = """
import asyncio, sys, tornado.web
async def main():
    app = tornado.web.Application([(r"/(.*)", tornado.web.StaticFileHandler, {"path": sys.argv[2]})])
    app.listen(int(sys.argv[1]), "127.0.0.1")
    await asyncio.Event().wait()
asyncio.run(main())
"""


def start_service(data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
    env.update(ATRIUM_LOGGING_ACCESS_LOG="false", ATRIUM_LOGGING_LEVEL="WARNING",
               ATRIUM_JOBS_WORKERS="0")
    # Its log beside the data directory (which is removed at the end): why it stopped, if it does.
    log = open(f"{data_dir}-service.log", "wb")  # noqa: SIM115 (the process keeps it)
    print(f"service log: {log.name}", file=sys.stderr, flush=True)
    return subprocess.Popen(
        [sys.executable, "-m", "server", "--data-dir", str(data_dir), "run", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


# ------------------------------------------------------------------ load generators


def _python_worker(url: str | list[str], headers: dict, threads: int, deadline: float, queue) -> None:
    """One client process: `threads` keep-alive connections issuing requests until deadline
    (to `url`, or to a random one of a list of URLs of one host)."""
    import http.client
    import random
    import threading
    from urllib.parse import urlsplit

    urls = url if isinstance(url, list) else [url]
    parts = urlsplit(urls[0])
    targets = [(p.path + (f"?{p.query}" if p.query else "")) for p in map(urlsplit, urls)]
    latencies: list[float] = []
    errors = [0]

    def loop() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            conn.request("GET", random.choice(targets), headers=headers)
            resp = conn.getresponse()
            resp.read()
            latencies.append((time.perf_counter() - start) * 1000)
            if resp.status >= 400:
                errors[0] += 1
        conn.close()

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put((latencies, errors[0]))


MIXED_SCRIPT = """
-- Anonymous mixed traffic: each request a random one of these paths.
local paths = {%s}
local n = #paths
init = function(args)
  math.randomseed(os.time() * 1000 + (tonumber(tostring({}):sub(8), 16) or 0))
end
request = function()
  return wrk.format("GET", paths[math.random(n)])
end
"""


def run_mixed(use_wrk: bool, urls: list[str], clients: int, duration: float,
              headers: dict | None = None) -> dict:
    """Each connection requests a random URL of `urls` (same host) after another."""
    if not use_wrk:
        return run_python(urls, clients, duration, headers or {})
    from urllib.parse import urlsplit

    parts = [urlsplit(u) for u in urls]
    paths = ", ".join(json.dumps(p.path + (f"?{p.query}" if p.query else "")) for p in parts)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(MIXED_SCRIPT % paths)
    try:
        base = f"{parts[0].scheme}://{parts[0].netloc}/"
        return run_wrk(base, clients, duration, headers or {}, script=script.name)
    finally:
        os.unlink(script.name)


def run_python(url: str | list[str], clients: int, duration: float, headers: dict) -> dict:
    processes = 2
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    deadline = time.monotonic() + duration
    procs = [
        ctx.Process(target=_python_worker,
                    args=(url, headers, clients // processes + (i < clients % processes), deadline, queue))
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        lat, err = queue.get()
        latencies += lat
        errors += err
    for p in procs:
        p.join()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    return {"p50": pick(0.50), "p99": pick(0.99), "rps": len(latencies) / duration,
            "errors": errors, "note": ""}


# ------------------------------------------------------------------ the run


def _cpu_seconds(proc) -> float:
    """User + system CPU of a process and its children (the embedded database)."""
    import psutil

    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def measure_all(args, data: dict, port: int, static_port: int, pids: tuple[int, int]) -> list[dict]:
    import psutil

    service, static = psutil.Process(pids[0]), psutil.Process(pids[1])
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    runner = run_wrk if use_wrk else run_python
    base = f"http://127.0.0.1:{port}/g/{SLUG}"
    big, small = data["albums"]["big"], data["albums"]["small"]
    middle = big["media"][len(big["media"]) // 2]
    page_size = 60
    middle_page = max(1, len(big["media"]) // page_size // 2)
    # A cursor in the middle of the big album, as infinite scroll would send it.
    _, body = fetch(f"{base}/api/v1/albums/{big['id']}/media?offset={len(big['media']) // 2 - 60}&limit=60")
    cursor = json.loads(body or b"{}").get("next_cursor") or ""
    signed_in = {"Cookie": data["cookie"]}
    thumb_path = f"{middle}/thumbnail.jpg"
    rows = [
        (f"album page, {len(big['media'])} items, page 1", f"{base}/albums/{big['id']}", {}),
        (f"album page, {len(big['media'])} items, page {middle_page}",
         f"{base}/albums/{big['id']}?page={middle_page}", {}),
        (f"album page, {len(small['media'])} items, page 1", f"{base}/albums/{small['id']}", {}),
        (f"album page, {len(big['media'])} items, signed in", f"{base}/albums/{big['id']}", signed_in),
        ("album media API, middle offset",
         f"{base}/api/v1/albums/{big['id']}/media?offset={len(big['media']) // 2}&limit=60", {}),
        ("album media API, middle cursor",
         f"{base}/api/v1/albums/{big['id']}/media?cursor={cursor}&limit=60", {}),
        ("media page", f"{base}/media/{middle}", {}),
        *pages_timeline.cached_rows(base, data, fetch),
        ("thumbnail handler", f"{base}/media/{middle}/thumbnail", {}),
        ("thumbnail handler, signed in", f"{base}/media/{middle}/thumbnail", signed_in),
        ("tornado StaticFileHandler", f"http://127.0.0.1:{static_port}/{thumb_path}", {}),
    ]
    if args.only:
        rows = [row for row in rows if row[0].startswith(args.only)]
    results = []
    # The timeline rows at each of --connections (1: one visitor, bench/pages_timeline.py).
    connections = [int(n) for n in args.connections.split(",")] if args.connections else [args.clients]
    for name, url, headers in rows:
        status, _ = fetch(url, headers)
        if status != 200:
            results.append({"name": name, "status": status})
            print(f"{name}: HTTP {status}, skipped", file=sys.stderr, flush=True)
            continue
        server = service if "StaticFileHandler" not in name else static
        for clients in connections if name.startswith("timeline") else [args.clients]:
            if clients == 1:
                run = lambda d: pages_timeline.run_one_connection([url], d, headers, fresh=False)
            else:
                run = lambda d: runner(url, clients, d, headers)
            run(min(1.0, args.duration))  # warm-up
            cpu_before = _cpu_seconds(server)
            result = run(args.duration)
            # CPU time of the server processes per request: far less disturbed than latency
            # by other work on a shared machine.
            requests = max(1.0, result["rps"] * args.duration)
            result["cpu_ms"] = (_cpu_seconds(server) - cpu_before) * 1000 / requests
            label = pages_timeline.at_connections(name, clients, args.clients)
            result.update(name=label, row=name, connections=clients, status=status)
            results.append(result)
            print(f"measured {label}", file=sys.stderr, flush=True)
    # First visits: distinct pages, none answered from the page cache (bench/pages_timeline.py).
    if not args.only or args.only.startswith("timeline") or "timeline".startswith(args.only):
        for name, urls, headers in pages_timeline.uncached_rows(base, data, fetch, args.distinct, args.only):
            for clients in connections:
                cpu_before = _cpu_seconds(service)
                if clients == 1:
                    result = pages_timeline.run_one_connection(urls, args.duration, headers, fresh=True)
                else:
                    result = pages_timeline.run_sequential(bool(use_wrk), urls, clients, args.duration,
                                                           headers, run_wrk, run_python)
                requests = max(1.0, result["rps"] * args.duration)
                result["cpu_ms"] = (_cpu_seconds(service) - cpu_before) * 1000 / requests
                label = pages_timeline.at_connections(name, clients, args.clients)
                result.update(name=label, row=name, connections=clients, status=200)
                results.append(result)
                print(f"measured {label}", file=sys.stderr, flush=True)
    if not args.only:
        results += measure_mixed(args, data, base, service, bool(use_wrk), cursor)
    return results


def mixed_urls(data: dict, base: str, cursor: str, variety: int = 20) -> list[str]:
    """Anonymous traffic of a busy gallery: album pages, media pages, thumbnails and API
    reads (listings at several offsets, single media), `variety` different items of each."""
    big, small = data["albums"]["big"], data["albums"]["small"]
    step = max(1, len(big["media"]) // variety)
    picks = big["media"][::step][:variety]
    urls = [f"{base}/albums/{big['id']}", f"{base}/albums/{big['id']}?page=2",
            f"{base}/albums/{small['id']}"]
    urls += [f"{base}/media/{m}" for m in picks]
    urls += [f"{base}/media/{m}/thumbnail" for m in picks]
    urls += [f"{base}/api/v1/albums/{big['id']}/media?offset={i * step}&limit=60"
             for i in range(variety // 2)]
    urls += [f"{base}/api/v1/albums/{big['id']}/media?cursor={cursor}&limit=60",
             f"{base}/api/v1/albums/{small['id']}"]
    urls += [f"{base}/api/v1/media/{m}" for m in picks[: variety // 2]]
    return urls


def measure_mixed(args, data: dict, base: str, service, use_wrk: bool, cursor: str) -> list[dict]:
    """The same mixed traffic at --clients and at --mixed-clients connections."""
    urls = mixed_urls(data, base, cursor)
    for url in urls:
        status, _ = fetch(url)
        if status != 200:
            print(f"mixed traffic: {url} answers HTTP {status}", file=sys.stderr, flush=True)
    results = []
    for clients in (args.clients, args.mixed_clients):
        name = f"mixed traffic, {clients} connections"
        run_mixed(use_wrk, urls, clients, min(1.0, args.duration))  # warm-up
        cpu_before = _cpu_seconds(service)
        result = run_mixed(use_wrk, urls, clients, args.duration)
        requests = max(1.0, result["rps"] * args.duration)
        result["cpu_ms"] = (_cpu_seconds(service) - cpu_before) * 1000 / requests
        result.update(name=name, status=200)
        results.append(result)
        print(f"measured {name}", file=sys.stderr, flush=True)
    return results


def print_table(results: list[dict], client: str, big_count: int, small_count: int) -> None:
    print()
    print(f"load: {client}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'':50} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7} {'CPU ms/req':>11}")
    by_name = {}
    for r in results:
        by_name[r["name"]] = r
        if "rps" not in r:
            print(f"{r['name']:50} {'n/a (HTTP ' + str(r['status']) + ')':>34}")
            continue
        print(f"{r['name']:50} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['rps']:>8.0f} {r['errors']:>7} {r['cpu_ms']:>11.2f}")
    print()
    albums = [r for r in results if r["name"].startswith("album page") and "rps" in r]
    if albums:
        worst = max(r["p99"] for r in albums)
        print(f"album page p99 (worst row): {worst:.1f} ms (target < 60 ms)")
    pages_timeline.print_summary(results)
    # The rows are named after the album sizes asked for (--big, --small).
    big = by_name.get(f"album page, {big_count} items, page 1")
    small = by_name.get(f"album page, {small_count} items, page 1")
    if big and small and small["p99"]:
        print(f"big vs small album page p99: {big['p99'] / small['p99']:.2f}x (target <= 1.2x); "
              f"CPU per request {big['cpu_ms'] / max(small['cpu_ms'], 1e-9):.2f}x")
    page = big  # the album page the API's listing is compared with: same album, cached
    for r in results:
        if r["name"].startswith("album media API") and page and "rps" in r:
            print(f"{r['name']} vs album page CPU per request: "
                  f"{r['cpu_ms'] / max(page['cpu_ms'], 1e-9):.2f}x (target <= 3x)")
        if r.get("note"):
            print(f"{r['name']}: socket errors {r['note']}")
    thumb, static = by_name.get("thumbnail handler"), by_name.get("tornado StaticFileHandler")
    if thumb and static and "rps" in thumb and "rps" in static:
        print(f"thumbnail handler vs StaticFileHandler req/s: {thumb['rps'] / static['rps']:.2f}x (target >= 0.5x); "
              f"CPU per request {thumb['cpu_ms']:.2f} vs {static['cpu_ms']:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=60)
    parser.add_argument("--timeline", type=int, default=100_000,
                        help="items in the gallery for the timeline rows (records are added beyond --big and --small)")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--mixed-clients", type=int, default=200,
                        help="connections of the second mixed-traffic row (the first uses --clients)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--distinct", type=int, default=600,
                        help="distinct pages gathered for each uncached timeline row")
    parser.add_argument("--connections", default="",
                        help="connections of the timeline rows, comma-separated, e.g. 20,1 (default: "
                             "--clients); 1 is one visitor: one keep-alive connection, a page after "
                             "the answer to the last")
    parser.add_argument("--data-dir", default="",
                        help="keep the filled gallery here and use it again when the sizes match")
    parser.add_argument("--only", default="",
                        help="measure only the rows whose name starts with this (e.g. timeline); no mixed traffic")
    args = parser.parse_args()
    keep = Path(args.data_dir) if args.data_dir else None
    data_dir = keep or Path(tempfile.mkdtemp(prefix="atrium-bench-pages-"))
    procs: list[subprocess.Popen] = []
    try:
        data = _kept(keep, args)
        if data is None:
            t0 = time.perf_counter()
            data = asyncio.run(prepare(data_dir, args.big, args.small, args.timeline))
            print(f"filled {data['timeline_items']} media in {time.perf_counter() - t0:.1f}s",
                  file=sys.stderr, flush=True)
            if keep:
                (keep / "bench-pages.json").write_text(json.dumps({"sizes": _sizes(args), "data": data}))
        port, static_port = free_port(), free_port()
        procs.append(start_service(data_dir, port))
        procs.append(subprocess.Popen(
            [sys.executable, "-c", STATIC_APP, str(static_port), data["derivatives"]],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        asyncio.run(wait_healthy(port, procs[0]))
        results = measure_all(args, data, port, static_port, (procs[0].pid, procs[1].pid))
        client = "wrk" if (args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))) else "python"
        print_table(results, f"{client}, {args.clients} connections, {args.duration:.0f}s per row",
                    args.big, args.small)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        if keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)


def _sizes(args) -> list[int]:
    return [args.big, args.small, args.timeline]


def _kept(keep: Path | None, args) -> dict | None:
    """The data of a gallery kept by an earlier run with the same sizes, if any."""
    if keep is None:
        return None
    if (keep / "bench-pages.json").exists():
        saved = json.loads((keep / "bench-pages.json").read_text())
        if saved["sizes"] == _sizes(args):
            print(f"using the gallery kept in {keep}", file=sys.stderr, flush=True)
            return saved["data"]
    if keep.exists() and any(keep.iterdir()):
        sys.exit(f"{keep} holds something else: give an empty or new directory")
    keep.mkdir(parents=True, exist_ok=True)
    return None


if __name__ == "__main__":
    main()
