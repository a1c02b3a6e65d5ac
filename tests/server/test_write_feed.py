"""Another process's write reaches the running service's caches through the write feed,
long before the caches would age out on their own."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gallery.library import albums
from gallery.library.albums import root_album
from tenants import context, writefeed

ROOT = Path(__file__).resolve().parents[2]

# A second process (as the CLI or a separate worker would be) renames an album through a
# tenant context, then closes its services, which publishes the write.
WRITER = """
import asyncio, json, sys
from server.config import load_config
from server.services import build_services

async def main(values, slug, album_id, title):
    services = await build_services(load_config(None, env={}, overrides=values))
    try:
        ctx = await services.registry.context_for_slug(slug)
        await ctx.db.albums.update_one({"_id": album_id}, {"$set": {"title": title}})
    finally:
        await services.close()

asyncio.run(main(json.loads(sys.argv[1]), *sys.argv[2:]))
"""


def _config_values(config) -> dict:
    return {
        "paths.data_dir": str(config.paths.data_dir),
        "database.uri": config.database.uri,
        "database.prefix": config.database.prefix,
        "security.host_secret": config.security.host_secret,
        "server.base_domain": config.server.base_domain,
        "logging.access_log": False,
        "jobs.workers": 0,
    }


async def _album_page(browser, gallery, album_id) -> str:
    response = await browser.get(f"{gallery['prefix']}/albums/{album_id}")
    assert response.code == 200
    return response.body.decode()


async def test_a_write_by_another_process_shows_on_the_next_pages(
    app, make_gallery, viewer_of
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await root_album(ctx)
    admin = await viewer_of(ctx, gallery["username"])
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Harbour before"})
    await app.services.feed.start()
    try:
        assert context.CACHE_SECONDS == writefeed.TRUST_SECONDS
        visitor = app.browser()
        assert "Harbour before" in await _album_page(visitor, gallery, album["_id"])
        # Served from the page cache from now on: a write this process does not see (the
        # raw client, not ctx.db) leaves the page as it was.
        raw = app.services.client[ctx.db.name]
        await raw.albums.update_one({"_id": album["_id"]}, {"$set": {"title": "Harbour unseen"}})
        assert "Harbour before" in await _album_page(visitor, gallery, album["_id"])

        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", WRITER, json.dumps(_config_values(app.services.config)),
             gallery["slug"], album["_id"], "Harbour after"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10 * writefeed.INTERVAL_SECONDS
        while "Harbour after" not in await _album_page(visitor, gallery, album["_id"]):
            assert loop.time() < deadline, "the other process's write never reached the cache"
            await asyncio.sleep(0.2)
    finally:
        await app.services.feed.stop()
    assert context.CACHE_SECONDS == context.DEFAULT_CACHE_SECONDS


async def test_the_feed_publishes_only_what_was_written(app, make_gallery):
    gallery = await make_gallery("beta")
    ctx = gallery["ctx"]
    feed = app.services.feed
    await feed.flush()
    await ctx.db.albums.update_one({"_id": "nothing"}, {"$set": {"title": "x"}})
    await feed.flush()
    entry = await app.services.host_db.tenant_writes.find_one({"_id": ctx.db.name})
    assert entry is not None and entry["by"] == feed.me
    before = entry["seq"]
    await feed.flush()  # nothing written since: nothing published
    again = await app.services.host_db.tenant_writes.find_one({"_id": ctx.db.name})
    assert again["seq"] == before
    # This process's own entries never move its own generations a second time.
    generation = ctx.generation
    assert await feed.poll() == 0
    assert ctx.generation == generation


async def test_a_tenant_suspended_by_the_cli_stops_being_served(app, make_gallery, monkeypatch):
    """Tenant records are trusted until changed while the feed runs; a change made by
    another process (the CLI here) arrives through the feed, not by the record ageing."""
    gallery = await make_gallery("gamma")
    # The record would never age out during this test: only the feed can bring the news.
    monkeypatch.setattr(app.services.config.tenants, "cache_seconds", 3600)
    await app.services.feed.start()
    try:
        visitor = app.browser()
        assert (await visitor.get(f"{gallery['prefix']}/")).code == 200
        values = _config_values(app.services.config)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
        env.update({
            "ATRIUM_DATABASE_URI": values["database.uri"],
            "ATRIUM_DATABASE_PREFIX": values["database.prefix"],
            "ATRIUM_SECURITY_HOST_SECRET": values["security.host_secret"],
        })
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "server", "--data-dir", values["paths.data_dir"],
             "tenant", "suspend", gallery["slug"]],
            cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
        )
        assert done.returncode == 0, done.stderr
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10 * writefeed.INTERVAL_SECONDS
        while (response := await visitor.get(f"{gallery['prefix']}/")).code != 503:
            assert response.code == 200
            assert loop.time() < deadline, "the suspension never reached the running service"
            await asyncio.sleep(0.2)
    finally:
        await app.services.feed.stop()


async def test_a_starting_process_throws_away_no_caches(app, make_gallery):
    """Index builds at start-up are not writes, and an entry last published before this
    process started is history: its first own publish moves nothing more than the write."""
    gallery = await make_gallery("delta")
    ctx = gallery["ctx"]
    generation = ctx.generation
    await ctx.db.albums.create_index([("title", 1)])
    assert ctx.generation == generation

    writes = app.services.host_db.tenant_writes
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    await writes.update_one({"_id": ctx.db.name}, {"$set": {"seq": 41, "at": long_ago, "by": "gone"}}, upsert=True)
    feed = writefeed.WriteFeed(app.services.host_db)
    context.take_written()
    await ctx.db.albums.update_one({"_id": "nothing"}, {"$set": {"title": "x"}})
    after_write = ctx.generation
    await feed.flush()
    assert ctx.generation == after_write
    assert (await writes.find_one({"_id": ctx.db.name}))["seq"] == 42

    # Another process published after this one started and it was not polled yet: news.
    fresh = writefeed.WriteFeed(app.services.host_db)
    await writes.update_one({"_id": ctx.db.name}, {"$set": {"at": datetime.now(UTC), "by": "other"}, "$inc": {"seq": 1}})
    await ctx.db.albums.update_one({"_id": "nothing"}, {"$set": {"title": "y"}})
    after_write = ctx.generation
    await fresh.flush()
    assert ctx.generation == after_write + 1
