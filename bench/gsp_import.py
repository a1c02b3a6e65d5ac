"""Import from Gallery Server Pro: speed and memory (`python -m bench.gsp_import [--media N] [--file-kb K]`).

Generates a GSP 4.5 backup (tests/gsp_fixtures.py, streamed: one gallery, 100 media objects per
album, 10 Metadata rows and 2 tags each) with N media objects (default 10,000) and a media folder
of real camera JPEGs, each made K kB long (default 200: 2 GB in all) by a sparse hole before a
unique tail, so the source costs little disk while the import reads and copies every byte.
Then, on a temporary data directory with two fresh, empty galleries:
- the XML part in-process: `preview` (stream, check, map; no file copied) of a backup of N/5
  and of N media objects, in seconds per 1,000 XML records (rows);
- `python -m server tenant import-gsp … --dry-run` (a real process) at N/5 and N, and at N with
  the media folder: peak RSS of that process sampled every 20 ms (target flat, < 200 MB);
- `python -m server tenant import-gsp` of N/5 and of N with their media folders: total time
  and peak RSS side by side (flat: the media part of the model and the documents live in the
  import's work file on disk, gallery/gspimport/workfile.py).
Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.backup import timed_process
from bench.tenants import install_tenant

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


async def prepare(data_dir: Path, slugs: list[str]) -> None:
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        for slug in slugs:
            await install_tenant(services.registry, slug, slug.title())
    finally:
        await services.close()


async def xml_seconds(data_dir: Path, slug: str, xml: Path) -> float:
    """Seconds of one in-process preview (the whole XML part, no media folder)."""
    from gallery.gspimport.importer import preview
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        ctx = await services.registry.context_for_slug(slug)
        start = time.perf_counter()
        shown = await preview(ctx, xml, None, 1)
        elapsed = time.perf_counter() - start
        assert shown["counts"]["media"] > 0, shown
        return elapsed
    finally:
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=int, default=10_000)
    parser.add_argument("--file-kb", type=int, default=200, help="size of each media file (sparse)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.gsp_fixtures import write_scale_backup

    work = Path(tempfile.mkdtemp(prefix="atrium-gsp-bench-"))
    try:
        small_n = max(1, args.media // 5)
        start = time.perf_counter()
        small = write_scale_backup(
            work / "small.xml", small_n, media_dir=work / "small-media", file_bytes=args.file_kb * 1024
        )
        big = write_scale_backup(
            work / "big.xml", args.media, media_dir=work / "media", file_bytes=args.file_kb * 1024
        )
        made = time.perf_counter() - start
        data_dir = work / "data"
        asyncio.run(prepare(data_dir, ["dry", "small", "target"]))
        xml_small = asyncio.run(xml_seconds(data_dir, "dry", small.xml))
        xml_big = asyncio.run(xml_seconds(data_dir, "dry", big.xml))
        base = ["--data-dir", str(data_dir), "tenant", "import-gsp"]
        _, rss_small, _ = timed_process([*base, "dry", "--backup", str(small.xml), "--dry-run"])
        _, rss_big, _ = timed_process([*base, "dry", "--backup", str(big.xml), "--dry-run"])
        _, rss_dry, _ = timed_process(
            [*base, "dry", "--backup", str(big.xml), "--media", str(big.media_dir), "--dry-run"]
        )
        total_small, rss_small_import, _ = timed_process(
            [*base, "small", "--backup", str(small.xml), "--media", str(small.media_dir)]
        )
        total, rss_import, out = timed_process(
            [*base, "target", "--backup", str(big.xml), "--media", str(big.media_dir)]
        )
        imported = next(
            (line.strip() for line in out.splitlines() if line.strip().startswith("media:")), "?"
        )
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    rows = [
        (
            "generated backup",
            (
                f"{big.media_count:,} media, {big.rows:,} rows, {big.xml_bytes / MB:.0f} MB XML, "
                f"{big.media_bytes / MB:,.0f} MB media (sparse), made in {made:.0f} s"
            ),
        ),
        (
            f"XML part, {small.rows:,} rows",
            f"{xml_small:.1f} s = {1000 * xml_small / small.rows:.2f} s per 1,000 records",
        ),
        (
            f"XML part, {big.rows:,} rows",
            f"{xml_big:.1f} s = {1000 * xml_big / big.rows:.2f} s per 1,000 records",
        ),
        (f"peak RSS, dry run {small.media_count:,} media", f"{rss_small:.0f} MB"),
        (f"peak RSS, dry run {big.media_count:,} media", f"{rss_big:.0f} MB"),
        (f"peak RSS, dry run {big.media_count:,} media + folder", f"{rss_dry:.0f} MB"),
        (
            f"import {small.media_count:,} media + {small.media_bytes / MB:,.0f} MB",
            f"{total_small:.0f} s total, peak RSS {rss_small_import:.0f} MB",
        ),
        (
            f"import {big.media_count:,} media + {big.media_bytes / MB:,.0f} MB",
            f"{total:.0f} s total, peak RSS {rss_import:.0f} MB; {imported}",
        ),
        (
            "peak RSS, import: large minus small",
            f"{rss_import - rss_small_import:+.0f} MB (target < 200 MB, flat)",
        ),
    ]
    width = max(len(a) for a, _ in rows)
    print(f"{'measure':<{width}}  result")
    for a, b in rows:
        print(f"{a:<{width}}  {b}")


if __name__ == "__main__":
    main()
