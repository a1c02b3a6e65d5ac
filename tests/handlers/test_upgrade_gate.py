"""The gate in front of a gallery that is not at this release's schema (tenants/upgrade.py):
migrated on first touch, 503 with Retry-After and progress while another process migrates
it, 503 with the reason when its migration failed or its database is newer, and the host
console showing each gallery's schema version."""

from __future__ import annotations

import asyncio
import json
import logging
import signal

from gallery import schema
from gallery.migrations import runner
from tenants.host_admins import create_admin
from tests.client import text
from tests.gallery.migrations.test_migrations import failing_after, migrate_process, old_gallery, without_taken

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
    assert page.code == 503 and page.headers["Retry-After"] == "5" and page.headers["Refresh"] == "5"
    assert "being upgraded" in text(page) and "1,000 of 2,200 documents" in text(page)
    api = await browser.get("/g/alpha/api/v1/albums")
    assert api.code == 503 and json.loads(api.body)["error"]["code"] == "upgrading"
    host = await console(app)
    assert "upgrading" in text(await host.get("/_host/tenants/alpha"))

    # Its process dies: the next request takes the dead holder's claim and finishes.
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while (page := await browser.get("/g/alpha/")).code != 200:
        assert page.code == 503 and loop.time() < deadline, text(page)
        await asyncio.sleep(0.2)
    assert await without_taken(g["ctx"]) == 0
    assert (await runner.claim_state(g["ctx"].db))["done"] == 2200


async def test_a_failed_migration_is_503_with_its_reason_and_the_version_kept(app, make_gallery):
    g = await old_gallery(make_gallery, count=1200)
    ctx = g["ctx"]
    try:
        await runner.migrate(ctx, steps=failing_after(1))
    except runner.MigrationFailed:
        pass
    app.services.registry.forget("alpha")
    browser = app.browser()
    for _ in range(2):
        page = await browser.get("/g/alpha/")
        assert page.code == 503 and page.headers["Retry-After"] == "60"
        assert "failed at step 2" in text(page) and "disk full" in text(page)
    assert await runner.stored_version(ctx.db) == 1
    host = await console(app)
    assert "failed" in text(await host.get("/_host/"))


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
