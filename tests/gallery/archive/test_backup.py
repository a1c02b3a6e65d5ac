"""Backup and restore (issue 14): a real gallery exported to a ZIP64 archive, validated
against the newest format, restored as a new tenant with its ids, and the same gallery back."""

from __future__ import annotations

import asyncio
import hashlib
import zipfile

import pytest
from lxml import etree

from gallery.archive import formats
from gallery.archive.export import export_to_file
from gallery.archive.progress import Progress
from gallery.archive.restore import RestoreError, prepare
from gallery.intake.ingest import job_queue
from gallery.library.albums import album_document
from gallery.library.keywords import search_keys
from tenants.restore import clean_leftovers, restore_new
from tests.gallery.intake.test_ingest import ingest_bytes, jpeg_bytes


async def make_source(make_gallery, slug="alpha"):
    """A gallery with a sub-album, a private album, tagged media, a cover and an SMTP secret."""
    from gallery.settings import update_settings

    gallery = await make_gallery(slug)
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    admin = await ctx.db.users.find_one({"username": "admin"})
    trips = album_document("Trips", root, dirname="Trips")
    await ctx.db.albums.insert_one(trips)
    deep = album_document("Coast", trips, dirname="Coast")
    deep["private"] = True
    await ctx.db.albums.insert_one(deep)
    one = await ingest_bytes(ctx, trips, admin, jpeg_bytes((10, 200, 30)), "beach.jpg",
                             title="Beach", tags="sea, sun")
    two = await ingest_bytes(ctx, deep, admin, jpeg_bytes((200, 10, 30), (40, 30)), "rock.jpg",
                             title="Rock")
    await ctx.db.media.update_one({"_id": one["_id"]}, {"$set": {"caption": "At noon <b>&</b> \u00e9t\u00e9"}})
    await ctx.db.albums.update_one({"_id": trips["_id"]}, {"$set": {"cover_id": two["_id"]}})
    await update_settings(ctx, {"smtp_password": "hunter2-secret", "gallery_title": "Alpha Gallery"})
    return ctx, {"trips": trips, "deep": deep, "one": one, "two": two}


