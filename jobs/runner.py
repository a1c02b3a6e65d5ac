"""The worker loops of a process (JobRunner): claim a due job of a registered kind from the
queue (jobs/queue.py), run its handler with a JobContext while a task renews the lease, and
record how it ended; a final failure goes to the registered FAILURE_HOOKS."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from pymongo.errors import ConnectionFailure

from jobs.queue import (
    FAILURE_HOOKS,
    HANDLERS,
    JobCancelled,
    JobContext,
    JobFailed,
    JobQueue,
    new_id,
)

log = logging.getLogger("atrium.jobs")


class JobRunner:
    """Worker loops of this process; each claims and runs one job at a time."""

    def __init__(self, services, workers: int | None = None, poll_seconds: float = 1.0):
        config = services.config
        self.services = services
        self.queue = JobQueue(services.host_db, config.jobs.lease_seconds, config.jobs.max_attempts)
        self.workers = config.jobs.workers if workers is None else workers
        self.poll_seconds = poll_seconds
        self.name = f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self.groups = {"transcode": asyncio.Semaphore(config.limits.transcodes)}
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()

    # Convenience used by handlers and gallery code.
    async def enqueue(self, tenant: str, kind: str, payload: dict | None = None, **kwargs) -> str:
        return await self.queue.enqueue(tenant, kind, payload, **kwargs)

    async def notify_installer(self, record: dict, token: str) -> str | None:
        """Hook: e-mail the installer link (the e-mail layer registers `email.installer`);
        returns the job's id, whose state tells whether the message went out."""
        if "email.installer" in HANDLERS:
            return await self.enqueue(record["_id"], "email.installer", {"token": token})
        return None

    async def start(self) -> None:
        try:
            await self.queue.reclaim_abandoned()
        except Exception:  # the leases still run out; starting must not fail for this
            log.exception("could not take back the jobs of a stopped process")
        for i in range(self.workers):
            self._tasks.append(asyncio.create_task(self._loop(f"{self.name}/{i}")))
        log.info("%d job workers started", self.workers)

    async def stop(self) -> None:
        self._stopping.set()
        self.queue.wakeup.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def claimable_kinds(self) -> list[str]:
        """Job kinds this process may take now: none of a group that is at its limit.

        A worker that claimed a job of a full group would sit waiting for the group
        instead of running the uploads' processing queued behind it.
        """
        return [
            kind
            for kind, handler in HANDLERS.items()
            if not (handler.group in self.groups and self.groups[handler.group].locked())
        ]

    async def _loop(self, worker: str) -> None:
        while not self._stopping.is_set():
            try:
                kinds = self.claimable_kinds()
                job = await self.queue.claim(worker, kinds) if kinds else None
            except Exception as exc:
                if self._stopping.is_set():
                    # The stop's cancel, which pymongo may turn into another error
                    # (a dead database's server selection): nothing to report.
                    break
                if isinstance(exc, ConnectionFailure):
                    # The database is down (its supervisor restarts it): a line, not a
                    # traceback every poll.
                    log.warning("claiming a job failed: database unreachable (%s)", type(exc).__name__)
                else:
                    log.exception("claiming a job failed")
                job = None
            if job is None:
                self.queue.wakeup.clear()
                try:
                    await asyncio.wait_for(self.queue.wakeup.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    pass
                continue
            handler = HANDLERS.get(job["kind"])
            group = self.groups.get(handler.group) if handler is not None and handler.group else None
            if group is not None:
                if group.locked():
                    # Another worker filled the group between this one's look
                    # (claimable_kinds) and its claim: waiting here would leave the uploads
                    # queued behind it unprocessed. Put the job back (due now, not an
                    # attempt); the group's next free place wakes the workers for it.
                    await self.queue.postpone(job, worker, 0)
                    continue
                # Taken now, with no await between the look and the taking; run_job gives it back.
                await group.acquire()
            await self.run_job(job, worker, group_taken=group is not None)

    async def run_now(self, job_id: str) -> dict | None:
        """Claim a queued (or held) job by id and run it in the caller's task; returns the
        job as it ended, or None when someone else has it. A request that runs its own job
        this way leaves it to the queue if its process dies: the job is resumed there."""
        worker = f"{self.name}/now"
        job = await self.queue.claim_job(job_id, worker)
        if job is None:
            return None
        await self.run_job(job, worker)
        return await self.queue.jobs.find_one({"_id": job_id})

    async def run_job(self, job: dict, worker: str, group_taken: bool = False) -> None:
        """Run a claimed job. `group_taken`: the caller holds a place in the job's group
        (the loop takes it before it commits to the job), given back here."""
        handler = HANDLERS.get(job["kind"])
        group = self.groups.get(handler.group) if handler is not None and handler.group else None
        try:
            await self._run_job(job, worker, handler, group, group_taken)
        finally:
            if group_taken:
                group.release()
                self.queue.wakeup.set()  # the group has room again: look for its jobs

    async def _run_job(self, job: dict, worker: str, handler, group, group_taken: bool) -> None:
        if job.get("cancel_requested"):
            await self.queue.mark_cancelled(job["_id"], worker)
            return
        try:
            tenant = await self.services.registry.context_for_slug(job["tenant"])
        except Exception:
            await self.queue.fail(job, worker, "the tenant no longer exists", retry=False)
            return
        if tenant.status == "provisioning" and tenant.record.get("restoring"):
            # A restore is staging this gallery (its jobs are released at the switch), or its
            # process died and the next start is removing what it left: a job run now would
            # write into a database about to be dropped and make it again behind the removal.
            await self.queue.postpone(job, worker, self.queue.lease_seconds)
            return
        ctx = JobContext(job=job, tenant=tenant, services=self.services, queue=self.queue, worker=worker)
        if self.queue.exhausted(job):
            # Its earlier attempts ended with their process (killed mid-job): running it
            # again and again would repeat whatever it does before it dies.
            reason = (f"stopped after {job.get('max_attempts', self.queue.max_attempts)} attempts "
                      "(the process running it stopped)")
            await self.queue.fail(job, worker, reason, retry=False)
            log.warning("job %s (%s) failed: %s", job["_id"], job["kind"], reason)
            await _on_failure(ctx, reason)
            return
        renewer = asyncio.create_task(self._renew(ctx))
        try:
            if group is not None and not group_taken:
                try:
                    async with group:
                        result = await handler.fn(ctx)
                finally:
                    self.queue.wakeup.set()  # the group has room again: look for its jobs
            else:
                result = await handler.fn(ctx)
        except JobCancelled:
            await self.queue.mark_cancelled(job["_id"], worker)
            log.info("job %s (%s) cancelled", job["_id"], job["kind"])
        except JobFailed as exc:
            await self.queue.fail(job, worker, str(exc), retry=False)
            await _on_failure(ctx, str(exc))
        except asyncio.CancelledError:
            # The process is stopping: let the lease expire so another worker retries it.
            raise
        except Exception as exc:
            log.exception("job %s (%s) failed", job["_id"], job["kind"])
            state = await self.queue.fail(job, worker, f"{type(exc).__name__}: {exc}", retry=True)
            if state == "failed":
                await _on_failure(ctx, f"{type(exc).__name__}: {exc}")
        else:
            await self.queue.finish(job["_id"], worker, result if isinstance(result, dict) else None)
        finally:
            renewer.cancel()

    async def _renew(self, ctx: JobContext) -> None:
        interval = max(1.0, self.queue.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.queue.renew(ctx.job["_id"], ctx.worker)
                doc = await self.queue.jobs.find_one({"_id": ctx.job["_id"]}, {"cancel_requested": 1})
                if doc and doc.get("cancel_requested"):
                    ctx.cancelled.set()
            except Exception:
                log.warning("could not renew the lease of job %s", ctx.job["_id"])


async def _on_failure(ctx: JobContext, reason: str) -> None:
    """Let interested layers react to a final failure (e.g. mark a media object failed)."""
    for hook in FAILURE_HOOKS:
        try:
            await hook(ctx, reason)
        except Exception:
            log.exception("failure hook failed")
