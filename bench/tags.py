"""How long does the tag cloud take on a 10,000-item gallery? (`python -m bench.tags`)

One tenant on the embedded database: 50 albums (every fifth private), 10,000 media records
inserted directly, each with 0-6 tags drawn (skewed, like real galleries) from ~300 tags.
Times gallery.library.search.tag_cloud and suggest_tags for an anonymous visitor, an administrator
and a signed-in user whose role sees 10 albums, cold (the per-process cache dropped before
each call) and warm. Prints a table of p50 / max milliseconds. The machine is shared:
compare rows of one run, and read the load average printed with it.

    python -m bench.tags [--media 10000] [--albums 50] [--tags 300] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.tenants import install_tenant

SLUG = "tagbench"
PASSWORD = "Bench-Marking-Tags-1"


async def _fill(ctx, admin, n_media: int, n_albums: int, n_tags: int) -> list[dict]:
    from gallery.library.albums import create_album, get_album, root_album
    from gallery.library.media import media_document
    from gallery.library.privacy import apply_private

    rng = random.Random(27017)
    root = await root_album(ctx)
    albums = []
    for i in range(n_albums):
        album = await create_album(ctx, admin, root["_id"], {"title": f"Album {i}"})
        if i % 5 == 4:
            await apply_private(ctx, album, True)
        albums.append(await get_album(ctx, album["_id"]))
    names = [f"Tag {i}" for i in range(n_tags)]
    weights = [1 / (i + 1) ** 0.8 for i in range(n_tags)]
    batch = []
    for i in range(n_media):
        album = albums[i % n_albums]
        tags = list(dict.fromkeys(rng.choices(names, weights, k=rng.randint(0, 6))))
        batch.append(media_document(
            album, file_name=f"img{i:05d}.jpg", kind="image", mime="image/jpeg",
            extension="jpg", original_path=None, title=f"Photo {i}", tags=tags,
            position=i, state="ready",
        ))
        if len(batch) == 100 or i == n_media - 1:
            # nx-27017's insert_many refuses these documents: one insert_one each.
            await asyncio.gather(*(ctx.db.media.insert_one(d) for d in batch))
            batch = []
    return albums


async def _time(fn, repeat: int, cold: bool, ctx) -> list[float]:
    from gallery.library.tagcounts import forget as forget_tags

    out = []
    for _ in range(repeat):
        if cold:
            forget_tags(ctx)
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def run(args) -> None:
    from gallery.library.search import suggest_tags, tag_cloud
    from gallery.people.permissions import Viewer, viewer_for
    from gallery.people.roles import create_role
    from gallery.settings import get_settings
    from server.config import load_config
    from server.services import build_services

    data_dir = Path(tempfile.mkdtemp(prefix="atrium-bench-tags-"))
    config = load_config(None, env={}, overrides={"paths.data_dir": str(data_dir)})
    services = await build_services(config, reuse_embedded=False)
    try:
        registry = services.registry
        ctx = await install_tenant(registry, SLUG, "Tag bench", PASSWORD)
        settings = await get_settings(ctx)
        admin = await viewer_for(ctx, await ctx.db.users.find_one({}), settings)
        start = time.perf_counter()
        albums = await _fill(ctx, admin, args.media, args.albums, args.tags)
        fill_s = time.perf_counter() - start
        if hasattr(__import__("gallery.library.search", fromlist=["x"]), "rebuild_tag_counts"):
            from gallery.library.search import rebuild_tag_counts

            start = time.perf_counter()
            await rebuild_tag_counts(ctx)
            print(f"rebuild_tag_counts: {(time.perf_counter() - start) * 1000:.0f} ms")
        role = await create_role(ctx, "Ten albums", ["view"], [a["_id"] for a in albums[:10]])
        member = Viewer(user={"_id": "member"}, roles=[role])
        anonymous = Viewer(user=None, allow_anonymous=True)
        viewers = {"anonymous": anonymous, "admin": admin, "role (10 albums)": member}
        rows = []
        for label, viewer in viewers.items():
            for what, fn in (
                ("tag_cloud(100)", lambda v=viewer: tag_cloud(ctx, v, limit=100)),
                ("suggest_tags('tag 1')", lambda v=viewer: suggest_tags(ctx, v, "tag 1")),
            ):
                for cold in (True, False):
                    ms = await _time(fn, args.repeat, cold, ctx)
                    rows.append((label, what, "cold" if cold else "warm",
                                 statistics.median(ms), max(ms)))
        print(f"{args.media} media in {args.albums} albums, {args.tags} tags "
              f"(filled in {fill_s:.1f} s); load average {os.getloadavg()[0]:.2f}")
        print(f"{'viewer':<18} {'call':<22} {'cache':<5} {'p50 ms':>8} {'max ms':>8}")
        for label, what, cache, p50, worst in rows:
            print(f"{label:<18} {what:<22} {cache:<5} {p50:>8.1f} {worst:>8.1f}")
        cloud = await tag_cloud(ctx, anonymous, limit=3)
        print("anonymous top 3:", cloud)
    finally:
        await services.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=int, default=10_000)
    parser.add_argument("--albums", type=int, default=50)
    parser.add_argument("--tags", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=7)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
