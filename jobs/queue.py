"""The job queue: documents in the host `jobs` collection, shared by every process.

A worker claims a job atomically (`find_one_and_update`) and holds a lease that it renews
while the job runs. A worker that dies stops renewing; when the lease runs out any other
worker may claim the job again. The lease names its holder (`lease_instance`: host, pid and
start time, storage.instance), so a process starting on the same host takes back at once
the jobs of an earlier process that died there, without waiting for their leases. Every
claim counts an attempt, a reclaim after a crash too, and a job past its `max_attempts` is
failed instead of run again. Failures are retried with exponential backoff up to
`jobs.max_attempts`; progress is written to the job so pages and the API can show it.

A job can be enqueued *held* (`hold=True`): it is not due before a lease's length, so
code can create a job together with the record it works on (job first, record second,
then `release`); if the process dies between the two, the job still runs when the hold
runs out, or at once when the next process on the host starts.

Job handlers register by kind (`register("media.process", fn)`); a handler is
`async fn(job: JobContext) -> dict | None` and raises `JobFailed` for a failure that
retrying cannot fix.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from storage import instance

log = logging.getLogger("atrium.jobs")

JOB_VERSION = 1
STATES = ("queued", "running", "done", "failed", "cancelled")


class JobFailed(Exception):
    """A failure that retrying will not fix: the job ends in `failed` with this reason."""


class JobCancelled(Exception):
    """Raised inside a handler (by JobContext.check_cancelled) when someone cancelled the job."""


@dataclass
class Handler:
    fn: Callable[["JobContext"], Awaitable[Any]]
    group: str | None = None  # jobs of one group share a per-process concurrency limit


HANDLERS: dict[str, Handler] = {}


def register(kind: str, fn=None, *, group: str | None = None):
    """Register a handler for a job kind (usable as a decorator)."""

    def wrap(f):
        HANDLERS[kind] = Handler(f, group)
        return f

    return wrap(fn) if fn is not None else wrap


def new_id() -> str:
    # The same 24-hex ids as the gallery's documents, made here: the queue sits below gallery/.
    return str(ObjectId())


def _now() -> datetime:
    return datetime.now(UTC)


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempt - 1, 0), 3600))


class JobQueue:
    def __init__(self, host_db, lease_seconds: int = 60, max_attempts: int = 5):
        self.jobs = host_db.jobs
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.wakeup = asyncio.Event()

    async def enqueue(self, tenant: str, kind: str, payload: dict | None = None, *,
                      delay: float = 0, max_attempts: int | None = None,
                      dedupe: str | None = None, hold: bool = False) -> str:
        """Add a job; with `dedupe`, an unfinished job with the same key is reused. A held
        job waits for `release` (or a lease's length, or a restart on this host)."""
        if dedupe:
            existing = await self.jobs.find_one(
                {"tenant": tenant, "dedupe": dedupe, "state": {"$in": ["queued", "running"]}}
            )
            if existing:
                return existing["_id"]
        job = self.document(tenant, kind, payload, delay, max_attempts, dedupe, hold)
        await self.jobs.insert_one(job)
        if not hold:
            self.wakeup.set()
        return job["_id"]

    async def enqueue_many(self, tenant: str, kind: str, payloads: list[dict], *,
                           dedupes: list[str | None] | None = None,
                           hold: bool = False) -> list[str]:
        """Add jobs for new work in one write (a synchronization's thousands of new media
        objects); unlike `enqueue`, no dedupe lookup: the caller knows none exists yet."""
        dedupes = dedupes or [None] * len(payloads)
        docs = [self.document(tenant, kind, p, 0, None, d, hold)
                for p, d in zip(payloads, dedupes, strict=True)]
        if docs:
            await self.jobs.insert_many(docs)
            if not hold:
                self.wakeup.set()
        return [d["_id"] for d in docs]

    async def release_many(self, job_ids: list[str]) -> None:
        """Make held jobs due now (one write)."""
        if job_ids:
            await self.jobs.update_many(
                {"_id": {"$in": job_ids}, "state": "queued", "held": True},
                {"$set": {"run_after": _now(), "held": False}, "$unset": {"held_by": ""}},
            )
            self.wakeup.set()

    def document(self, tenant: str, kind: str, payload: dict | None, delay: float = 0,
                 max_attempts: int | None = None, dedupe: str | None = None,
                 hold: bool = False) -> dict:
        """A new job's document, not yet inserted (for a caller that must know its id first)."""
        now = _now()
        if hold:
            delay = max(delay, self.lease_seconds)
        job = {
            "_id": new_id(),
            "tenant": tenant,
            "kind": kind,
            "payload": payload or {},
            "state": "queued",
            "attempts": 0,
            "max_attempts": max_attempts or self.max_attempts,
            "run_after": now + timedelta(seconds=delay),
            "created": now,
            "updated": now,
            "progress": 0.0,
            "message": "",
            "dedupe": dedupe,
            "cancel_requested": False,
            "version": JOB_VERSION,
        }
        if hold:
            # `held` is what queries match: an equality the embedded database runs as SQL
            # (`$exists` would filter the whole collection in Python).
            job.update(held=True, held_by=instance.current())
        return job

    async def release(self, job_id: str) -> None:
        """Make a held job due now."""
        await self.jobs.update_one(
            {"_id": job_id, "state": "queued", "held": True},
            {"$set": {"run_after": _now(), "held": False}, "$unset": {"held_by": ""}},
        )
        self.wakeup.set()

    async def reclaim_abandoned(self) -> int:
        """Make due now the jobs that a process of this host which no longer runs was
        running or holding; returns how many. Their next claim counts an attempt."""
        now = _now()
        host = instance.host()
        found = 0
        running = await self.jobs.find(
            {"state": "running", "lease_host": host}, {"lease_instance": 1}
        ).to_list()
        for job in running:
            if instance.is_gone(job.get("lease_instance", "")):
                done = await self.jobs.update_one(
                    {"_id": job["_id"], "state": "running",
                     "lease_instance": job["lease_instance"]},
                    {"$set": {"lease_until": now - timedelta(seconds=1)}},
                )
                found += done.modified_count
        held = await self.jobs.find(
            {"state": "queued", "held": True}, {"held_by": 1}
        ).to_list()
        for job in held:
            if instance.is_gone(job.get("held_by", "")):
                await self.release(job["_id"])
                found += 1
        if found:
            log.info("took back %d jobs of a process of this host that stopped", found)
            self.wakeup.set()
        return found

    async def claim(self, worker: str, kinds: list[str]) -> dict | None:
        now = _now()
        lease = now + timedelta(seconds=self.lease_seconds)
        return await self.jobs.find_one_and_update(
            {
                "kind": {"$in": kinds},
                "$or": [
                    {"state": "queued", "run_after": {"$lte": now}},
                    # A running job whose worker stopped renewing its lease (crashed).
                    {"state": "running", "lease_until": {"$lt": now}},
                ],
            },
            {"$set": {"state": "running", "worker": worker, "lease_until": lease,
                      **self._holder(), "started": now, "updated": now},
             "$inc": {"attempts": 1}},
            sort=[("run_after", 1)],
            return_document=ReturnDocument.AFTER,
        )

    async def claim_job(self, job_id: str, worker: str) -> dict | None:
        """Claim one queued job by id, due or held (the code that made it runs it now)."""
        now = _now()
        return await self.jobs.find_one_and_update(
            {"_id": job_id, "state": "queued"},
            {"$set": {"state": "running", "worker": worker,
                      "lease_until": now + timedelta(seconds=self.lease_seconds),
                      **self._holder(), "started": now, "updated": now, "held": False},
             "$inc": {"attempts": 1}, "$unset": {"held_by": ""}},
            return_document=ReturnDocument.AFTER,
        )

    @staticmethod
    def _holder() -> dict:
        me = instance.current()
        _host, pid, _start = instance.parse(me)
        return {"lease_instance": me, "lease_host": instance.host(), "lease_pid": pid}

    def exhausted(self, job: dict) -> bool:
        """Claimed more times than allowed: a job whose earlier runs died with their process."""
        return job.get("attempts", 1) > job.get("max_attempts", self.max_attempts)

    async def renew(self, job_id: str, worker: str) -> bool:
        result = await self.jobs.update_one(
            {"_id": job_id, "worker": worker, "state": "running"},
            {"$set": {"lease_until": _now() + timedelta(seconds=self.lease_seconds)}},
        )
        return result.modified_count == 1

    async def progress(self, job_id: str, worker: str, fraction: float, message: str = "") -> dict | None:
        return await self.jobs.find_one_and_update(
            {"_id": job_id, "worker": worker},
            {"$set": {"progress": max(0.0, min(1.0, float(fraction))), "message": message[:500],
                      "updated": _now()}},
            projection={"cancel_requested": 1},
        )

    async def finish(self, job_id: str, worker: str, result: dict | None = None) -> None:
        await self.jobs.update_one(
            {"_id": job_id, "worker": worker},
            {"$set": {"state": "done", "progress": 1.0, "result": result or {}, "finished": _now(),
                      "updated": _now()}, "$unset": {"lease_until": ""}},
        )

    async def fail(self, job: dict, worker: str, reason: str, *, retry: bool) -> str:
        """Record a failure; requeue with backoff while attempts remain. Returns the new state."""
        attempts = job.get("attempts", 1)
        retrying = retry and attempts < job.get("max_attempts", self.max_attempts)
        state = "queued" if retrying else "failed"
        update = {"state": state, "error": reason[:4000], "updated": _now()}
        if retrying:
            update["run_after"] = _now() + backoff(attempts)
        else:
            update["finished"] = _now()
        await self.jobs.update_one({"_id": job["_id"], "worker": worker},
                                   {"$set": update, "$unset": {"lease_until": ""}})
        return state

    async def postpone(self, job: dict, worker: str, seconds: float) -> None:
        """Put a claimed job back, due in `seconds`, without counting the claim as an attempt."""
        await self.jobs.update_one(
            {"_id": job["_id"], "worker": worker},
            {"$set": {"state": "queued", "run_after": _now() + timedelta(seconds=seconds),
                      "updated": _now()},
             "$unset": {"lease_until": ""}, "$inc": {"attempts": -1}},
        )

    async def mark_cancelled(self, job_id: str, worker: str) -> None:
        await self.jobs.update_one(
            {"_id": job_id, "worker": worker},
            {"$set": {"state": "cancelled", "finished": _now(), "updated": _now()},
             "$unset": {"lease_until": ""}},
        )

    async def cancel(self, tenant: str, job_id: str) -> dict | None:
        """Ask for a job to stop: a queued job is cancelled now, a running one at its next check."""
        now = _now()
        job = await self.jobs.find_one_and_update(
            {"_id": job_id, "tenant": tenant, "state": "queued"},
            {"$set": {"state": "cancelled", "cancel_requested": True, "finished": now, "updated": now}},
            return_document=ReturnDocument.AFTER,
        )
        if job is None:
            job = await self.jobs.find_one_and_update(
                {"_id": job_id, "tenant": tenant, "state": "running"},
                {"$set": {"cancel_requested": True, "updated": now}},
                return_document=ReturnDocument.AFTER,
            )
        return job or await self.get(tenant, job_id)

    async def get(self, tenant: str, job_id: str) -> dict | None:
        """A job of this tenant (never another tenant's, whatever the id)."""
        return await self.jobs.find_one({"_id": job_id, "tenant": tenant})

    async def list(self, tenant: str, *, states: list[str] | None = None, limit: int = 50) -> list[dict]:
        query: dict = {"tenant": tenant}
        if states:
            query["state"] = {"$in": states}
        return await self.jobs.find(query).sort("created", -1).limit(limit).to_list()


@dataclass
class JobContext:
    """What a handler gets: the job, the tenant's context, and ways to report progress."""

    job: dict
    tenant: Any  # TenantContext
    services: Any
    queue: JobQueue
    worker: str
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    _last_report: float = 0.0

    @property
    def payload(self) -> dict:
        return self.job.get("payload", {})

    async def report(self, fraction: float, message: str = "", *, force: bool = False) -> None:
        """Store progress (at most a few times a second) and notice a cancel request."""
        now = time.monotonic()
        if not force and now - self._last_report < 0.5:
            return
        self._last_report = now
        doc = await self.queue.progress(self.job["_id"], self.worker, fraction, message)
        if doc and doc.get("cancel_requested"):
            self.cancelled.set()

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled()


FAILURE_HOOKS: list[Callable[[JobContext, str], Awaitable[None]]] = []
