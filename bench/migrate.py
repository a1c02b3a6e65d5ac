"""Migrating many galleries in place (`python -m bench.migrate [--galleries N] [--media N]`).

Makes N galleries (default 1,000) of M media documents each (default 1,000) in the shapes
release 37975f0 stored (no `taken`, schema version 1), plus a few galleries already at this
release's version, on a temporary data directory with the embedded database; then starts
the real service on it and runs `python -m server migrate --all` (a real process, attached
to the service's database) while 8 clients request the home pages of the already-migrated
galleries. Prints the total time, documents rewritten per second, and the request p50/p99
on migrated galleries before and during the migration. Every media document is rewritten
by step 0002 (gallery/migrations/steps/0002_media_taken.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.tenants import free_port, install_tenant, load, percentile, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
DATES = ["2019-07-14T18:30:00+02:00", "2021-04-01 12:00", None]


def old_media(album_id: str, count: int) -> list[dict]:
    from gallery.ids import new_id

    return [{
        "_id": new_id(), "album_id": album_id, "album_path": [album_id], "kind": "image",
        "title": f"photo {i}", "caption": "", "tags": [], "file_name": f"p{i}.jpg", "state": "ready",
        "position": i, "private": False, "date_taken": None, "derivatives": {},
        "metadata": {"date_taken": DATES[i % 3]} if DATES[i % 3] else {}, "version": 1,
    } for i in range(count)]


async def build(data_dir: Path, galleries: int, media: int, migrated: int) -> tuple[list[str], list[str]]:
    from gallery.library import albums
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir), "jobs.workers": 0})
    services = await build_services(config, reuse_embedded=False)
    old, current = [f"old{i:04d}" for i in range(galleries)], [f"cur{i:02d}" for i in range(migrated)]
    pending = iter(old + current)

    async def worker() -> None:
        for slug in pending:
            ctx = await install_tenant(services.registry, slug, f"Gallery {slug}")
            root = await albums.root_album(ctx)
            docs = old_media(root["_id"], media if slug.startswith("old") else 100)
            for start in range(0, len(docs), 1000):
                await ctx.db.media.insert_many(docs[start:start + 1000])
            if slug.startswith("old"):
                await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": 1}})

    try:
        await asyncio.gather(*(worker() for _ in range(8)))
    finally:
        await services.close()
    return old, current


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--galleries", type=int, default=1000)
    parser.add_argument("--media", type=int, default=1000)
    parser.add_argument("--migrated", type=int, default=5, help="galleries already current, requested meanwhile")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="atrium-bench-migrate-")) / "data"
    proc = None
    try:
        t0 = time.perf_counter()
        old, current = await build(data_dir, args.galleries, args.media, args.migrated)
        print(f"built {len(old)} galleries x {args.media} old media (+{len(current)} current) "
              f"in {time.perf_counter() - t0:.0f} s")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
        env.update(ATRIUM_LOGGING_ACCESS_LOG="false", ATRIUM_LOGGING_LEVEL="WARNING", ATRIUM_JOBS_WORKERS="0")
        port = free_port()
        proc = subprocess.Popen(  # noqa: ASYNC220 (wait_healthy polls a Popen)
            [sys.executable, "-m", "server", "--data-dir", str(data_dir), "run", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_healthy(port, proc)
        await load(port, current, 50, args.clients)  # warm-up
        idle = await load(port, current, 400, args.clients)

        started = time.perf_counter()
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", "--data-dir", str(data_dir), "migrate", "--all",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        during: list[float] = []
        waiting = asyncio.ensure_future(migrate.communicate())
        while not waiting.done():
            during += await load(port, current, 100, args.clients)
        out, _ = await waiting
        total = time.perf_counter() - started
        if migrate.returncode != 0:
            raise SystemExit(f"migrate failed:\n{out.decode()[-2000:]}")
        docs = len(old) * args.media
        print(out.decode().strip().splitlines()[-1])
        print(f"migrated {len(old)} galleries, {docs:,} media documents in {total:.1f} s: "
              f"{docs / total:,.0f} documents/s, {len(old) / total:.1f} galleries/s")
        print(f"home page of migrated galleries, {args.clients} clients: idle p50 "
              f"{percentile(idle, 50) * 1000:.1f} ms p99 {percentile(idle, 99) * 1000:.1f} ms; "
              f"during migration p50 {percentile(during, 50) * 1000:.1f} ms "
              f"p99 {percentile(during, 99) * 1000:.1f} ms ({len(during)} requests)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
