"""What do watermarks cost? (`python -m bench.watermark`, issue 16)

Makes a gallery with a few 24 MP JPEG originals (their thumbnails and optimized copies
made by the real processing code in the process pool), turns a text watermark on,
starts the real service as a process on the embedded database and measures:

- the first, uncached request of a watermarked optimized copy (the copy is made in the
  process pool from the 1920 px optimized copy), one per original: median and worst
  (one render before them starts the service's process pool, not counted);
- serving the cached watermarked copy against serving the clean optimized copy of the
  same object, with 20 keep-alive clients (wrk, or a Python client), alternating
  rounds: requests per second, p50, p99. Both as signed-in users (one without
  hide_watermark, one with it), so both pay for the same session lookup.

Targets: uncached < 300 ms; cached watermarked >= 0.9x the clean copy's req/s. The
machine's load average is printed: on a shared machine compare rows of one run.

    python -m bench.watermark [--originals 6] [--duration 4] [--rounds 2] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.pages import fetch, run_python, run_wrk, start_service
from bench.tenants import free_port, install_tenant, wait_healthy

SLUG = "wm"
SETTINGS = {
    "watermark_enabled": True,
    "watermark_text": "© Atrium bench",
    "watermark_position": "bottom-right",
    "watermark_opacity": 60,
}


def photo(path: Path, seed: int) -> Path:
    """A 6000x4000 JPEG with detail (noise over a gradient), as a camera's would have."""
    from PIL import Image

    noise = Image.effect_noise((6000, 4000), 40 + seed).convert("RGB")
    gradient = Image.linear_gradient("L").resize((6000, 4000)).convert("RGB")
    Image.blend(noise, gradient, 0.5).save(path, "JPEG", quality=90)
    return path


async def prepare(data_dir: Path, count: int, work: Path) -> dict:
    from tornado.web import create_signed_value

    from gallery.library import albums
    from gallery.library.media import add_media_file
    from gallery.processing.process import _store, process_one
    from gallery.people.roles import create_role
    from gallery.people.sessions import create_session
    from gallery.settings import update_settings
    from gallery.people.users import create_user
    from handlers.base import SESSION_COOKIE
    from server.config import load_config
    from server.services import build_services

    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        ctx = await install_tenant(services.registry, SLUG, "Watermark bench")
        root = await albums.root_album(ctx)
        ids = []
        for i in range(count):
            path = await asyncio.to_thread(photo, work / f"photo-{i}.jpg", i)
            doc = await add_media_file(ctx, root, path, path.name)
            await _store(ctx, doc["_id"], await process_one(ctx, services, doc))
            ids.append(doc["_id"])
        await update_settings(ctx, SETTINGS)
        cookies = {}
        for name, perms in (("viewer", ["view"]), ("clean", ["view", "hide_watermark"])):
            role = await create_role(ctx, name, perms, [root["_id"]])
            user = await create_user(ctx, name, f"{name}@wm.test", "Bench-Password-123",
                                     role_ids=[role["_id"]])
            session = await create_session(ctx, user, "127.0.0.1", "bench")
            value = create_signed_value(ctx.cookie_key, SESSION_COOKIE, session).decode()
            cookies[name] = f"{SESSION_COOKIE}={value}"
        return {"ids": ids, "cookies": cookies}
    finally:
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--originals", type=int, default=6)
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    work = Path(tempfile.mkdtemp(prefix="atrium-bench-wm-"))
    service = None
    try:
        data = asyncio.run(prepare(work / "data", args.originals, work))
        port = free_port()
        service = start_service(work / "data", port)
        asyncio.run(wait_healthy(port, service))
        base = f"http://127.0.0.1:{port}/g/{SLUG}/media"
        viewer = {"Cookie": data["cookies"]["viewer"]}
        clean = {"Cookie": data["cookies"]["clean"]}

        # The service starts its process pool on first use (with job workers running it
        # is up already): one render not counted, so the rows time the render itself.
        assert fetch(f"{base}/{data['ids'][-1]}/optimized", viewer)[0] == 200
        first = []
        for media_id in data["ids"][:-1]:
            start = time.perf_counter()
            status, body = fetch(f"{base}/{media_id}/optimized", viewer)
            first.append((time.perf_counter() - start) * 1000)
            assert status == 200 and body, status
        target = f"{base}/{data['ids'][0]}/optimized"
        stamped = fetch(target, viewer)[1]
        plain = fetch(target, clean)[1]
        assert stamped != plain, "the watermarked and clean copies are the same bytes"

        run = (lambda url, headers: run_wrk(url, args.clients, args.duration, headers)) \
            if use_wrk else (lambda url, headers: run_python(url, args.clients, args.duration, headers))
        rows = {"clean": [], "watermarked": []}
        for _ in range(args.rounds):  # alternate, so drift in the machine's load hits both
            rows["clean"].append(run(target, clean))
            rows["watermarked"].append(run(target, viewer))
        load = os.getloadavg()[0]
        print(f"\nWatermarks ({'wrk' if use_wrk else 'python'} client, {args.clients} clients, "
              f"{args.rounds}x{args.duration:.0f} s each, load average {load:.1f})")
        print(f"{'row':<44}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
        summary = {}
        for name, results in rows.items():
            rps = sum(r["rps"] for r in results) / len(results)
            p50 = statistics.median(r["p50"] for r in results)
            p99 = max(r["p99"] for r in results)
            errors = sum(r["errors"] for r in results)
            summary[name] = rps
            label = f"optimized copy, {name} (cached, {len(plain if name == 'clean' else stamped)//1024} KB)"
            print(f"{label:<44}{rps:>10.0f}{p50:>10.1f}{p99:>10.1f}{errors:>8}")
        ratio = summary["watermarked"] / summary["clean"]
        print(f"{'watermarked / clean':<44}{ratio:>10.2f}x   target >= 0.90x "
              f"{'OK' if ratio >= 0.9 else 'MISSED'}")
        print(f"{'first uncached request, 24 MP original':<44}"
              f"median {statistics.median(first):.0f} ms, worst {max(first):.0f} ms "
              f"({len(first)} originals)   target < 300 ms "
              f"{'OK' if max(first) < 300 else 'MISSED'}")
    finally:
        if service is not None:
            service.terminate()
            try:
                service.wait(15)
            except subprocess.TimeoutExpired:
                service.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