async def test_a_gallery_restores_as_a_new_one_with_ids_fields_and_bytes(app, make_gallery, tmp_path):
    ctx, made = await make_source(make_gallery)
    out = tmp_path / "alpha.zip"
    progress = Progress()
    report = await export_to_file(ctx, out, progress=progress)
    assert report.media == 2 and report.files == 2 and report.left_out == []
    assert report.omitted_settings == ["smtp_password"]
    assert progress.files == 2 and progress.bytes == progress.total_bytes > 0
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        xml = zf.read("backup.xml")
    assert names[-1] == "backup.xml" and made["one"]["original"]["path"] in names
    assert "noon" in search_keys({**made["one"], "caption": "At noon"})
    assert b"hunter2" not in out.read_bytes() and b"smtp_password" in xml  # named as omitted only
    # The exporter writes the newest format: the document validates against it (CI gate half).
    tree = etree.fromstring(xml).getroottree()
    assert formats.declared_version(tree) == formats.newest()
    assert formats.validation_errors(tree, formats.newest()) == []
    from gallery.schema import schema_version
    assert tree.getroot().get("database-schema") == str(await schema_version(ctx.db))

    services = app.services
    result = await restore_new(services.registry, job_queue(services), out, "beta", title="Beta")
    assert result["media"] == 2 and result["processing_jobs"] == 1
    assert result["not_restored"] and "smtp_password" in result["not_restored"][0]
    record = await services.registry.get_record("beta")
    assert record["status"] == "active" and "restoring" not in record
    new = await services.registry.context_for_slug("beta")
    for name in ("albums", "users", "roles"):
        old_docs = {d["_id"]: d for d in await ctx.db[name].find({}).to_list()}
        new_docs = {d["_id"]: d for d in await new.db[name].find({}).to_list()}
        assert old_docs.keys() == new_docs.keys(), name
        for key, doc in old_docs.items():
            for field, value in doc.items():
                if name == "albums" and field == "title" and doc["parent_id"] is None:
                    continue
                assert new_docs[key].get(field) == value, (name, field)
    old_media = {d["_id"]: d for d in await ctx.db.media.find({}).to_list()}
    new_media = {d["_id"]: d for d in await new.db.media.find({}).to_list()}
    assert old_media.keys() == new_media.keys()
    for key, doc in old_media.items():
        for field in ("title", "caption", "tags", "tag_keys", "album_id", "album_path", "private",
                      "original", "file_name", "mime", "width", "height", "date_added"):
            assert new_media[key].get(field) == doc.get(field), field
        assert new_media[key]["search_keys"] == search_keys(new_media[key])  # recomputed
        assert new_media[key]["state"] == "pending"
        data = new.storage.resolve(doc["original"]["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == doc["original"]["sha256"]
    assert (await new.db.meta.find_one({"_id": "usage"}))["bytes"] == sum(
        m["original"]["size"] for m in old_media.values())
    # Tag counts: the media counted as restore inserted them, the same as the source's and as
    # counting them again from the restored media.
    from gallery.library.tagcounts import rebuild_tag_counts

    restored = sorted(await new.db.tag_counts.find({}).to_list(), key=lambda d: d["_id"])
    assert restored and restored == sorted(await ctx.db.tag_counts.find({}).to_list(), key=lambda d: d["_id"])
    await rebuild_tag_counts(new)
    assert sorted(await new.db.tag_counts.find({}).to_list(), key=lambda d: d["_id"]) == restored
    settings = await new.db.settings.find_one({"_id": "gallery"})
    assert "smtp_password" not in settings["values"]
    jobs = await services.host_db.jobs.find({"tenant": "beta"}).to_list()
    assert [j["kind"] for j in jobs] == ["media.regenerate"] and not jobs[0].get("held")
    assert jobs[0]["payload"] == {}  # the whole gallery


async def test_a_file_that_vanished_is_left_out_and_reported_and_the_archive_still_restores(
        app, make_gallery, tmp_path):
    ctx, made = await make_source(make_gallery)
    ctx.storage.resolve(made["two"]["original"]["path"]).unlink()  # the cover of Trips
    out = tmp_path / "a.zip"
    report = await export_to_file(ctx, out)
    assert [x["media_id"] for x in report.left_out] == [made["two"]["_id"]]
    assert "vanished" in report.left_out[0]["reason"]
    prepared = await asyncio.to_thread(prepare, out)
    assert [m["_id"] for m in prepared.snapshot.media] == [made["one"]["_id"]]
    trips = next(a for a in prepared.snapshot.albums if a["_id"] == made["trips"]["_id"])
    assert trips["cover_id"] is None  # no dangling cover


async def test_metadata_only_holds_no_files(app, make_gallery, tmp_path):
    ctx, _made = await make_source(make_gallery)
    out = tmp_path / "meta.zip"
    await export_to_file(ctx, out, metadata_only=True)
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["backup.xml"]
    prepared = await asyncio.to_thread(prepare, out)
    assert prepared.metadata_only and len(prepared.snapshot.media) == 2


async def test_two_restores_of_one_slug_at_once_exactly_one_wins(app, make_gallery, tmp_path):
    ctx, _ = await make_source(make_gallery)
    out = tmp_path / "a.zip"
    await export_to_file(ctx, out)
    services = app.services
    queue = job_queue(services)
    results = await asyncio.gather(
        *(restore_new(services.registry, queue, out, "twin") for _ in range(2)), return_exceptions=True)
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, RestoreError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "already exists" in str(losses[0])
    new = await services.registry.context_for_slug("twin")
    assert await new.db.media.count_documents({}) == 2


async def test_a_killed_restore_leaves_a_staging_tenant_that_start_up_removes(app, make_gallery, tmp_path, caplog):
    """A restore whose process died before the switch: its record is still provisioning and
    marked; the start-up clean-up removes record, database and storage, and logs it."""
    from storage import instance

    services = app.services
    registry = services.registry
    # What a killed restore leaves: the marked record, a filled database and storage root.
    await registry.host_db.tenants.insert_one({
        "_id": "halfway", "title": "H", "hostnames": [], "status": "provisioning",
        "restoring": {"by": f"{instance.host()}~999999~1~dead", "started": None}})
    registry.storage("halfway").create()
    await registry.tenant_db("halfway").albums.insert_one({"_id": "x"})
    # A live restore (this process) is left alone.
    await registry.host_db.tenants.insert_one({
        "_id": "running", "title": "R", "hostnames": [], "status": "provisioning",
        "restoring": {"by": instance.current(), "started": None}})
    with caplog.at_level("WARNING", logger="atrium.tenants"):
        removed = await clean_leftovers(registry)
    assert removed == ["halfway"]
    assert "interrupted restore of tenant halfway" in caplog.text
    assert await registry.host_db.tenants.find_one({"_id": "halfway"}) is None
    assert not registry.storage("halfway").exists()
    assert registry.database_name("halfway") not in await services.client.list_database_names()
    assert await registry.host_db.tenants.find_one({"_id": "running"}) is not None


async def test_quota_of_the_target_is_checked_before_anything_is_written(app, make_gallery, tmp_path):
    ctx, _ = await make_source(make_gallery)
    out = tmp_path / "a.zip"
    await export_to_file(ctx, out)
    services = app.services
    with pytest.raises(RestoreError, match="quota"):
        await restore_new(services.registry, job_queue(services), out, "small", quota_bytes=10)
    assert await services.host_db.tenants.find_one({"_id": "small"}) is None
    assert not services.registry.storage("small").exists()


async def test_a_cancelled_backup_leaves_no_archive(app, make_gallery, tmp_path):
    from gallery.archive.progress import Cancelled

    ctx, _ = await make_source(make_gallery)
    out = tmp_path / "out" / "cancelled.zip"
    out.parent.mkdir()
    progress = Progress()
    progress.cancel.set()  # as the job does when its cancel is requested
    with pytest.raises(Cancelled):
        await export_to_file(ctx, out, progress=progress)
    assert list(out.parent.iterdir()) == []  # neither the archive nor its .partial


async def test_a_file_changed_during_the_backup_is_left_out_and_the_rest_restores(app, make_gallery, tmp_path):
    """Written to while it runs: the snapshot is taken, then one original is overwritten with
    other bytes of the same size (the record no longer describes it) before the files are
    streamed. It is left out and reported; its bytes may sit in the archive, unlisted, and
    restore ignores them; the rest restores."""
    from gallery.archive.export import take_snapshot, write_archive

    ctx, made = await make_source(make_gallery)
    snap = await take_snapshot(ctx)
    path = ctx.storage.resolve(made["one"]["original"]["path"])
    path.write_bytes(bytes(len(path.read_bytes())))  # same size, other content
    out = tmp_path / "a.zip"

    def write():
        with open(out, "wb") as fh:
            return write_archive(snap, ctx.storage, fh)

    report = await asyncio.to_thread(write)
    assert [x["media_id"] for x in report.left_out] == [made["one"]["_id"]]
    assert "sha256 differs" in report.left_out[0]["reason"]
    services = app.services
    result = await restore_new(services.registry, job_queue(services), out, "after")
    assert result["media"] == 1
    new = await services.registry.context_for_slug("after")
    assert [m["_id"] for m in await new.db.media.find({}).to_list()] == [made["two"]["_id"]]
    assert not new.storage.resolve(made["one"]["original"]["path"]).exists()
