"""Restoring a backup into an existing EMPTY gallery by its own admin (issue 14): through HTTP,
the backup's accounts take over; refused (nothing changed) when the gallery is not empty, when
the archive is bad, and for the second of two restores at once."""

from __future__ import annotations

import asyncio
import json

import pytest

from gallery.archive.export import export_to_file
from gallery.archive.restore import RestoreError
from gallery.intake.ingest import job_queue
from tenants.restore_into import restore_into, staging_root
from tests.client import text
from tests.gallery.archive.test_backup import make_source


@pytest.fixture
async def archive(make_gallery, tmp_path):
    ctx, made = await make_source(make_gallery)
    out = tmp_path / "alpha.zip"
    await export_to_file(ctx, out)
    return out, made


async def _post_archive(client, prefix: str, body: bytes, confirm: str = "1"):
    await client.get(f"{prefix}/admin/backup")
    return await client.request(
        "POST", f"{prefix}/admin/backup/restore?confirm={confirm}", body=body,
        headers={"X-XSRFToken": client.xsrf(f"{prefix}/admin/backup"), "Accept": "application/json",
                 "Content-Type": "application/zip"})


def _leftovers(registry, slug: str) -> list:
    staging = registry.tenants_dir / ".staging"
    return sorted(p.name for p in staging.iterdir()) if staging.exists() else []


async def test_the_admin_of_an_empty_gallery_restores_a_backup_into_it(app, make_gallery, archive):
    path, made = archive
    empty = await make_gallery("empty", title="Empty")
    registry = app.services.registry
    old_db = registry.database_name("empty")
    old_admin = await empty["ctx"].db.users.find_one({"username": "admin"})
    client = app.browser()
    await client.login(empty["prefix"], "admin", empty["password"])
    page = text(await client.get("/g/empty/admin/backup"))
    assert "Restore into this gallery" in page and "replaced" in page

    response = await _post_archive(client, "/g/empty", path.read_bytes())
    assert response.code == 200, text(response)
    report = json.loads(response.body)
    assert report["restored"]["media"] == 2 and report["next"] == "/g/empty/login"

    record = await registry.get_record("empty")
    assert record["status"] == "active" and "restoring" not in record and record["store"]
    assert old_db not in await app.services.client.list_database_names()  # the old gallery went
    assert _leftovers(registry, "empty") == []
    ctx = await registry.context_for_slug("empty")
    assert await ctx.db.media.count_documents({}) == 2
    from gallery.notices.mail import _host_queue  # mail queued from the renamed database
    assert _host_queue(ctx).jobs.database.name == registry.host_db.name
    assert (ctx.storage.originals / "Trips" / "beach.jpg").exists()
    assert not list(ctx.storage.tmp.iterdir())  # the uploaded archive went with the old root
    # The backup's accounts took over: the restoring admin's session and account are gone.
    assert await ctx.db.users.find_one({"_id": old_admin["_id"]}) is None
    assert (await client.get("/g/empty/admin/backup")).code in (302, 303)
    again = app.browser()
    assert (await again.login("/g/empty", "admin", empty["password"])).code in (302, 303)
    media = text(await again.get(f"/g/empty/media/{made['one']['_id']}"))
    assert "Beach" in media and "At noon" in media  # the same ids, so the same links
    jobs = await app.services.host_db.jobs.find({"tenant": "empty"}).to_list()
    assert [j["kind"] for j in jobs] == ["media.regenerate"] and not jobs[0].get("held")
    # Now it is not empty: a second restore is refused before a byte is read.
    refused = await _post_archive(again, "/g/empty", path.read_bytes())
    assert refused.code == 409 and "not empty" in text(refused)


async def test_refused_when_not_empty_or_unconfirmed_or_bad_and_nothing_changes(app, make_gallery, archive):
    path, _made = archive
    registry = app.services.registry
    client = app.browser()
    await client.login("/g/alpha", "admin", "Correct-Horse-Battery-9")
    page = text(await client.get("/g/alpha/admin/backup"))
    assert "This gallery is not empty" in page and 'type="file"' not in page
    response = await _post_archive(client, "/g/alpha", path.read_bytes())
    assert response.code == 409 and "not empty" in json.loads(response.body)["error"]["message"]

    empty = await make_gallery("empty", title="Empty")
    admin = app.browser()
    await admin.login(empty["prefix"], "admin", empty["password"])
    unconfirmed = await _post_archive(admin, "/g/empty", path.read_bytes(), confirm="")
    assert unconfirmed.code == 400 and "Confirm" in text(unconfirmed)
    hostile = [
        b"PK\x03\x04 this is not an archive at all",
        path.read_bytes()[: len(path.read_bytes()) // 2],  # truncated
    ]
    for body in hostile:
        response = await _post_archive(admin, "/g/empty", body)
        assert response.code == 400, text(response)
        error = json.loads(response.body)["error"]
        assert error["message"].startswith("Nothing restored:")
    record = await registry.get_record("empty")
    assert record["status"] == "active" and "store" not in record and "restoring" not in record
    ctx = await registry.context_for_slug("empty")
    assert await ctx.db.users.count_documents({}) == 1 and not list(ctx.storage.tmp.iterdir())
    assert _leftovers(registry, "empty") == []
    assert (await admin.get("/g/empty/admin/backup")).code == 200  # still signed in, unchanged


async def test_of_two_restores_at_once_exactly_one_wins(app, make_gallery, archive):
    path, _made = archive
    await make_gallery("empty", title="Empty")
    registry, queue = app.services.registry, job_queue(app.services)
    results = await asyncio.gather(restore_into(registry, queue, path, "empty"),
                                   restore_into(registry, queue, path, "empty"), return_exceptions=True)
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, RestoreError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "already running" in str(losses[0]) or "not empty" in str(losses[0])
    ctx = await registry.context_for_slug("empty")
    assert await ctx.db.media.count_documents({}) == 2 and ctx.status == "active"
    assert not staging_root(registry, "empty", "x").parent.exists() or _leftovers(registry, "empty") == []
