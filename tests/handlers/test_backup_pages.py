"""The "Backup and restore" admin page and the host console's backups (issue 14): a backup job
with progress, its download (the same archive, streamed), cancel, and a restore into a new
gallery from the console, all through HTTP against the real service and job workers."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile

import pytest

from gallery.archive.jobs import KIND
from tests.client import text
from tests.gallery.archive.test_backup import make_source
from tests.handlers.test_host_console import _signed_in


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def wait_job(app, job_id, states=("done", "failed", "cancelled"), timeout=60):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = await app.services.host_db.jobs.find_one({"_id": job_id})
        if job["state"] in states:
            return job
        assert loop.time() < deadline, job
        await asyncio.sleep(0.1)


async def test_admin_backs_up_downloads_and_the_host_restores_it(app, make_gallery):
    ctx, made = await make_source(make_gallery)
    admin = app.browser()
    await admin.login("/g/alpha", "admin", "Correct-Horse-Battery-9")
    page = await admin.get("/g/alpha/admin/backup")
    assert page.code == 200 and "Backup and restore" in text(page) and "No backups yet" in text(page)
    # With a passphrase: the job writes the secrets the request sealed under it.
    started = await admin.post_form("/g/alpha/admin/backup", {"passphrase": "job passphrase 42"})
    assert started.code == 303
    job = await app.services.host_db.jobs.find_one({"tenant": "alpha", "kind": KIND})
    job = await wait_job(app, job["_id"])
    assert job["state"] == "done", job
    assert job["result"]["media"] == 2 and job["result"]["files"] == 2
    assert re.match(r"2 of 2 files, [\d.]+ of [\d.]+ MB", job["message"])
    listed = text(await admin.get("/g/alpha/admin/backup"))
    link = f"/g/alpha/admin/backup/{job['_id']}/download"
    assert link in listed
    download = await admin.get(link)
    assert download.code == 200 and download.headers["Content-Type"] == "application/zip"
    assert "attachment" in download.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(download.body)) as zf:
        assert zf.read(made["one"]["original"]["path"]) == ctx.storage.resolve(made["one"]["original"]["path"]).read_bytes()
        assert b"Beach" in zf.read("backup.xml")
    # Not for visitors, nor for another gallery's job ids.
    assert (await app.browser().get(link, follow=False)).code in (302, 403)
    assert (await admin.get("/g/alpha/admin/backup/" + "0" * 24 + "/download")).code == 404

    host, _ = await _signed_in(app)
    backups = text(await host.get("/_host/backups"))
    key = f"alpha/{job['_id']}.zip"
    assert key in backups
    refused = await host.post_form("/_host/backups/restore", {"archive": "../../etc/passwd", "slug": "x1"})
    assert refused.code == 400 and "Choose one of the backups listed" in text(refused)
    clash = await host.post_form("/_host/backups/restore", {"archive": key, "slug": "alpha"})
    assert clash.code == 400 and "Nothing restored" in text(clash) and "already exists" in text(clash)
    wrong = await host.post_form("/_host/backups/restore", {"archive": key, "slug": "copy",
                                                            "passphrase": "not the passphrase"})
    assert wrong.code == 400 and "the passphrase is wrong" in text(wrong)
    assert await app.services.host_db.tenants.find_one({"_id": "copy"}) is None
    restored = await host.post_form("/_host/backups/restore", {"archive": key, "slug": "copy", "title": "Copy",
                                                               "passphrase": "job passphrase 42"}, follow=False)
    assert restored.code == 303 and restored.headers["Location"] == "/_host/tenants/copy"
    from keys.sealed import decrypt_secret

    copy = await app.services.registry.context_for_slug("copy")
    sealed = (await copy.db.settings.find_one({"_id": "gallery"}))["values"]["smtp_password"]
    assert decrypt_secret(copy, sealed) == "hunter2-secret"
    visitor = app.browser()
    await visitor.login("/g/copy", "admin", "Correct-Horse-Battery-9")
    album = text(await visitor.get(f"/g/copy/albums/{made['trips']['_id']}"))
    assert "Trips" in album and "Beach" in album


async def test_a_backup_job_can_be_cancelled_and_leaves_no_archive(app, make_gallery):
    from gallery.archive.jobs import backups_dir
    from gallery.intake.ingest import job_queue

    await make_source(make_gallery)
    queue = job_queue(app.services)
    # Cancelled before a worker takes it: the worker marks it cancelled without running it.
    job_id = await queue.enqueue("alpha", KIND, {"requested_by": "host"}, delay=0.5)
    await queue.cancel("alpha", job_id)
    job = await wait_job(app, job_id)
    assert job["state"] == "cancelled"
    folder = backups_dir(app.services.config, "alpha")
    assert not folder.exists() or not any(folder.iterdir())


async def test_the_host_starts_a_backup_from_the_tenant_page(app, make_gallery):
    await make_source(make_gallery)
    host, _ = await _signed_in(app)
    page = text(await host.get("/_host/tenants/alpha"))
    assert "/_host/tenants/alpha/backup" in page
    started = await host.post_form("/_host/tenants/alpha/backup", {}, follow=False)
    assert started.code == 303 and started.headers["Location"] == "/_host/backups"
    job = await app.services.host_db.jobs.find_one({"tenant": "alpha", "kind": KIND})
    assert (await wait_job(app, job["_id"]))["state"] == "done"
    assert f"alpha/{job['_id']}.zip" in text(await host.get("/_host/backups"))
