"""Scheduled synchronization: one tick queued per gallery, each tick starts a sync and
queues the next, and the chain stops when the interval goes back to 0."""

from __future__ import annotations

import asyncio

from gallery.intake import sync_schedule
from gallery.intake.ingest import job_queue
from gallery.settings import update_settings


async def run_now(app, job_id):
    from jobs.runner import JobRunner
    from server.runtime import load_handlers as _load_handlers

    _load_handlers()
    return await JobRunner(app.services, workers=0).run_now(job_id)


async def test_one_tick_per_gallery_starts_a_sync_and_the_next(app, make_gallery):
    ctx = (await make_gallery("alpha"))["ctx"]
    queue = job_queue(app.services)
    assert await sync_schedule.ensure_scheduled(ctx, queue) is None  # off by default
    await update_settings(ctx, {"sync_interval_minutes": 15, "sync_min_age_seconds": 0})
    # Several processes' upkeep at once: one tick.
    made = await asyncio.gather(*(sync_schedule.ensure_scheduled(ctx, queue) for _ in range(4)))
    ticks = await queue.jobs.find({"tenant": "alpha", "kind": "gallery.sync_tick"}).to_list()
    assert len(ticks) == 1 and [m for m in made if m] == [ticks[0]["_id"]]
    assert (ticks[0]["run_after"] - ticks[0]["created"]).total_seconds() >= 15 * 60 - 1

    (ctx.storage.originals / "x.txt").write_bytes(b"hello\n")
    done = await run_now(app, ticks[0]["_id"])
    assert done["state"] == "done", done.get("error")
    sync_job = await queue.jobs.find_one({"_id": done["result"]["sync_job"]})
    assert sync_job["kind"] == "gallery.sync" and sync_job["payload"]["trigger"] == "schedule"
    following = done["result"]["next_tick"]
    assert following and following != ticks[0]["_id"]
    synced = await run_now(app, sync_job["_id"])
    assert synced["state"] == "done" and synced["result"]["new"] == 1

    await update_settings(ctx, {"sync_interval_minutes": 0})
    last = await run_now(app, following)
    assert last["result"] == {"skipped": "scheduled synchronization is off"}
    assert await queue.jobs.count_documents(
        {"tenant": "alpha", "kind": "gallery.sync_tick", "state": "queued"}) == 0
