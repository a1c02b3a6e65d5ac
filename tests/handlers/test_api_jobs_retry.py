"""Retry and cancel through the jobs API: gallery admins only retry, only failed jobs, once
under two clicks at the same moment; another gallery's job id is a 404."""

from __future__ import annotations

import asyncio
import json

from gallery.intake.ingest import job_queue
from gallery.people.roles import create_role
from gallery.people.users import create_user

PASSWORD = "Correct-Horse-Battery-9"


async def _failed_job(queue, slug: str, **payload) -> str:
    job_id = await queue.enqueue(slug, "zip.import", payload)
    job = await queue.claim_job(job_id, "w")
    assert await queue.fail(job, "w", "<b>disk full</b>", retry=False) == "failed"
    return job_id


async def test_retry_and_cancel_are_the_gallery_admins_and_stay_in_their_gallery(app, make_gallery):
    alpha = await make_gallery("alpha")
    await make_gallery("beta")
    queue = job_queue(app.services)
    role = await create_role(alpha["ctx"], "Uploaders", ["view", "add_media"], [])
    user = await create_user(alpha["ctx"], "ulla", "ulla@example.org", PASSWORD, role_ids=[role["_id"]])
    mine = await _failed_job(queue, "alpha", requested_by=user["_id"])
    theirs = await _failed_job(queue, "beta")
    waiting = await queue.enqueue("beta", "zip.import", {})

    admin = app.browser()
    await admin.login(alpha["prefix"], "admin", alpha["password"])
    api = alpha["prefix"] + "/api/v1/jobs"
    # Another gallery's jobs do not exist here, whatever the action.
    for path in (f"{api}/{theirs}/retry", f"{api}/{waiting}/cancel"):
        assert (await admin.api("POST", path)).code == 404
    assert (await queue.get("beta", theirs))["state"] == "failed"
    assert (await queue.get("beta", waiting))["state"] == "queued"

    # The member who asked for the job sees it but may not run it again.
    ulla = app.browser()
    await ulla.login(alpha["prefix"], "ulla", PASSWORD)
    assert (await ulla.api("GET", f"{api}/{mine}")).code == 200
    assert (await ulla.api("POST", f"{api}/{mine}/retry")).code == 403
    assert (await ulla.get(alpha["prefix"] + "/admin/queue")).code == 403  # the page too
    page = await admin.get(alpha["prefix"] + "/admin/queue")
    assert page.code == 200 and mine in page.body.decode() and theirs not in page.body.decode()

    # Two clicks at once: both answer with the job queued again, and it runs once more only.
    first, second = await asyncio.gather(
        admin.api("POST", f"{api}/{mine}/retry"), admin.api("POST", f"{api}/{mine}/retry")
    )
    assert (first.code, second.code) == (200, 200)
    for response in (first, second):
        assert json.loads(response.body)["job"]["state"] == "queued"
    stored = await queue.get("alpha", mine)
    assert stored["attempts"] == 0 and stored["last_error"] == "<b>disk full</b>"
    assert "error" not in stored
    assert await queue.claim_job(mine, "w") is not None
    assert await queue.claim_job(mine, "w") is None

    # A finished job is not retried; cancel of a queued job works for the admin.
    await queue.finish(mine, "w")
    assert (await admin.api("POST", f"{api}/{mine}/retry")).code == 409
    queued = await queue.enqueue("alpha", "zip.import", {})
    cancelled = await admin.api("POST", f"{api}/{queued}/cancel")
    assert json.loads(cancelled.body)["job"]["state"] == "cancelled"


async def test_clicks_at_once_all_answer_queued_whichever_reads_first(app, make_gallery):
    """Each click reads the job, then writes only if it is still failed: a click that read it
    failed and lost the write to another click must read it again, not answer 409."""
    alpha = await make_gallery("alpha")
    queue = job_queue(app.services)
    admin = app.browser()
    await admin.login(alpha["prefix"], "admin", alpha["password"])
    api = alpha["prefix"] + "/api/v1/jobs"
    for _ in range(15):
        job_id = await _failed_job(queue, "alpha")
        answers = await asyncio.gather(*(admin.api("POST", f"{api}/{job_id}/retry") for _ in range(4)))
        assert [a.code for a in answers] == [200] * 4, [a.body for a in answers if a.code != 200]
        assert {json.loads(a.body)["job"]["state"] for a in answers} == {"queued"}
        assert await queue.claim_job(job_id, "w") is not None  # queued once: one run
        assert await queue.claim_job(job_id, "w") is None
