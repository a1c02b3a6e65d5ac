"""How fast does a big upload go in, and does the service's memory stay flat? (`python -m bench.upload`)

Starts the real service (`python -m server run`, embedded database, a temporary data
directory on the same disk as the test file), installs one tenant with a high upload
limit, and uploads one file (default 2 GB of base64 text, which libmagic calls text/plain)
twice: as one streamed browser upload, and through tus in 64 MB PATCHes. The client sends
with sendfile(2) so that it costs the service as little CPU as possible on a small machine.

Prints MB/s for each, as a ratio of `cp` of the same file on the same disk (target >= 0.6),
and the service's peak resident memory sampled every 20 ms (target: flat, under 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import psutil

from bench.tenants import free_port, install_tenant, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
PASSWORD = "Bench-Marking-Uploads-1"
SLUG = "bench"


async def provision(data_dir: Path) -> None:
    from gallery.settings import update_settings
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        registry = services.registry
        ctx = await install_tenant(registry, SLUG, "Bench", PASSWORD)
        await update_settings(ctx, {"max_upload_mb": 1_000_000})
    finally:
        await services.close()


def make_file(path: Path, size: int) -> str:
    """Base64 text lines from random bytes (incompressible, sniffs as text/plain); returns sha256."""
    hasher = hashlib.sha256()
    block = 48 * 1024 * 16  # base64 of 768 KB -> 1 MB + newlines
    written = 0
    with open(path, "wb") as out:
        while written < size:
            raw = base64.encodebytes(os.urandom(block))
            piece = raw[: size - written]
            out.write(piece)
            hasher.update(piece)
            written += len(piece)
    return hasher.hexdigest()


class Client:
    """Just enough HTTP for the benchmark: cookies, XSRF and sendfile bodies."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=b"", headers=None, file=None, offset=0, count=0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET" and "_xsrf" in self.cookies:
            headers["X-XSRFToken"] = self.cookies["_xsrf"]
        length = count if file is not None else len(body)
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if method not in ("GET", "HEAD") or length:
            conn.putheader("Content-Length", str(length))
        conn.endheaders()
        if file is not None:
            sent = 0
            while sent < count:
                sent += conn.sock.sendfile(file, offset + sent, count - sent)
        elif body:
            conn.send(body)
        response = conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        conn.close()
        return response, data

    def login(self) -> None:
        self.request("GET", f"/g/{SLUG}/login")
        form = urlencode({"login": "admin", "password": PASSWORD, "_xsrf": self.cookies["_xsrf"]})
        response, _ = self.request(
            "POST",
            f"/g/{SLUG}/login",
            form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status != 302:
            raise RuntimeError(f"login failed: HTTP {response.status}")


class PeakRss:
    def __init__(self, pid: int, interval: float = 0.02):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def settle(src: Path) -> None:
    """Start every timed run from the same state: nothing left to flush (the source was
    just written, and the previous run's copy), and the source's pages out of the cache,
    so each side reads it from disk and is charged only its own writes."""
    os.sync()
    with open(src, "rb") as fh:
        os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def time_cp(src: Path, dest: Path) -> float:
    settle(src)
    start = time.perf_counter()
    subprocess.run(["cp", str(src), str(dest)], check=True)
    os.sync()
    elapsed = time.perf_counter() - start
    dest.unlink()
    return elapsed


def plain_upload(client: Client, album_id: str, path: Path, size: int) -> dict:
    with open(path, "rb") as fh:
        response, data = client.request(
            "POST",
            f"/g/{SLUG}/api/v1/albums/{album_id}/upload",
            headers={"X-File-Name": quote(path.name), "Content-Type": "application/octet-stream"},
            file=fh,
            count=size,
        )
    if response.status != 201:
        raise RuntimeError(f"upload failed: HTTP {response.status} {data[:300]!r}")
    return json.loads(data)


def tus_upload(client: Client, album_id: str, path: Path, size: int, chunk: int) -> str:
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"filename": path.name, "album_id": album_id}.items()
    )
    tus = {"Tus-Resumable": "1.0.0"}
    response, data = client.request(
        "POST",
        f"/g/{SLUG}/api/v1/uploads/",
        headers={**tus, "Upload-Length": str(size), "Upload-Metadata": meta},
    )
    if response.status != 201:
        raise RuntimeError(f"tus create failed: HTTP {response.status} {data[:300]!r}")
    location = response.headers["Location"].split("://", 1)[-1]
    location = location[location.index("/") :]
    offset = 0
    with open(path, "rb") as fh:
        while offset < size:
            count = min(chunk, size - offset)
            response, data = client.request(
                "PATCH",
                location,
                headers={
                    **tus,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
                file=fh,
                offset=offset,
                count=count,
            )
            if response.status != 204:
                raise RuntimeError(f"tus PATCH failed: HTTP {response.status} {data[:300]!r}")
            offset = int(response.headers["Upload-Offset"])
    return response.headers["Upload-Media-Id"]


async def run(size_mb: int, chunk_mb: int, workdir: Path | None, rounds: int) -> list[dict]:
    base = Path(tempfile.mkdtemp(prefix="atrium-bench-upload-", dir=workdir))
    data_dir = base / "data"
    try:
        src = base / "big-upload.txt"
        size = size_mb * MB
        t0 = time.perf_counter()
        sha = make_file(src, size)
        print(f"made a {size_mb} MB test file in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        cp_s = statistics.median(time_cp(src, base / "copy.txt") for _ in range(rounds))
        await provision(data_dir)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
        env.update(
            ATRIUM_LOGGING_ACCESS_LOG="false",
            ATRIUM_LOGGING_LEVEL="WARNING",
            ATRIUM_JOBS_WORKERS="0",
            ATRIUM_LIMITS_MAX_REQUEST_MB=str(max(size_mb * 2, 10240)),
        )
        proc = await asyncio.to_thread(
            subprocess.Popen,
            [
                sys.executable,
                "-m",
                "server",
                "--data-dir",
                str(data_dir),
                "run",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        rows = [
            {
                "method": "cp (same disk)",
                "seconds": cp_s,
                "mb_s": size_mb / cp_s,
                "ratio": 1.0,
                "rss_before": None,
                "rss_peak": None,
                "sha_ok": True,
            }
        ]
        try:
            await wait_healthy(port, proc)
            client = Client(port)
            client.login()
            album_id = _root_album_id(data_dir)
            storage = data_dir / "tenants" / SLUG

            for label, fn in (
                (
                    "plain upload (1 request)",
                    lambda: plain_upload(client, album_id, src, size)["_id"],
                ),
                (
                    f"tus ({chunk_mb} MB PATCHes)",
                    lambda: tus_upload(client, album_id, src, size, chunk_mb * MB),
                ),
            ):
                times, sha_ok = [], True
                before = psutil.Process(proc.pid).memory_info().rss
                with PeakRss(proc.pid) as peak:
                    for _ in range(rounds):
                        settle(src)
                        start = time.perf_counter()
                        media_id = await asyncio.to_thread(fn)
                        os.sync()
                        times.append(time.perf_counter() - start)
                        sha_ok = sha_ok and _stored_sha(data_dir, media_id) == sha
                        for p in (storage / "originals").glob("*"):  # free the disk for the next run
                            if p.is_file():
                                p.unlink()
                elapsed = statistics.median(times)
                rows.append(
                    {
                        "method": label,
                        "seconds": elapsed,
                        "mb_s": size_mb / elapsed,
                        "ratio": cp_s / elapsed,
                        "rss_before": before / MB,
                        "rss_peak": peak.peak / MB,
                        "sha_ok": sha_ok,
                    }
                )
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        return rows
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _root_album_id(data_dir: Path) -> str:
    async def find() -> str:
        services, ctx = await _open(data_dir)
        try:
            return (await ctx.db.albums.find_one({"parent_id": None}))["_id"]
        finally:
            await services.client.close()

    return _run_sync(find)


def _stored_sha(data_dir: Path, media_id: str) -> str:
    async def find() -> str:
        services, ctx = await _open(data_dir)
        try:
            return (await ctx.db.media.find_one({"_id": media_id}))["original"]["sha256"]
        finally:
            await services.client.close()

    return _run_sync(find)


async def _open(data_dir: Path):
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config)  # reuses the running service's embedded database
    return services, await services.registry.context_for_slug(SLUG)


def _run_sync(factory):
    result: list = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(factory())))
    thread.start()
    thread.join()
    return result[0]


def print_table(rows: list[dict], size_mb: int, rounds: int) -> None:
    print(
        f"\nUpload of a {size_mb} MB file ({os.cpu_count()} cores; service = one Tornado process;"
        f" median of {rounds} runs each, cache dropped and disk flushed before each)\n"
    )
    print(
        f"{'method':<26} {'seconds':>8} {'MB/s':>8} {'vs cp':>6} {'RSS before':>11} {'RSS peak':>9} {'sha256':>7}"
    )
    for r in rows:
        before = f"{r['rss_before']:.0f} MB" if r["rss_before"] is not None else "-"
        peak = f"{r['rss_peak']:.0f} MB" if r["rss_peak"] is not None else "-"
        print(
            f"{r['method']:<26} {r['seconds']:>8.2f} {r['mb_s']:>8.0f} {r['ratio']:>6.2f} "
            f"{before:>11} {peak:>9} {'ok' if r['sha_ok'] else 'WRONG':>7}"
        )
    print("\ntargets: >= 0.60 of cp; peak RSS flat and under 150 MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size-mb", type=int, default=2048, help="size of the test file (default 2048)"
    )
    parser.add_argument("--chunk-mb", type=int, default=64, help="tus PATCH size (default 64)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the file and data dir")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per method (median)")
    args = parser.parse_args()
    rows = asyncio.run(run(args.size_mb, args.chunk_mb, args.dir, args.rounds))
    print_table(rows, args.size_mb, args.rounds)


if __name__ == "__main__":
    main()
