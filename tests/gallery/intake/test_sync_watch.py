"""Live synchronization: a watched gallery's new files arrive by themselves; a process
watches at most `limits.watched_galleries` and tells a gallery beyond that."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from gallery.settings import update_settings
from tenants.sync_watch import Watchers


@pytest.fixture
def config(make_config):
    # Jobs run (the syncs); the service's own watchers watch nothing, the test's do.
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1,
                          "limits.watched_galleries": 0})


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, "JPEG")
    return out.getvalue()


async def until(condition, timeout=60.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)  # polling a condition with a deadline
    raise AssertionError("the condition was not met in time")


async def test_watched_gallery_syncs_itself_and_the_limit_is_told(app, make_gallery):
    alpha = (await make_gallery("alpha"))["ctx"]
    beta = (await make_gallery("beta"))["ctx"]
    for ctx in (alpha, beta):
        await update_settings(ctx, {"sync_watch": True, "sync_min_age_seconds": 0})
    watchers = Watchers(app.services, limit=1)
    try:
        await watchers.round()
        assert list(watchers.tasks) == ["alpha"]
        lease = await app.services.host_db.sync_watchers.find_one({"_id": "alpha"})
        assert lease["holder"] == watchers.me
        told = await beta.db.events.find_one({"kind": "sync"})
        assert "not watched" in told["message"] and "at most 1" in told["message"]
        await watchers.round()  # told once
        assert await beta.db.events.count_documents({"kind": "sync"}) == 1

        (alpha.storage.originals / "Drop").mkdir()
        (alpha.storage.originals / "Drop" / "new.jpg").write_bytes(jpeg())
        pings = []

        async def arrived():
            if await alpha.db.media.find_one({"file_name": "new.jpg"}) is not None:
                return True
            # The watcher's inotify watches may have been set up after the write above; a
            # hidden file (ignored by the sync) changing now triggers a sync of the root.
            pings.append(1)
            if len(pings) % 20 == 0:
                (alpha.storage.originals / ".ping").write_bytes(b"%d" % len(pings))
            return False

        await until(arrived)
        album = await alpha.db.albums.find_one({"dirpath": "Drop"})
        assert album is not None
        job = await app.services.host_db.jobs.find_one({"tenant": "alpha", "kind": "gallery.sync"})
        assert job["payload"]["trigger"] == "watch"

        # Turned off: the watcher stops and gives its lease back.
        await update_settings(alpha, {"sync_watch": False})
        await watchers.round()
        assert "alpha" not in watchers.tasks
    finally:
        await watchers.stop()
    assert await app.services.host_db.sync_watchers.count_documents({"holder": watchers.me}) == 0
