"""The job queue against the embedded database: claim, retry with backoff, leases, cancel."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from jobs import queue as jobs
from jobs.queue import JobFailed, JobQueue
from jobs.runner import JobRunner


@pytest.fixture
def queue(services):
    return JobQueue(services.host_db, lease_seconds=30, max_attempts=3)


async def test_two_workers_never_claim_the_same_job(queue):
    for i in range(5):
        await queue.enqueue("alpha", "test.echo", {"i": i})
    claims = await asyncio.gather(*(queue.claim(f"w{i}", ["test.echo"]) for i in range(8)))
    ids = [c["_id"] for c in claims if c]
    assert len(ids) == 5 and len(set(ids)) == 5


async def test_an_expired_lease_lets_another_worker_take_the_job(queue):
    job_id = await queue.enqueue("alpha", "test.echo")
    first = await queue.claim("crashed", ["test.echo"])
    assert first["_id"] == job_id
    assert await queue.claim("other", ["test.echo"]) is None
    await queue.jobs.update_one({"_id": job_id}, {"$set": {"lease_until": datetime.now(UTC) - timedelta(seconds=1)}})
    second = await queue.claim("other", ["test.echo"])
    assert second["_id"] == job_id and second["attempts"] == 2


async def test_failures_retry_with_backoff_then_fail_for_good(queue):
    await queue.enqueue("alpha", "test.echo")
    job = await queue.claim("w", ["test.echo"])
    assert await queue.fail(job, "w", "boom", retry=True) == "queued"
    stored = await queue.get("alpha", job["_id"])
    assert stored["run_after"] > datetime.now(UTC) + timedelta(seconds=3)
    await queue.jobs.update_one({"_id": job["_id"]}, {"$set": {"max_attempts": 1}})
    job = await queue.jobs.find_one({"_id": job["_id"]})
    assert await queue.fail(job, "w", "boom again", retry=True) == "failed"


async def test_jobs_of_one_tenant_are_invisible_to_another(queue):
    job_id = await queue.enqueue("alpha", "test.echo")
    assert await queue.get("beta", job_id) is None
    assert await queue.cancel("beta", job_id) is None
    assert (await queue.get("alpha", job_id))["state"] == "queued"


async def test_runner_runs_a_job_and_records_progress(services, make_gallery, app):
    await make_gallery("alpha")
    seen = []

    async def echo(job):
        await job.report(0.5, "half", force=True)
        seen.append(job.payload["word"])
        return {"echo": job.payload["word"]}

    async def broken(job):
        raise JobFailed("cannot be done")

    jobs.register("test.echo", echo)
    jobs.register("test.broken", broken)
    try:
        runner = JobRunner(services, workers=1, poll_seconds=0.05)
        await runner.start()
        ok = await runner.enqueue("alpha", "test.echo", {"word": "hi"})
        bad = await runner.enqueue("alpha", "test.broken")
        for _ in range(200):
            a, b = await runner.queue.get("alpha", ok), await runner.queue.get("alpha", bad)
            if a["state"] == "done" and b["state"] == "failed":
                break
            await asyncio.sleep(0.02)
        await runner.stop()
        assert a["state"] == "done" and a["result"] == {"echo": "hi"} and a["progress"] == 1.0
        assert b["state"] == "failed" and b["error"] == "cannot be done" and b["attempts"] == 1
        assert seen == ["hi"]
    finally:
        jobs.HANDLERS.pop("test.echo", None)
        jobs.HANDLERS.pop("test.broken", None)


async def test_a_job_of_a_gallery_a_restore_is_staging_waits_and_counts_no_attempt(services, make_gallery, app):
    # A killed restore's held job is released at the next start while that start removes the
    # staging gallery: run then, the job would make the dropped database again.
    gallery = await make_gallery("alpha")
    ran = []

    async def touch(job):
        ran.append(job.tenant.slug)

    jobs.register("test.touch", touch)
    await services.host_db.tenants.update_one(
        {"_id": "alpha"}, {"$set": {"status": "provisioning", "restoring": {"by": "gone"}}})
    services.registry.forget("alpha")
    try:
        runner = JobRunner(services, workers=0)
        job_id = await runner.enqueue("alpha", "test.touch")
        job = await runner.queue.claim_job(job_id, "w")
        await runner.run_job(job, "w")
        stored = await runner.queue.get("alpha", job_id)
        assert ran == [] and stored["state"] == "queued" and stored["attempts"] == 0
        assert stored["run_after"] > datetime.now(UTC) + timedelta(seconds=30)

        await services.host_db.tenants.update_one(
            {"_id": "alpha"}, {"$set": {"status": "active"}, "$unset": {"restoring": ""}})
        services.registry.forget("alpha")
        job = await runner.queue.claim_job(job_id, "w")
        await runner.run_job(job, "w")
        assert ran == [gallery["ctx"].slug]
        assert (await runner.queue.get("alpha", job_id))["state"] == "done"
    finally:
        jobs.HANDLERS.pop("test.touch", None)
