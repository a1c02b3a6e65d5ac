"""Upkeep of the trash: the `trash.empty` job empties what is past its time and finishes
any step a killed process left halfway (gallery/library/trash.py says which can run
twice). The periodic upkeep (server/maintenance.py: at start-up and every 30 minutes)
queues it, one per gallery, for when the first entry falls due.
"""

from __future__ import annotations

from datetime import datetime

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
    """Queue the emptying job (one per gallery) when something is in the trash."""
    first = await ctx.db.trash.find({}, {"due": 1, "state": 1}).sort("due", 1).limit(1).to_list()
    if not first:
        return None
    wait = (_aware(first[0]["due"]) - _now()).total_seconds()
    if first[0]["state"] != "trashed":
        wait = min(wait, STALE.total_seconds())
    return await queue.enqueue(ctx.slug, KIND, {}, delay=max(0.0, min(wait, 86400.0)),
                               dedupe=KIND, max_attempts=3)


async def run_empty_job(job) -> dict:
    emptied = await empty_due(job.tenant)
    return {"emptied": emptied}


def _register() -> None:
    from jobs.queue import register

    register(KIND, run_empty_job)


_register()
