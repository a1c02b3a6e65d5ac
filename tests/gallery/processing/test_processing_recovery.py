"""A worker that dies in the middle of a thumbnail job: once its lease runs out another
worker takes the job, the media object does not stay pending forever, and what the dead
worker half-wrote is replaced by complete derivatives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1, "jobs.lease_seconds": 5})


async def test_a_thumbnail_job_of_a_dead_worker_is_retried_and_the_media_becomes_ready(
    app, make_gallery, make_jpeg
):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    queue = app.services.jobs.queue
    root = await albums.root_album(ctx)
    media = await add_media_file(ctx, root, make_jpeg(1200, 800), "crash.jpg")
    # As the dead worker left it: the job claimed and running, its lease about to run out,
    # and a truncated thumbnail on disk.
    job_id = await queue.enqueue(ctx.slug, "media.process", {"media_id": media["_id"]}, delay=3600)
    now = datetime.now(UTC)
    await queue.jobs.update_one(
        {"_id": job_id},
        {
            "$set": {
                "state": "running",
                "worker": "dead-host:1:abc",
                "attempts": 1,
                "started": now,
                "lease_until": now + timedelta(seconds=1),
            }
        },
    )
    half = ctx.storage.derivatives / media["_id"]
    half.mkdir(parents=True, exist_ok=True)
    (half / "thumbnail.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        job = await queue.jobs.find_one({"_id": job_id})
        if job["state"] in ("done", "failed"):
            break
        await asyncio.sleep(0.1)
    assert job["state"] == "done", job
    assert job["attempts"] == 2 and job["worker"] != "dead-host:1:abc"
    doc = await ctx.db.media.find_one({"_id": media["_id"]})
    assert doc["state"] == "ready", doc.get("failure")
    thumb = ctx.storage.resolve(doc["derivatives"]["thumbnail"]["path"])
    with Image.open(thumb) as image:
        image.load()  # complete, decodable
        assert max(image.size) <= 320
    # Nothing of the crash is left in tmp/.
    assert not any(ctx.storage.tmp.iterdir())


async def test_a_processing_job_queued_twice_leaves_one_consistent_result(
    app, make_gallery, make_jpeg
):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    queue = app.services.jobs.queue
    root = await albums.root_album(ctx)
    media = await add_media_file(ctx, root, make_jpeg(900, 600), "twice.jpg")
    first = await enqueue_processing(ctx, queue, media["_id"])
    second = await enqueue_processing(ctx, queue, media["_id"])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        states = {
            j["state"] for j in await queue.jobs.find({"_id": {"$in": [first, second]}}).to_list()
        }
        if states <= {"done", "failed"}:
            break
        await asyncio.sleep(0.1)
    assert states == {"done"}
    doc = await ctx.db.media.find_one({"_id": media["_id"]})
    assert doc["state"] == "ready" and (doc["width"], doc["height"]) == (900, 600)
    files = sorted(p.name for p in (ctx.storage.derivatives / media["_id"]).iterdir())
    assert len(files) == len(set(files)) and doc["derivatives"]["thumbnail"]["path"].endswith(
        tuple(files)
    )
