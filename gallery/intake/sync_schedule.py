"""Scheduled synchronization: a per-gallery interval (`sync_interval_minutes`, 0 = off).

A `gallery.sync_tick` job due every interval starts a root sync through
gallery.sync.start_sync (so a tick never runs beside a user's sync; it is answered by it)
and queues the next tick. The job queue claims each tick atomically, so one process runs
it whatever the number of processes. The chain is started by the periodic upkeep
(server/maintenance.py: at start-up and every 30 minutes) once the setting is on, and it
stops by itself when the setting goes back to 0. Exactly one tick is queued per gallery:
the gallery's `meta` document TICK_ID names it, and taking it is one atomic write.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gallery import settings as gallery_settings
from gallery.library.albums import root_album
from gallery.intake.sync_lock import lock_fresh

log = logging.getLogger("atrium.sync")

KIND = "gallery.sync_tick"
TICK_ID = "sync_tick"


async def ensure_scheduled(ctx, queue, *, after_tick: str | None = None) -> str | None:
    """Queue the next tick when the interval is on and none is queued; returns its id.
    `after_tick`: the tick that is ending (its own id in the lock is not a queued tick)."""
    from pymongo.errors import DuplicateKeyError

    minutes = int((await gallery_settings.get_settings(ctx)).get("sync_interval_minutes", 0))
    if minutes <= 0:
        return None
    lock = await ctx.db.meta.find_one({"_id": TICK_ID})
    if lock is not None and lock.get("job_id") != after_tick:
        tick = await queue.jobs.find_one({"_id": lock.get("job_id")}, {"state": 1})
        if tick is None and lock_fresh(lock):  # its taker is inserting the tick right now
            return None
        if tick is not None and tick["state"] in ("queued", "running"):
            return None
    job = queue.document(ctx.slug, KIND, {}, delay=minutes * 60, max_attempts=2)
    taken = {"job_id": job["_id"], "taken": datetime.now(UTC)}
    if lock is None:
        try:
            await ctx.db.meta.insert_one({"_id": TICK_ID, **taken, "version": 1})
        except DuplicateKeyError:
            return None  # another process queued it
    else:
        swapped = await ctx.db.meta.update_one(
            {"_id": TICK_ID, "job_id": lock.get("job_id")}, {"$set": taken})
        if swapped.modified_count != 1:
            return None
    await queue.jobs.insert_one(job)
    return job["_id"]


async def run_tick(job) -> dict:
    from gallery.intake.sync import start_sync

    ctx = job.tenant
    minutes = int((await gallery_settings.get_settings(ctx)).get("sync_interval_minutes", 0))
    if minutes <= 0:
        return {"skipped": "scheduled synchronization is off"}
    root = await root_album(ctx)
    sync_job, running = await start_sync(ctx, job.queue, None, root, trigger="schedule")
    following = await ensure_scheduled(ctx, job.queue, after_tick=job.job["_id"])
    return {"sync_job": sync_job, "already_running": running, "next_tick": following}


def _register() -> None:
    from jobs.queue import register

    register(KIND, run_tick)


_register()
