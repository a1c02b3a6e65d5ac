"""The gate in front of a gallery that is not at this release's schema (tenants/upgrade.py):
migrated on first touch, 503 with Retry-After and progress while another process migrates
it, 503 with the reason when its migration failed or its database is newer, and the host
console showing each gallery's schema version."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import time
from types import SimpleNamespace

import pytest

from gallery import schema
from gallery.migrations import runner
from tenants.host_admins import create_admin
from tests.client import text
from tests.gallery.migrations.test_migrations import (
    STEP,
    failing_after,
    migrate_process,
    old_gallery,
    snapshot,
    with_taken,
    without_taken,
)

HOST_PASSWORD = "Granite-Meadow-Falcon-77"


async def console(app):
    await create_admin(app.services.host_db, "provider", HOST_PASSWORD)
    browser = app.browser()
    await browser.get("/_host/login")
    signed = await browser.post_form("/_host/login", {"username": "provider", "password": HOST_PASSWORD})
    assert signed.code == 302
    return browser


async def test_a_gallery_behind_is_migrated_on_its_first_request(app, make_gallery):
    g = await old_gallery(make_gallery, count=300)
    app.services.registry.forget("alpha")
    host = await console(app)
    listed = text(await host.get("/_host/"))
    assert "behind" in listed and f"(v{schema.SCHEMA_VERSION})" in listed

    browser = app.browser()
    page = await browser.get("/g/alpha/")
    assert page.code == 200
    assert await runner.stored_version(g["ctx"].db) == schema.SCHEMA_VERSION
    assert await without_taken(g["ctx"]) == 0
    shown = text(await host.get("/_host/tenants/alpha"))
    assert f"version {schema.SCHEMA_VERSION} (current)" in shown


async def test_while_another_process_migrates_the_gallery_answers_503_with_progress(app, make_gallery, config):
    g = await old_gallery(make_gallery, count=2200)
    app.services.registry.forget("alpha")
    proc = await migrate_process(config, "alpha", failpoint="migration.batch@2")
    line = b""
    while b"failpoint migration.batch reached" not in line:
        line = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert line, "the migration ended before its failpoint"
    browser = app.browser()
    page = await browser.get("/g/alpha/")
    # Its own page: the gallery's name, the step, the counts; it polls (no Refresh header,
    # a meta refresh only without JavaScript).
    assert page.code == 503 and page.headers["Retry-After"] == "5" and "Refresh" not in page.headers
    shown = text(page)
    assert "Alpha Gallery is being upgraded" in shown and f"Step 1 of {len(runner.TENANT_STEPS)}" in shown
    assert "1,000 of 2,200 documents (45%)" in shown
    # In German from the first render: the counts and the time left (upgrading.js says the
    # same words as it follows the upgrade).
    german = text(await browser.get("/g/alpha/", headers={"Accept-Language": "de"}))
    assert "1.000 von 2.200 Dokumenten (45 %)" in german
    assert re.search(r'data-field="estimate">Noch etwa [0-9.,]+ (Sekunden|Minuten|Stunden)<', german), german
    assert re.search(r'data-field="estimate">About [0-9.,]+ (seconds|minutes|hours) left<', page.body.decode())
    assert '<progress class="upgrade-bar" max="2200" value="1000">' in page.body.decode()
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page.body.decode()
    assert 'data-progress-url="/g/alpha/_upgrade"' in page.body.decode()
    assert "taken" not in shown  # the step's developer description stays in the console
    api = await browser.get("/g/alpha/api/v1/albums")
    error = json.loads(api.body)["error"]
    assert api.code == 503 and api.headers["Retry-After"] == "5" and error["code"] == "upgrading"
    assert {k: error["progress"][k] for k in ("state", "step", "steps", "done", "total", "percent")} == {
        "state": "upgrading", "step": 1, "steps": len(runner.TENANT_STEPS), "done": 1000, "total": 2200, "percent": 45}
    # The page's progress JSON: the same counts and nothing else, without signing in.
    polled = await browser.get("/g/alpha/_upgrade")
    assert polled.code == 200 and polled.headers["Cache-Control"] == "no-store"
    assert json.loads(polled.body) == error["progress"]
    assert set(error["progress"]) == {"state", "step", "steps", "done", "total", "percent", "seconds_left"}
    assert isinstance(error["progress"]["seconds_left"], int)  # from the holder's own pace
    host = await console(app)
    assert "upgrading" in text(await host.get("/_host/tenants/alpha"))

    # Its process dies: the page's next poll takes the dead holder's claim and finishes.
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while (polled := json.loads((await browser.get("/g/alpha/_upgrade")).body))["state"] != "current":
        assert polled["state"] == "upgrading" and loop.time() < deadline, polled
        await asyncio.sleep(0.2)
    assert (await browser.get("/g/alpha/")).code == 200
    assert await without_taken(g["ctx"]) == 0
    assert (await runner.claim_state(g["ctx"].db))["done"] == 2200


def unsafe(step: runner.Step) -> runner.Step:
    """The same step, not declaring READ_ONLY_SAFE (a step whose half-done documents this
    release's code could not read)."""
    module = SimpleNamespace(run=step.module.run, total=step.module.total)
    return runner.Step(step.number, step.description, module)


async def test_a_failed_migration_is_503_with_its_reason_and_the_version_kept(app, make_gallery, monkeypatch):
    monkeypatch.setattr(runner, "TENANT_STEPS", [unsafe(s) for s in runner.TENANT_STEPS])
    g = await old_gallery(make_gallery, count=1200)
    ctx = g["ctx"]
    with pytest.raises(runner.MigrationFailed):
        await runner.migrate(ctx, steps=failing_after(1))
    app.services.registry.forget("alpha")
    browser = app.browser()
    for _ in range(2):
        page = await browser.get("/g/alpha/")
        assert page.code == 503 and page.headers["Retry-After"] == "60"
        assert "failed at step 2" in text(page) and "disk full" in text(page)
    assert (await browser.get("/g/alpha/api/v1/albums")).code == 503
    assert json.loads((await browser.get("/g/alpha/_upgrade")).body) == {"state": "schema_refused"}
    assert await runner.stored_version(ctx.db) == 1
    host = await console(app)
    assert "failed" in text(await host.get("/_host/"))
    assert "read-only" not in text(await host.get("/_host/tenants/alpha"))


async def test_a_failed_read_only_safe_step_leaves_the_gallery_readable_and_refuses_writes(app, make_gallery):
    g = await old_gallery(make_gallery, count=600)
    ctx = g["ctx"]
    assert runner.read_only_safe(runner.TENANT_STEPS)  # steps 0002 and 0003 declare it
    with pytest.raises(runner.MigrationFailed):
        await runner.migrate(ctx, steps=failing_after(1))
    assert await with_taken(ctx) == 500  # half-migrated: 500 with `taken`, 100 without
    app.services.registry.forget("alpha")
    before = await snapshot(ctx)

    # Reads: pages and the API, with the banner; both shapes show the same date.
    visitor = app.browser()
    page = await visitor.get("/g/alpha/")
    assert page.code == 200 and "is read-only for now" in text(page)
    assert 'class="read-only-notice"' in text(page)
    dated = [d for d in before.values() if d["metadata"].get("date_taken") == "2024-05-01T15:47:00-05:00"]
    done = next(d for d in dated if "taken" in d)
    pending = next(d for d in dated if "taken" not in d)
    for doc in (done, pending):
        media = await visitor.get(f"/g/alpha/api/v1/media/{doc['_id']}")
        assert media.code == 200, text(media)
        expected = STEP.module.taken_for(doc)
        assert json.loads(media.body)["media"]["taken"] == expected == {
            "local": "2024-05-01T15:47:00", "offset": "-05:00"}
    assert json.loads((await visitor.get("/g/alpha/_upgrade")).body) == {"state": "read_only"}
    # The timeline reads the key step 0003 gives: it waits for the upgrade, never half-shown.
    for path in ("/timeline", "/api/v1/timeline", "/api/v1/timeline/months"):
        answer = await visitor.get(f"/g/alpha{path}")
        assert answer.code == 503 and "timeline comes back" in text(answer), path

    # Sign-in writes only the visitor's session: it works; every other write answers 503.
    admin = app.browser()
    assert (await admin.login("/g/alpha", "admin", g["password"])).code == 302
    assert "is read-only for now" in text(await admin.get("/g/alpha/admin/settings"))
    root = await admin.api("GET", "/g/alpha/api/v1/albums")
    assert root.code == 200
    made = await admin.api("POST", "/g/alpha/api/v1/albums", {"title": "New", "parent_id": done["album_id"]})
    assert made.code == 503 and made.headers["Retry-After"] == "60"
    assert json.loads(made.body)["error"]["code"] == "read_only"
    edited = await admin.api("PATCH", f"/g/alpha/api/v1/media/{pending['_id']}", {"title": "changed"})
    assert edited.code == 503 and json.loads(edited.body)["error"]["code"] == "read_only"
    form = await admin.post_form("/g/alpha/admin/settings", {"gallery_title": "Changed"})
    assert form.code == 503 and "is read-only for now" in text(form)
    verify = await visitor.get("/g/alpha/verify?token=x")  # a GET that writes
    assert verify.code == 503 and "is read-only for now" in text(verify)
    after = await snapshot(ctx)
    assert after == before and await runner.stored_version(ctx.db) == 1
    assert await ctx.db.albums.count_documents({"title": "New"}) == 0

    host = await console(app)
    assert "served read-only" in text(await host.get("/_host/tenants/alpha"))

    # The upgrade finished (the CLI retries at once): the gallery is whole again.
    assert [s.number for s in await runner.migrate(ctx)] == [s.number for s in runner.TENANT_STEPS]
    page = await admin.get("/g/alpha/")
    assert page.code == 200 and "read-only" not in text(page)
    edited = await admin.api("PATCH", f"/g/alpha/api/v1/media/{pending['_id']}", {"title": "changed"})
    assert edited.code == 200, text(edited)


async def test_a_newer_or_unreadable_database_is_refused_untouched(app, make_gallery, caplog):
    g = await old_gallery(make_gallery, count=20)
    ctx = g["ctx"]
    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": schema.SCHEMA_VERSION + 7}})
    app.services.registry.forget("alpha")
    browser = app.browser()
    with caplog.at_level(logging.ERROR, logger="atrium.migrations"):
        for _ in range(3):
            page = await browser.get("/g/alpha/")
            assert page.code == 503 and "newer than this release" in text(page)
    assert len([r for r in caplog.records if "newer than this release" in r.getMessage()]) == 1
    assert await without_taken(ctx) == 20 and await runner.claim_state(ctx.db) is None
    host = await console(app)
    assert "newer" in text(await host.get("/_host/"))

    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": "two"}})
    app.services.registry.forget("alpha")
    page = await browser.get("/g/alpha/api/v1/albums")
    assert page.code == 503 and "unreadable" in json.loads(page.body)["error"]["message"]
    assert await without_taken(ctx) == 20


async def test_a_garbled_claim_document_shows_as_starting_and_is_taken_over(app, make_gallery):
    g = await old_gallery(make_gallery, count=20)
    ctx = g["ctx"]
    garbled = {"owner": "elsewhere:1:abc", "lease_until": time.time() + 600, "step": "two", "done": "lots",
               "total": [1], "step_started": "x", "step_done0": {"n": 1}, "target": "z", "failed": "yes"}
    await ctx.db.meta.insert_one({"_id": runner.CLAIM_ID, **garbled})
    app.services.registry.forget("alpha")
    browser = app.browser()
    page = await browser.get("/g/alpha/")
    assert page.code == 503 and "Alpha Gallery is being upgraded" in text(page) and "Starting" in text(page)
    progress = json.loads((await browser.get("/g/alpha/_upgrade")).body)
    assert progress == {"state": "upgrading", "step": 0, "steps": len(runner.TENANT_STEPS), "done": 0, "total": None,
                        "percent": None, "seconds_left": None}
    host = await console(app)
    assert (await host.get("/_host/tenants/alpha")).code == 200

    # A lease that is not a time would never run out: the next request takes the claim.
    await ctx.db.meta.update_one({"_id": runner.CLAIM_ID}, {"$set": {"lease_until": "soon"}})
    assert (await browser.get("/g/alpha/")).code == 200
    assert await without_taken(ctx) == 0 and await runner.stored_version(ctx.db) == schema.SCHEMA_VERSION
