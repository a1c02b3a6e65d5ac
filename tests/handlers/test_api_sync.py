"""Starting a synchronization over HTTP: the synchronize permission, one sync per gallery,
the sync key (shown once, stored hashed, revocable) and its rate limit."""

from __future__ import annotations

import asyncio
import io
import json

from PIL import Image

from gallery.people.roles import create_role
from gallery.settings import update_settings
from gallery.people.users import create_user
from tests.client import text

PASSWORD = "Correct-Horse-Battery-9"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (9, 9, 9)).save(out, "JPEG")
    return out.getvalue()


async def run_job(app, job_id: str) -> dict:
    """Run a queued job with the real runner (this test service starts no workers, so a
    queued sync stays queued until here: the one-at-a-time check cannot race it)."""
    from jobs.runner import JobRunner
    from server.runtime import load_handlers as _load_handlers

    _load_handlers()
    job = await JobRunner(app.services, workers=0).run_now(job_id)
    assert job is not None, "the job was not queued"
    return job


async def signed_in(app, gallery, username="admin", password=None):
    browser = app.browser()
    response = await browser.login(gallery["prefix"], username, password or gallery["password"])
    assert response.code == 302, text(response)
    return browser


async def test_synchronize_permission_and_one_sync_at_a_time(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    await update_settings(ctx, {"sync_min_age_seconds": 0})
    root = await ctx.db.albums.find_one({"parent_id": None})
    (ctx.storage.originals / "Drop").mkdir()
    (ctx.storage.originals / "Drop" / "a.jpg").write_bytes(jpeg())
    viewer_role = await create_role(ctx, "Viewers", ["view"], [root["_id"]])
    await create_user(ctx, "viewer", "viewer@alpha.test", PASSWORD, role_ids=[viewer_role["_id"]])
    syncer_role = await create_role(ctx, "Syncers", ["view", "synchronize"], [root["_id"]])
    await create_user(ctx, "syncer", "syncer@alpha.test", PASSWORD, role_ids=[syncer_role["_id"]])

    viewer = await signed_in(app, gallery, "viewer", PASSWORD)
    refused = await viewer.api("POST", f"{p}/api/v1/albums/{root['_id']}/sync")
    assert refused.code == 403, text(refused)
    anonymous = await app.browser().api("POST", f"{p}/api/v1/albums/{root['_id']}/sync")
    assert anonymous.code in (401, 403, 404)
    assert await app.services.host_db.jobs.count_documents({"kind": "gallery.sync"}) == 0

    syncer = await signed_in(app, gallery, "syncer", PASSWORD)
    bad = await syncer.api("POST", f"{p}/api/v1/albums/{root['_id']}/sync",
                           {"recursive": "yes"})
    assert bad.code == 400
    # Two requests at once: one job, the second answer names it.
    first, second = await asyncio.gather(
        syncer.api("POST", f"{p}/api/v1/albums/{root['_id']}/sync", {"recursive": True}),
        syncer.api("POST", f"{p}/api/v1/albums/{root['_id']}/sync"),
    )
    assert first.code == second.code == 202
    ids = {json.loads(first.body)["job_id"], json.loads(second.body)["job_id"]}
    assert len(ids) == 1
    job_id = ids.pop()
    third = await syncer.api("POST", f"{p}/api/v1/albums/{root['_id']}/sync")
    assert json.loads(third.body) == {"job_id": job_id, "already_running": True}
    job = await run_job(app, job_id)
    assert job["state"] == "done", job.get("error")
    assert job["result"]["new"] == 1 and job["result"]["new_albums"] == 1
    event = await ctx.db.events.find_one({"kind": "sync"})
    assert "1 new" in event["message"] and event["username"] == "syncer"


async def test_sync_key_shown_once_hashed_revocable_and_rate_limited(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    admin = await signed_in(app, gallery)
    made = await admin.api("POST", f"{p}/api/v1/sync/key")
    assert made.code == 201
    key = json.loads(made.body)["key"]
    shown = json.loads(text(await admin.get(f"{p}/api/v1/sync/key")))["key"]
    assert key not in json.dumps(shown, default=str) and shown["hint"] == key[-4:]
    stored = await ctx.db.meta.find_one({"_id": "sync_key"})
    assert key not in json.dumps(stored, default=str)

    remote = app.browser()  # no session, no XSRF cookie: a cron job
    wrong = await remote.request("POST", f"{p}/api/v1/sync",
                                 headers={"Authorization": "Bearer " + key[:-1] + "x"})
    assert wrong.code == 403
    in_url = await remote.request("POST", f"{p}/api/v1/sync?key={key}")
    assert in_url.code == 403  # the key is read from headers only
    ok = await remote.request("POST", f"{p}/api/v1/sync",
                              headers={"Authorization": f"Bearer {key}"})
    assert ok.code == 202, text(ok)
    job = await run_job(app, json.loads(ok.body)["job_id"])
    assert job["state"] == "done", job.get("error")
    codes = []
    for _ in range(6):
        r = await remote.request("POST", f"{p}/api/v1/sync", headers={"X-Sync-Key": key})
        codes.append(r.code)
    assert 429 in codes  # 6 a minute, wrong keys counted too

    await ctx.db.meta.delete_one({"_id": "sync_trigger"})  # a new minute
    revoked = await admin.api("DELETE", f"{p}/api/v1/sync/key")
    assert json.loads(revoked.body)["revoked"] is True
    after = await remote.request("POST", f"{p}/api/v1/sync", headers={"X-Sync-Key": key})
    assert after.code == 403


async def test_a_running_sync_is_cancelled_between_batches(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    await update_settings(ctx, {"sync_min_age_seconds": 0})
    folder = ctx.storage.originals / "many"
    folder.mkdir()
    for i in range(1000):
        (folder / f"n{i:04d}.txt").write_bytes(b"note %d\n" % i)
    admin = await signed_in(app, gallery)
    started = await admin.api("POST", f"{p}/api/v1/albums/"
                              f"{(await ctx.db.albums.find_one({'parent_id': None}))['_id']}/sync")
    job_id = json.loads(started.body)["job_id"]
    running = asyncio.create_task(run_job(app, job_id))
    jobs = app.services.host_db.jobs
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:  # until the first batch is in
        if await ctx.db.media.count_documents({}) > 0:
            break
        await asyncio.sleep(0.05)
    cancel = await admin.api("POST", f"{p}/api/v1/jobs/{job_id}/cancel")
    assert cancel.code in (200, 202), text(cancel)
    job = await running
    assert job["state"] == "cancelled", (job["state"], job.get("result"))
    assert 0 < await ctx.db.media.count_documents({}) < 1000
    assert (await jobs.find_one({"_id": job_id}))["state"] == "cancelled"
