"""The trash killed with SIGKILL at its worst moments (issue 17, item 7): the emptying job
after the files went but before their records, and a delete after the records left the
gallery but before the files left originals/. The next start finishes each (never the
usage twice, never records without files or files without records)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gallery.library import albums, trash
from gallery.library.media import add_media_file
from gallery.usage import current_usage
from tests.waiting import until
from tests.service_process import ServiceProcess


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 0})  # only the service process runs jobs


async def test_killed_emptying_and_killed_delete_are_finished_by_the_next_start(
        config, app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("kept")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    old = await albums.create_album(ctx, admin, root["_id"], {"title": "Old"})
    recent = await albums.create_album(ctx, admin, root["_id"], {"title": "Recent"})
    a1 = await add_media_file(ctx, old, make_jpeg(), "a1.jpg")
    b1 = await add_media_file(ctx, recent, make_jpeg(), "b1.jpg")
    used = await current_usage(ctx)
    await trash.delete_album(ctx, admin, old["_id"])
    due = datetime.now(UTC) - timedelta(days=1)
    await ctx.db.trash.update_many({}, {"$set": {"due": due}})
    old_entry = await ctx.db.trash.find_one({})
    stash = ctx.storage.path / "trash" / old_entry["_id"]
    assert (stash / "tree" / "a1.jpg").is_file()

    # 1. The emptying job, killed once the files are gone and before the records go.
    service = ServiceProcess(config)
    await service.start("trash.files_gone")
    try:
        await service.wait_for_line("failpoint trash.files_gone reached")
    finally:
        await service.kill()
    entry = await ctx.db.trash.find_one({"_id": old_entry["_id"]})
    assert entry["state"] == "purging" and not stash.exists()
    assert await ctx.db.trash_docs.count_documents({"entry_id": entry["_id"]}) == 2  # album, item
    assert await current_usage(ctx) == used  # the usage goes down with the records only

    # 2. A delete killed after the records left and before the files did.
    service = ServiceProcess(config)
    await service.start("trash.records_gone")
    try:
        browser = service.browser()
        assert (await browser.login(g["prefix"], "admin", g["password"])).code == 302
        request = asyncio.ensure_future(
            browser.api("DELETE", f"{g['prefix']}/api/v1/albums/{recent['_id']}"))
        await service.wait_for_line("failpoint trash.records_gone reached")
    finally:
        await service.kill()
    with pytest.raises(Exception):  # noqa: B017 (the connection died with the service)
        await request
    moving = await ctx.db.trash.find_one({"title": "Recent"})
    assert moving["state"] == "moving"
    assert await ctx.db.media.find_one({"_id": b1["_id"]}) is None
    assert (ctx.storage.originals / "Recent" / "b1.jpg").is_file()  # not moved yet

    # 3. The next start finishes both.
    service = ServiceProcess(config)
    await service.start()
    try:
        async def settled():
            old_gone = await ctx.db.trash.find_one({"_id": old_entry["_id"]}) is None
            moved = await ctx.db.trash.find_one({"_id": moving["_id"], "state": "trashed"})
            return old_gone and moved is not None
        await until(settled, 30)
    finally:
        await service.stop()
    assert await current_usage(ctx) == used - a1["original"]["size"]  # once, not twice
    assert await ctx.db.trash_docs.count_documents({"entry_id": old_entry["_id"]}) == 0
    assert not (ctx.storage.originals / "Recent").exists()
    assert (ctx.storage.path / "trash" / moving["_id"] / "tree" / "b1.jpg").is_file()
    assert await ctx.db.trash_docs.count_documents({"entry_id": moving["_id"]}) == 2
