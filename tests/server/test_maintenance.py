"""The periodic upkeep queues processing for media stranded `pending` with no job (what
a process killed between a record and its job used to leave), once, and leaves alone
media that a job covers or that may still be on their way in."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from gallery.intake import ingest
from server import maintenance
from tests.handlers.test_tus import payload


async def _media(ctx, root, name: str) -> dict:
    tmp = ctx.storage.temp_path(".upload")
    data = payload(50_000) + name.encode()
    tmp.write_bytes(data)
    # services=None: no job is queued, as when the process died right after the record.
    return await ingest.ingest_file(
        ctx, None, None, root, tmp, name, size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


async def test_stranded_pending_media_get_their_processing_queued_once(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    jobs = app.services.host_db.jobs
    root = await ctx.db.albums.find_one({"parent_id": None})
    stranded = await _media(ctx, root, "stranded.txt")
    covered = await _media(ctx, root, "covered.txt")
    arriving = await _media(ctx, root, "arriving.txt")
    long_ago = datetime.now(UTC) - ingest.STRANDED_AFTER - timedelta(minutes=5)
    for media in (stranded, covered):
        await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": {"updated": long_ago}})
    queue = ingest.job_queue(app.services)
    waiting = await queue.enqueue(ctx.slug, "media.process", {"media_id": covered["_id"]}, delay=600)

    for _ in range(2):  # a second round finds the job the first one queued
        await maintenance.sweep_all(app.services)
        found = await jobs.find({"tenant": ctx.slug, "kind": "media.process"}).to_list()
        by_media = sorted((j["payload"]["media_id"], j["_id"]) for j in found)
        assert [m for m, _ in by_media] == sorted([stranded["_id"], covered["_id"]])
        assert waiting in {j for _, j in by_media}
    assert arriving["_id"] not in {j["payload"]["media_id"] for j in found}
