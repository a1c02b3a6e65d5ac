"""Directory synchronization speed (`python -m bench.sync [--files N] [--dirs D]`).

Makes a gallery on a temporary data directory, writes N files of mixed sizes (100 B to
256 KB of text, spread over D directories two levels deep) straight into its originals/,
then times three `gallery.sync` runs of the root (gallery.sync.synchronize, the job's
work without the queue around it):
- the first sync: every file sniffed, hashed and recorded, processing queued (no job
  workers run here, so derivatives are not part of the figure);
- the second sync of the unchanged tree (target < 5 s for 10,000 files: a stat each);
- a sync after 100 changes (40 files rewritten, 30 new, 30 removed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

from bench.tenants import install_tenant


def write_tree(originals: Path, files: int, dirs: int) -> list[Path]:
    rng = random.Random(16)
    folders = []
    for d in range(dirs):
        folder = originals / f"year-{d % 10}" / f"event-{d}"
        folder.mkdir(parents=True, exist_ok=True)
        folders.append(folder)
    paths = []
    for i in range(files):
        size = rng.choice((100, 2_000, 20_000, 256_000))
        path = folders[i % dirs] / f"note-{i:05d}.txt"
        path.write_bytes((f"file {i} " * (size // 8 + 1)).encode()[:size])
        paths.append(path)
    old = time.time() - 3600  # settled files: older than any settle time
    for path in paths:
        os.utime(path, (old, old))
    return paths


async def main(files: int, dirs: int) -> None:
    from gallery.settings import update_settings
    from gallery.intake.sync import synchronize
    from server.config import load_config
    from server.services import build_services

    with tempfile.TemporaryDirectory(prefix="atrium-bench-sync-") as data_dir:
        config = load_config(None, env={}, overrides={"paths.data_dir": data_dir})
        services = await build_services(config, reuse_embedded=False)
        try:
            ctx = await install_tenant(services.registry, "sync", "Sync")
            await update_settings(ctx, {"sync_min_age_seconds": 0, "sync_missing": "remove"})
            root = await ctx.db.albums.find_one({"parent_id": None})
            admin = await ctx.db.users.find_one({})
            paths = await asyncio.to_thread(write_tree, ctx.storage.originals, files, dirs)
            rows = []

            async def timed(label: str) -> None:
                start = time.perf_counter()
                result = await synchronize(ctx, services, admin, root)
                seconds = time.perf_counter() - start
                rows.append((label, seconds, result))

            await timed("first sync")
            await timed("second sync (unchanged)")
            for path in paths[:40]:
                path.write_bytes(path.read_bytes() + b" changed")
                os.utime(path, (time.time() - 60, time.time() - 60))
            for path in paths[40:70]:
                path.unlink()
            for i in range(30):
                extra = paths[0].parent / f"added-{i}.txt"
                extra.write_bytes(f"added {i}\n".encode() * 50)
                os.utime(extra, (time.time() - 60, time.time() - 60))
            await timed("after 100 changes")
            print(f"\nsync of {files} files in {dirs} directories")
            print(f"{'run':26} {'seconds':>8} {'files/s':>9} {'new':>6} {'changed':>8} "
                  f"{'removed':>8} {'unchanged':>10}")
            for label, seconds, r in rows:
                print(f"{label:26} {seconds:8.2f} {r['files'] / seconds:9.0f} {r['new']:6} "
                      f"{r['changed']:8} {r['removed']:8} {r['unchanged']:10}")
            second = rows[1][1]
            print(f"\nsecond sync {'meets' if second < 5 else 'MISSES'} the target (< 5 s): "
                  f"{second:.2f} s")
        finally:
            await services.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--dirs", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.files, args.dirs))
