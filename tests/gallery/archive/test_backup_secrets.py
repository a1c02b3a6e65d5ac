"""A backup's secrets (issue 14): the SMTP password and the sync key travel encrypted under a
passphrase the admin gives, never in the clear, and are sealed again under the target
gallery's own key on restore; a wrong passphrase or an altered secret stops the restore before
anything is written; without a passphrase they are left out and the restore says so."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from lxml import etree

from gallery.archive import formats
from gallery.archive.export import export_to_file
from gallery.archive.restore import RestoreError
from gallery.intake.ingest import job_queue
from gallery.intake.sync_keys import check_key, create_key
from keys.sealed import decrypt_secret
from tenants.restore import restore_new
from tests.client import text
from tests.gallery.archive.test_backup import make_source
from tests.gallery.archive.test_backup_hostile import rebuild

PASSPHRASE = "correct horse battery staple"
_MADE: dict = {}


@pytest.fixture
async def sealed(app, make_gallery, tmp_path_factory):
    """A real gallery with an SMTP password and a sync key, backed up under PASSPHRASE."""
    ctx, _made = await make_source(make_gallery)
    admin = await ctx.db.users.find_one({"username": "admin"})
    key = await create_key(ctx, admin)
    path = tmp_path_factory.mktemp("sealed") / "alpha.zip"
    report = await export_to_file(ctx, path, passphrase=PASSPHRASE)
    return {"ctx": ctx, "path": path, "key": key, "report": report}


def _nothing_restored(app, slug: str):
    registry = app.services.registry
    return registry.host_db.tenants.find_one({"_id": slug})


async def test_secrets_travel_sealed_and_are_resealed_under_the_target_key(app, sealed):
    ctx, path = sealed["ctx"], sealed["path"]
    assert sealed["report"].omitted_settings == []
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("backup.xml")
    stored = (await ctx.db.settings.find_one({"_id": "gallery"}))["values"]["smtp_password"]
    sync_hash = (await ctx.db.meta.find_one({"_id": "sync_key"}))["hash"]
    for clear in (b"hunter2-secret", stored.encode(), sync_hash.encode()):
        assert clear not in raw and clear not in xml  # neither clear nor host-sealed
    tree = etree.fromstring(xml).getroottree()
    assert formats.validation_errors(tree, formats.newest()) == []
    keys = [el.get("key") for el in tree.iter("{urn:atrium:backup}secret")]
    assert keys == ["smtp_password", "sync_key"] and b"<omitted" not in xml

    services = app.services
    report = await restore_new(services.registry, job_queue(services), path, "beta", passphrase=PASSPHRASE)
    assert report["not_restored"] == []
    new = await services.registry.context_for_slug("beta")
    value = (await new.db.settings.find_one({"_id": "gallery"}))["values"]["smtp_password"]
    assert value != stored and decrypt_secret(new, value) == "hunter2-secret"
    assert decrypt_secret(ctx, value) == ""  # sealed under the new gallery's key, not the old
    await check_key(new, sealed["key"])  # the same sync key starts a sync on the new gallery


async def test_a_wrong_passphrase_or_an_altered_secret_restores_nothing(app, sealed, tmp_path):
    services, path = app.services, sealed["path"]
    before = path.read_bytes()
    with pytest.raises(RestoreError, match="the passphrase is wrong"):
        await restore_new(services.registry, job_queue(services), path, "wrong", passphrase="not the one at all")
    assert await _nothing_restored(app, "wrong") is None
    assert services.registry.database_name("wrong") not in await services.client.list_database_names()

    def flip(xml: str) -> str:  # one base64 character of the SMTP password's box changed
        def change(m):
            body = m.group(2)
            i = len(body) // 2
            return m.group(1) + body[:i] + ("A" if body[i] != "A" else "B") + body[i + 1:] + m.group(3)
        return re.sub(r'(<secret key="smtp_password">)([^<]+)(</secret>)', change, xml)

    tampered = tmp_path / "tampered.zip"
    rebuild(path, tampered, xml=flip)
    with pytest.raises(RestoreError, match="'smtp_password' was altered"):
        await restore_new(services.registry, job_queue(services), tampered, "tampered", passphrase=PASSPHRASE)
    assert await _nothing_restored(app, "tampered") is None

    costly = tmp_path / "costly.zip"  # scrypt costs that would take gigabytes: refused unread
    rebuild(path, costly, xml=lambda x: re.sub(r' n="\d+"', ' n="1073741824"', x, count=1))
    with pytest.raises(RestoreError) as refused:
        await restore_new(services.registry, job_queue(services), costly, "costly", passphrase=PASSPHRASE)
    assert "not a valid format 4 backup" in str(refused.value) and "65536" in refused.value.full_text()
    assert await _nothing_restored(app, "costly") is None
    assert path.read_bytes() == before  # the source is untouched


async def test_without_a_passphrase_secrets_are_left_out_and_named(app, sealed, tmp_path):
    services = app.services
    report = await restore_new(services.registry, job_queue(services), sealed["path"], "nopass")
    assert report["not_restored"] == [
        "setting smtp_password: in the backup under a passphrase, which was not given; set it again",
        "the sync key: in the backup under a passphrase, which was not given; make a new one"]
    new = await services.registry.context_for_slug("nopass")
    assert "smtp_password" not in (await new.db.settings.find_one({"_id": "gallery"}))["values"]
    assert await new.db.meta.find_one({"_id": "sync_key"}) is None

    plain = tmp_path / "plain.zip"  # a backup made without one names them as left out
    report = await export_to_file(sealed["ctx"], plain)
    assert report.omitted_settings == ["smtp_password", "sync_key"]
    with zipfile.ZipFile(plain) as zf:
        assert b"<secrets" not in zf.read("backup.xml")


async def test_the_admin_page_seals_the_secrets_before_the_job_is_queued(app, sealed):
    client = app.browser()
    await client.login("/g/alpha", "admin", "Correct-Horse-Battery-9")
    short = await client.post_form("/g/alpha/admin/backup", {"passphrase": "short"})
    assert short.code == 400 and "No backup started" in text(short)
    response = await client.post_form("/g/alpha/admin/backup", {"passphrase": PASSPHRASE})
    assert response.code == 303
    jobs = await app.services.host_db.jobs.find({"tenant": "alpha", "kind": "gallery.backup"}).to_list()
    assert len(jobs) == 1
    stored = json.dumps(jobs[0], default=str)
    assert PASSPHRASE not in stored and "hunter2" not in stored
    assert set(jobs[0]["payload"]["secrets"]["items"]) == {"smtp_password", "sync_key"}


async def test_the_streamed_download_carries_the_secrets_sealed(app, sealed, tmp_path):
    from gallery.archive.restore import prepare, unlock

    client = app.browser()
    await client.login("/g/alpha", "admin", "Correct-Horse-Battery-9")
    short = await client.post_form("/g/alpha/admin/backup/stream", {"passphrase": "short"})
    assert short.code == 400 and "No backup made" in text(short)
    response = await client.post_form("/g/alpha/admin/backup/stream", {"passphrase": PASSPHRASE})
    assert response.code == 200 and response.headers["Content-Type"] == "application/zip"
    assert re.match(r'attachment; filename="alpha-\d{8}-\d{6}\.zip"', response.headers["Content-Disposition"])
    out = tmp_path / "streamed.zip"
    out.write_bytes(response.body)
    assert b"hunter2" not in response.body
    prepared = prepare(out)
    unlock(prepared, PASSPHRASE)
    assert prepared.snapshot.clear_secrets["smtp_password"] == "hunter2-secret"
    assert len(prepared.snapshot.media) == 2
    assert not list((app.services.config.data_dir / "backups").glob("**/*"))  # nothing kept


async def test_the_admin_restores_into_an_empty_gallery_with_the_passphrase(app, make_gallery, sealed):
    empty = await make_gallery("empty", title="Empty")
    client = app.browser()
    await client.login(empty["prefix"], "admin", empty["password"])
    body = sealed["path"].read_bytes()

    async def post(passphrase: str):
        await client.get("/g/empty/admin/backup")
        return await client.request(
            "POST", "/g/empty/admin/backup/restore?confirm=1", body=body,
            headers={"X-XSRFToken": client.xsrf("/g/empty/admin/backup"), "Accept": "application/json",
                     "X-Backup-Passphrase": passphrase})

    wrong = await post("not the passphrase")
    assert wrong.code == 400 and "the passphrase is wrong" in json.loads(wrong.body)["error"]["message"]
    record = await app.services.registry.get_record("empty")
    assert record["status"] == "active" and "store" not in record  # nothing changed
    right = await post(PASSPHRASE)
    assert right.code == 200 and json.loads(right.body)["restored"]["not_restored"] == []
    ctx = await app.services.registry.context_for_slug("empty")
    value = (await ctx.db.settings.find_one({"_id": "gallery"}))["values"]["smtp_password"]
    assert decrypt_secret(ctx, value) == "hunter2-secret"
