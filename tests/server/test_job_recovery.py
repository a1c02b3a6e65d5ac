"""The queue after crashes: every claim counts an attempt (a reclaim after a lease ran out
too) and a job past `max_attempts` is failed, not run again; a starting runner takes back
at once the jobs that a killed process of this host held, whatever their lease."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs import queue as jobs
from jobs.queue import JobQueue
from jobs.runner import JobRunner
from storage import instance

ROOT = Path(__file__).resolve().parents[2]

# Another process (a worker of a service) claims every queued job of a kind with a long
# lease, says so, and hangs as if busy, until it is killed.
CLAIMER = """
import asyncio, json, sys
from server.config import load_config
from server.services import build_services
from jobs.queue import JobQueue

async def main(values, kind):
    services = await build_services(load_config(None, env={}, overrides=values))
    queue = JobQueue(services.host_db, lease_seconds=600)
    while await queue.claim("doomed/0", [kind]):
        pass
    print("claimed", flush=True)
    await asyncio.Event().wait()

asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2]))
"""


def _values(config) -> dict:
    return {
        "paths.data_dir": str(config.paths.data_dir),
        "database.uri": config.database.uri,
        "database.prefix": config.database.prefix,
        "security.host_secret": config.security.host_secret,
        "jobs.workers": 0,
    }


@pytest.fixture
def counting():
    """A job kind that counts its runs."""
    runs: list[str] = []

    async def count(job):
        runs.append(job.job["_id"])
        return {"ran": True}

    jobs.register("test.count", count)
    yield runs
    jobs.HANDLERS.pop("test.count", None)


async def _run_until_settled(runner, queue, job_ids, timeout=30.0):
    await runner.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = await queue.jobs.find({"_id": {"$in": job_ids}}).to_list()
            if all(j["state"] in ("done", "failed") for j in found):
                return {j["_id"]: j for j in found}
            assert loop.time() < deadline, found
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()


async def test_a_job_whose_lease_ran_out_too_often_is_failed_not_run(
    services, make_gallery, counting
):
    await make_gallery("alpha")
    queue = JobQueue(services.host_db, lease_seconds=30, max_attempts=2)
    job_id = await queue.enqueue("alpha", "test.count")
    # Two workers each claimed it and died mid-job (their leases ran out).
    for worker in ("dead/1", "dead/2"):
        claimed = await queue.claim(worker, ["test.count"])
        assert claimed["_id"] == job_id
        await queue.jobs.update_one(
            {"_id": job_id},
            {"$set": {"lease_until": datetime.now(UTC) - timedelta(seconds=1)}},
        )
    runner = JobRunner(services, workers=1, poll_seconds=0.1)
    runner.queue.max_attempts = 2
    settled = await _run_until_settled(runner, runner.queue, [job_id])
    job = settled[job_id]
    assert job["state"] == "failed" and job["attempts"] == 3
    assert "stopped after 2 attempts" in job["error"]
    assert counting == []  # never run a third time


async def test_a_starting_runner_takes_back_the_jobs_of_a_killed_process_at_once(
    services, make_gallery, counting
):
    await make_gallery("alpha")
    queue = JobQueue(services.host_db, lease_seconds=600)
    running = [await queue.enqueue("alpha", "test.count") for _ in range(2)]
    claimer = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-c", CLAIMER, json.dumps(_values(services.config)), "test.count"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = await asyncio.to_thread(claimer.stdout.readline)
        assert line.strip() == "claimed"
        # Made by a process that died before releasing it (gallery/intake/ingest.py holds).
        held = await queue.enqueue("alpha", "test.count", hold=True)
        await queue.jobs.update_one(
            {"_id": held}, {"$set": {"held_by": (await queue.jobs.find_one(
                {"_id": running[0]}))["lease_instance"]}}
        )
    finally:
        claimer.send_signal(signal.SIGKILL)
        await asyncio.to_thread(claimer.wait)
        claimer.stdout.close()
    stored = await queue.jobs.find({"_id": {"$in": running}}).to_list()
    for job in stored:
        assert job["state"] == "running" and job["lease_pid"] == claimer.pid
        assert job["lease_until"] > datetime.now(UTC) + timedelta(seconds=500)
        assert instance.is_gone(job["lease_instance"])
    # A live process's lease (this one's) is left alone.
    alive = await queue.enqueue("alpha", "test.count")
    assert (await queue.claim("me/0", ["test.count"]))["_id"] in (alive, held)
    ours = await queue.jobs.find_one({"lease_instance": instance.current()})

    runner = JobRunner(services, workers=1, poll_seconds=0.1)
    settled = await _run_until_settled(runner, runner.queue, [*running, held], timeout=20)
    for job_id in running:
        assert settled[job_id]["state"] == "done" and settled[job_id]["attempts"] == 2
    assert settled[held]["state"] == "done"
    again = await queue.jobs.find_one({"_id": ours["_id"]})
    assert again["state"] == "running" and again["worker"] == "me/0"
