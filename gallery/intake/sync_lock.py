"""Starting a sync: one per gallery at a time, whoever asks (a user, the sync key, the
schedule, the live watcher). The gallery's `meta` document LOCK_ID names its current sync
job; taking it is one atomic write (gallery/sync.py runs the job)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

KIND = "gallery.sync"
DEDUPE = "gallery.sync"
LOCK_ID = "sync_job"  # the tenant's meta document naming its current sync job
# A lock naming a job that does not exist is being taken (the job is inserted just after
# the lock) for this long; after that its taker died in between and the lock is stale.
LOCK_GRACE = timedelta(seconds=30)


def lock_fresh(lock: dict) -> bool:
    taken = lock.get("taken")
    if taken is None:
        return False
    if taken.tzinfo is None:
        taken = taken.replace(tzinfo=UTC)
    return datetime.now(UTC) - taken < LOCK_GRACE


async def start_sync(ctx, queue, user: dict | None, album: dict, *, recursive: bool = True,
                     rebuild: bool = False, trigger: str = "user") -> tuple[str, bool]:
    """Queue a sync below `album`; (job id, True) when one of this gallery was already
    queued or running (that one is answered instead: one sync per gallery at a time).

    The queue's dedupe is a look-then-insert, so two requests at once would both insert;
    here the gallery's `meta` document LOCK_ID names the current sync job, and taking it is
    one atomic write (an insert, or a swap of the id of a job that has ended)."""
    from pymongo.errors import DuplicateKeyError

    payload = {"album_id": album["_id"], "user_id": (user or {}).get("_id"),
               "requested_by": (user or {}).get("_id"),  # who may follow it (api_jobs)
               "recursive": bool(recursive), "rebuild": bool(rebuild), "trigger": trigger}
    while True:
        lock = await ctx.db.meta.find_one({"_id": LOCK_ID})
        if lock is not None:
            job = await queue.jobs.find_one({"_id": lock.get("job_id")}, {"state": 1})
            if job is None and lock_fresh(lock):  # its taker is inserting the job right now
                return lock["job_id"], True
            if job is not None and job["state"] in ("queued", "running"):
                return job["_id"], True
        job = queue.document(ctx.slug, KIND, payload, max_attempts=2, dedupe=DEDUPE)
        taken = {"job_id": job["_id"], "taken": datetime.now(UTC)}
        if lock is None:
            try:
                await ctx.db.meta.insert_one({"_id": LOCK_ID, **taken, "version": 1})
            except DuplicateKeyError:
                continue  # another request took it first: answer with its job
        else:
            swapped = await ctx.db.meta.update_one(
                {"_id": LOCK_ID, "job_id": lock.get("job_id")}, {"$set": taken})
            if swapped.modified_count != 1:
                continue
        # A process dying here leaves the lock naming a job that never was: stale, swapped.
        await queue.jobs.insert_one(job)
        queue.wakeup.set()
        return job["_id"], False
