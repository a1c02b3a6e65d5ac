"""Migrating many galleries in place (`python -m bench.migrate [--galleries N] [--media N] [--full]`).

Makes N galleries of M media documents each in the shapes release 37975f0 stored (no
`taken`, schema version 1), plus a few galleries already at this release's version, on a
temporary data directory with the embedded database; then starts the real service on it
and runs `python -m server migrate --all` (a real process, attached to the service's
database) while 8 clients request the home pages of the already-migrated galleries. Every
media document is rewritten by step 0002 (gallery/migrations/steps/0002_media_taken.py).

The issue's size, 1,000 galleries x 1,000 media, is `--full` (hours on a 2-core machine).
By default a scaled run: 20 galleries of the full 1,000 media each, so every gallery costs
what it costs at full size, and the full run is extrapolated from the measured rate
(galleries are migrated one after another, so time grows with their count; the table shows
the per-gallery times of the run's first and second half, which would show a cost that
grows with the number of galleries). Documents are like real ones: a distinct date text
per photo, a third without a date, and a few dozen metadata fields.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.tenants import free_port, install_tenant, load, percentile, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
FULL_GALLERIES, FULL_MEDIA = 1000, 1000
#: Metadata fields a camera JPEG's document carries besides its date (EXIF/IPTC/XMP picks).
EXIF = {"camera_make": "Canon", "camera_model": "Canon EOS 80D", "lens": "EF-S18-135mm f/3.5-5.6 IS USM",
        "exposure_time": "1/250", "f_number": "5.6", "iso": "200", "focal_length": "35.0 mm",
        "flash": "Flash did not fire", "white_balance": "Auto", "metering_mode": "Pattern",
        "exposure_program": "Aperture priority", "orientation": "Horizontal (normal)",
        "software": "Adobe Lightroom 6.0", "artist": "A. Photographer", "copyright": "(c) 2019",
        "color_space": "sRGB", "width": "6000", "height": "4000", "gps_latitude": "48.8584",
        "gps_longitude": "2.2945", "keywords": "holiday; beach; family"}


def date_text(i: int) -> str | None:
    """A distinct camera date per photo (as files carry them), a third none."""
    if i % 3 == 2:
        return None
    day, second = divmod(i * 7919, 86400)
    h, rest = divmod(second, 3600)
    # ISO text as metadata extraction stores it; with and without an offset, as cameras write
    sep, offset = ("T", "+02:00") if i % 3 == 0 else (" ", "")
    return f"20{10 + day % 14:02d}-{1 + day % 12:02d}-{1 + day % 28:02d}{sep}{h:02d}:{rest // 60:02d}:{rest % 60:02d}{offset}"


def old_media(album_id: str, count: int) -> list[dict]:
    from gallery.ids import new_id

    docs = []
    for i in range(count):
        metadata = dict(EXIF)
        if date_text(i):
            metadata["date_taken"] = date_text(i)
        docs.append({
            "_id": new_id(), "album_id": album_id, "album_path": [album_id], "kind": "image",
            "title": f"photo {i}", "caption": "", "tags": [], "file_name": f"p{i}.jpg", "state": "ready",
            "position": i, "private": False, "date_taken": None, "derivatives": {},
            "metadata": metadata, "version": 1,
        })
    return docs


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
    parser.add_argument("--galleries", type=int, default=20)
    parser.add_argument("--media", type=int, default=FULL_MEDIA)
    parser.add_argument("--full", action="store_true", help=f"the issue's {FULL_GALLERIES:,} x {FULL_MEDIA:,} (hours)")
    parser.add_argument("--migrated", type=int, default=5, help="galleries already current, requested meanwhile")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if args.full:
        args.galleries, args.media = FULL_GALLERIES, FULL_MEDIA
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
        load_idle = os.getloadavg()[0]
        database = psutil.Process(json.loads((data_dir / "db" / "embedded.json").read_text())["pid"])
        db_cpu = sum(database.cpu_times()[:2])
        idle = await load(port, current, 400, args.clients)
        # The database's CPU per page request, to take the page load out of its CPU below.
        db_per_request = (sum(database.cpu_times()[:2]) - db_cpu) / len(idle)

        # CPU seconds of the embedded database and of the migrate process: what the
        # migration costs whatever else the machine is doing (the wall time is shared).
        db_cpu = sum(database.cpu_times()[:2])
        own_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", "--data-dir", str(data_dir), "migrate", "--all",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        during: list[float] = []
        loads: list[float] = []
        waiting = asyncio.ensure_future(migrate.communicate())
        while not waiting.done():
            loads.append(os.getloadavg()[0])
            during += await load(port, current, 100, args.clients)
        out, _ = await waiting
        total = time.perf_counter() - started
        db_cpu = sum(database.cpu_times()[:2]) - db_cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = {"database": max(0.0, db_cpu - db_per_request * len(during)), "pages": db_per_request * len(during),
               "migrate": after.ru_utime + after.ru_stime - own_cpu.ru_utime - own_cpu.ru_stime}
        if migrate.returncode != 0:
            raise SystemExit(f"migrate failed:\n{out.decode()[-2000:]}")
        lines = out.decode().strip().splitlines()
        print(lines[-1])
        report(args, old, total, lines, idle, during, load_idle, loads, cpu)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def report(args, old: list[str], total: float, lines: list[str], idle: list[float], during: list[float],
           load_idle: float, loads: list[float], cpu: dict[str, float]) -> None:
    """The table: measured figures, and the full size extrapolated from the measured rate."""
    docs = len(old) * args.media
    per_gallery = [float(m.group(1)) for m in map(re.compile(r": migrated .* in ([0-9.]+) s").search, lines) if m]
    half = len(per_gallery) // 2 or 1
    first, second = per_gallery[:half], per_gallery[half:] or per_gallery[:half]
    rate = docs / total
    full_docs = FULL_GALLERIES * FULL_MEDIA

    def ms(values: list[float], p: float) -> str:
        return f"{percentile(values, p) * 1000:.0f}"

    rows = [
        ("galleries x media", f"{len(old):,} x {args.media:,} ({docs:,} documents)"),
        ("total time", f"{total:.1f} s"),
        ("documents/s", f"{rate:,.0f}"),
        ("galleries/s", f"{len(old) / total:.2f}"),
        ("per gallery (migrate's own timing)", (
            f"p50 {percentile(per_gallery, 50):.2f} s, max {max(per_gallery):.2f} s; "
            f"first half mean {sum(first) / len(first):.2f} s, second half {sum(second) / len(second):.2f} s")),
        (f"home page p50 / p99, idle ({args.clients} clients)", f"{ms(idle, 50)} / {ms(idle, 99)} ms"),
        ("home page p50 / p99, during", f"{ms(during, 50)} / {ms(during, 99)} ms ({len(during):,} requests)"),
        ("CPU seconds: embedded database / migrate process", (
            f"{cpu['database']:.1f} / {cpu['migrate']:.1f} "
            f"({docs / (cpu['database'] + cpu['migrate']):,.0f} documents per CPU-second of both; "
            f"the database's without the {cpu['pages']:.1f} s its page load took at the idle rate)")),
        ("load average (1 min), idle / during", (
            f"{load_idle:.1f} / mean {sum(loads) / max(1, len(loads)):.1f}, "
            f"max {max(loads, default=0):.1f} on {os.cpu_count()} cores")),
    ]
    # The galleries loop (the summary's own time) scales with the gallery count when each
    # gallery has the full size; the process's start-up and the host database do not.
    loop = float(re.search(r" in ([0-9.]+) s$", lines[-1]).group(1))
    rows.insert(2, ("of which the galleries loop", f"{loop:.1f} s ({docs / loop:,.0f} documents/s)"))
    if docs != full_docs and args.media == FULL_MEDIA:
        full = (total - loop) + loop * FULL_GALLERIES / len(old)
        rows.append((f"{FULL_GALLERIES:,} x {FULL_MEDIA:,} extrapolated", (
            f"{full / 60:.0f} min (start-up + {FULL_GALLERIES:,} galleries at this run's per-gallery time; "
            "`--full` measures it)")))
        # Without other work on the machine the two processes take turns (each batch is
        # a round trip), so the run takes about the CPU time both spend.
        cpu_bound = (cpu["database"] + cpu["migrate"]) * full_docs / docs
        rows.append(("  on an otherwise idle machine", f"~{cpu_bound / 60:.0f} min (the CPU seconds above, scaled)"))
    elif docs != full_docs:
        rows.append((f"{FULL_GALLERIES:,} x {FULL_MEDIA:,}", f"not extrapolated: use --media {FULL_MEDIA}"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
