"""Upkeep of the trash: the `trash.empty` job empties what is past its time and finishes
any step a killed process left halfway (gallery/library/trash.py says which can run
twice). The periodic upkeep (server/maintenance.py: at start-up and every 30 minutes)
queues it, one per gallery, for when the first entry falls due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gallery.library.trash import (
    STALE,
    _aware,
    _finish_moving,
    _finish_purging,
    _now,
    _purge_all,
)
from gallery.library.trash_restore import _finish_restoring

KIND = "trash.empty"


async def empty_due(ctx, now: datetime | None = None) -> int:
    """Empty what is past its time, and finish steps a killed process left halfway."""
    await finish_stale(ctx, now)
    return await _purge_all(ctx, {"state": "trashed", "due": {"$lte": now or _now()}})


async def finish_stale(ctx, now: datetime | None = None) -> int:
    """Roll forward steps a killed process left unfinished. Moving and purging can run
    twice side by side (each part is repeatable), so they are finished at once; a restore
    only once it has not moved for STALE (its plan is made once, by one process)."""
    cutoff = (now or _now()) - STALE
    count = 0
    for entry in await ctx.db.trash.find({"$or": [
            {"state": {"$in": ["moving", "purging"]}},
            {"state": "restoring", "step_at": {"$lt": cutoff}}]}).to_list():
        count += 1
        if entry["state"] == "moving":
            await _finish_moving(ctx, entry)
        elif entry["state"] == "restoring":
            await _finish_restoring(ctx, entry)
        else:
            await _finish_purging(ctx, entry)
    return count


# -- the job -------------------------------------------------------------------------------------


async def ensure_scheduled(ctx, queue) -> str | None:
    """Queue the emptying job for when it is next needed, unless one is queued by then: the
    first entry's due time, at once for a step left halfway (moving, purging), STALE from
    now for a restore left halfway; at most a day ahead (the upkeep comes back)."""
    wait = 86400.0
    first = await ctx.db.trash.find({"state": "trashed"}, {"due": 1}).sort("due", 1).limit(
        1).to_list()
    if first:
        wait = min(wait, (_aware(first[0]["due"]) - _now()).total_seconds())
    if await ctx.db.trash.find_one({"state": {"$in": ["moving", "purging"]}}, {"_id": 1}):
        wait = 0.0
    elif await ctx.db.trash.find_one({"state": "restoring"}, {"_id": 1}):
        wait = min(wait, STALE.total_seconds() + 5)
    if not first and wait == 86400.0:
        return None  # nothing in the trash
    wait = max(0.0, wait)
    soon = await queue.jobs.find_one({
        "tenant": ctx.slug, "kind": KIND, "state": {"$in": ["queued", "running"]},
        "run_after": {"$lte": _now() + timedelta(seconds=wait + 60)}}, {"_id": 1})
    if soon is not None:
        return soon["_id"]
    return await queue.enqueue(ctx.slug, KIND, {}, delay=wait, max_attempts=3)


async def run_empty_job(job) -> dict:
    emptied = await empty_due(job.tenant)
    return {"emptied": emptied}


def _register() -> None:
    from jobs.queue import register

    register(KIND, run_empty_job)


_register()
