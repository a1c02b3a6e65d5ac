"""Importing a GSP 4.5 backup into a real, empty gallery (embedded database, real files,
libmagic): what goes in comes out through the database, the API and the pages; a non-empty
gallery is refused; a failure before the switch leaves the gallery as it was."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from gallery.gspimport.errors import GalleryNotEmpty, GspRefused, ImportRunning
from gallery.gspimport.importer import import_backup, preview
from gallery.intake.ingest import job_queue
from gallery.library.albums import album_document
from gallery.notices.mail import job_urls
from tests.gallery.gspimport import sample


@pytest.fixture
def backup(tmp_path, make_jpeg):
    xml = sample.write(tmp_path / "GalleryServerBackup_2024-03-01_100000.xml", sample.gallery_45())
    folder = sample.media_folder(tmp_path / "mediaobjects", make_jpeg)
    return xml, folder


async def run_import(app, ctx, xml, media, gallery_id=1):
    services = app.services
    return await import_backup(ctx, services.registry, xml, media, gallery_id,
                               queue=job_queue(services), urls=job_urls(ctx, services.config))


async def test_a_gsp_gallery_comes_out_whole_through_the_database_api_and_pages(app, make_gallery, backup, tmp_path):
    xml, folder = backup
    gallery = await make_gallery("fam")
    ctx = gallery["ctx"]
    # The media folder zipped the way people zip it: with its own name on top.
    media_zip = tmp_path / "media.zip"
    with zipfile.ZipFile(media_zip, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, "mediaobjects/" + path.relative_to(folder).as_posix())
    pv = await preview(ctx, xml, media_zip)
    assert pv["needs_gallery_choice"] and [g["id"] for g in pv["galleries"]] == [1, 2]  # template left out
    pv = await preview(ctx, xml, media_zip, 1)
    assert pv["generation"] == "4.x" and pv["counts"]["albums"] == 4 and pv["counts"]["media"] == 6
    assert pv["media_files"] == {"found": 4, "missing": 1, "generated_skipped": 2, "refused": 0}
    assert await ctx.db.albums.count_documents({}) == 1  # the preview wrote nothing

    report = await run_import(app, ctx, xml, media_zip)
    assert report["counts"]["albums"]["imported"] == 4
    assert report["counts"]["media"] == {"imported": 6, "skipped": 1, "failed": 0}
    assert report["counts"]["files"] == {"imported": 4, "skipped": 1, "failed": 0}
    reasons = {(i["kind"], i["id"]): i["reason"] for i in report["items"]}
    assert "unsafe embed" in reasons[("media", "15")] and "evil.example" in reasons[("media", "15")]
    assert reasons[("files", "13")] == "not in the media folder"
    assert reasons[("settings", "ShowHeader")] == "no Atrium equivalent"
    assert [link["username"] for link in report["password_links"]] == ["bob"]  # the one without e-mail
    json.dumps(report)  # the report is JSON as it is

    db = ctx.db
    record = await app.services.registry.get_record("fam")
    assert record["status"] == "active" and "gsp_import" not in record
    root = await db.albums.find_one({"parent_id": None})
    assert (root["title"], root["summary"]) == ("Family album", "All of us")
    trips = await db.albums.find_one({"parent_id": root["_id"]})
    assert trips["title"] == "Trips \u2708" and trips["summary"] == "<b>Summer</b> trips"
    ete = await db.albums.find_one({"parent_id": trips["_id"]})
    assert ete["dirname"] == "\u00c9t\u00e9 2023" and ete["dirpath"] == "Trips/\u00c9t\u00e9 2023"
    private = await db.albums.find_one({"title": "Private"})
    assert private["private"] is True
    beach = await db.media.find_one({"gsp.id": 11})
    assert beach["title"] == "Beach at noon" and beach["caption"] == "We <i>swam</i> & ate"
    assert beach["tags"] == ["sea", "sun", "person:Ann Lee", "person:Bob"] and beach["rating"] == 4
    assert beach["people"] == ["Ann Lee", "Bob"] and beach["rating_avg"] == 4.0  # issue 18, item 12
    assert beach["gsp"]["metadata"]["CameraModel"] == "Canon EOS 5D"
    assert beach["gsp"]["metadata"]["Custom20"] == "custom twenty"
    assert trips["cover_id"] == beach["_id"]
    stored = ctx.storage.path / beach["original"]["path"]
    assert stored.read_bytes() == (folder / "Trips" / "beach.jpg").read_bytes()
    assert beach["kind"] == "image" and beach["mime"] == "image/jpeg"
    assert not list(ctx.storage.path.rglob("zThumb_*")) and not list(ctx.storage.path.glob(".gsp-*"))
    assert (await db.media.find_one({"gsp.id": 12}))["title"] == "Sea & sky"  # GSP's HTML title, as text
    gone = await db.media.find_one({"gsp.id": 13})
    assert gone["missing"] is True and gone["state"] == "failed" and "File missing" in gone["failure"]
    video = await db.media.find_one({"gsp.id": 14})
    assert video["kind"] == "external" and "https://www.youtube.com/embed/xyz" in video["embed_html"]
    assert await db.media.find_one({"gsp.id": 30}) is None  # gallery 2's

    roles = {r["name"]: r for r in await db.roles.find({}).to_list()}
    assert roles["Admins"]["permissions"] == ["administer_gallery"]
    assert roles["Admins"]["album_ids"] == [root["_id"]]
    assert roles["Editors"]["permissions"] == ["view", "view_original", "add_media", "edit_media",
                                               "hide_watermark"]
    assert roles["Editors"]["album_ids"] == [trips["_id"]]
    assert "Gallery Administrators (GSP)" in roles and "Workers" not in roles
    users = {u["username"]: u for u in await db.users.find({}).to_list()}
    assert users["ann"]["password_hash"] is None and users["ann"]["email"] == "ann@example.test"
    assert roles["Admins"]["_id"] in users["ann"]["role_ids"]
    assert users["bob"]["status"] == "pending_approval" and users["bob"]["album_id"] == private["_id"]
    assert private["user_album_of"] == users["bob"]["_id"]
    assert users["cyd"]["status"] == "disabled" and users["cyd"]["role_ids"] == []  # GSP roles only
    assert any("Authenticated Users" in note for note in report["notes"])
    assert not any("secret-in-gsp" in json.dumps(u, default=str) for u in users.values())
    outbox = await db.outbox.find({}).to_list()
    assert sorted(m["to"][0] for m in outbox) == ["ann@example.test", "cyd@example.test"]
    settings = (await db.settings.find_one({"_id": "gallery"}))["values"]
    assert settings["thumbnail_size"] == 200 and settings["allow_registration"] is True
    assert settings["slideshow_interval"] == 6
    event = await db.events.find_one({"kind": "gsp.import"})
    assert event["details"]["counts"]["media"]["imported"] == 6

    # Through the API and the pages, as the admin and as a visitor.
    browser = app.browser()
    await browser.login(gallery["prefix"], "admin", gallery["password"])
    top = json.loads((await browser.get(f"{gallery['prefix']}/api/v1/albums")).body)
    assert top["album"]["title"] == "Family album"
    assert [a["title"] for a in top["children"]] == ["Trips \u2708", "Private"]
    one = json.loads((await browser.get(f"{gallery['prefix']}/api/v1/media/{beach['_id']}")).body)["media"]
    assert one["title"] == "Beach at noon" and "person:Ann Lee" in one["tags"]
    page = (await browser.get(f"{gallery['prefix']}/albums/{trips['_id']}")).body.decode()
    assert "Trips \u2708" in page and "Beach at noon" in page
    visitor = app.browser()
    top = json.loads((await visitor.get(f"{gallery['prefix']}/api/v1/albums")).body)
    assert [a["title"] for a in top["children"]] == ["Trips \u2708"]
    # GSP's password never signs anyone in; the mailed link sets a new one that does.
    answer = await visitor.login(gallery["prefix"], "ann", "secret-in-gsp-ann")
    assert "Sign out" not in answer.body.decode()
    link = next(m for m in outbox if m["to"] == ["ann@example.test"])["vars"]["reset_url"]
    path = link[link.index(gallery["prefix"]):]
    fresh = "Quiet-Harbour-Lamp-42"
    await visitor.post_form(path, {"password": fresh, "password2": fresh})
    ann = app.browser()
    await ann.login(gallery["prefix"], "ann", fresh)
    me = json.loads((await ann.get(f"{gallery['prefix']}/api/v1/me")).body)["user"]
    assert me["username"] == "ann" and me["is_admin"] is True  # GSP's AllowAdministerSite


async def test_a_gallery_that_is_not_empty_is_refused_and_left_alone(app, make_gallery, backup):
    xml, folder = backup
    ctx = (await make_gallery("busy"))["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    await ctx.db.albums.insert_one(album_document("Mine", root, dirname="Mine"))
    with pytest.raises(GalleryNotEmpty):
        await preview(ctx, xml, folder, 1)
    with pytest.raises(GalleryNotEmpty):
        await run_import(app, ctx, xml, folder)
    assert await ctx.db.albums.count_documents({}) == 2 and await ctx.db.users.count_documents({}) == 1


async def test_a_failure_before_the_switch_leaves_the_gallery_as_it_was(app, make_gallery, backup):
    xml, folder = backup
    ctx = (await make_gallery("fails"))["ctx"]
    before = {name: await ctx.db[name].find({}).to_list() for name in ("albums", "roles", "users")}

    # A real failure of the last step before the commit: a stray file where the album's
    # directory must go makes moving the staged files into originals/ fail.
    (ctx.storage.path / "originals").mkdir(parents=True, exist_ok=True)
    (ctx.storage.path / "originals" / "Trips").write_bytes(b"in the way")
    with pytest.raises(OSError):
        await run_import(app, ctx, xml, folder)
    record = await app.services.registry.get_record("fails")
    assert record["status"] == "active" and "gsp_import" not in record
    for name, docs in before.items():
        assert await ctx.db[name].find({}).to_list() == docs, name
    assert await ctx.db.media.count_documents({}) == 0
    assert sorted(p.name for p in (ctx.storage.path / "originals").rglob("*")) == ["Trips"]
    assert (await ctx.db.meta.find_one({"_id": "usage"}))["bytes"] == 0  # counted again: nothing left
    assert not list(ctx.storage.path.glob(".gsp-*"))
    assert not list(ctx.storage.tmp.glob("*.gsp.sqlite"))  # the work file went with the failure
    assert await app.services.registry.host_db.jobs.count_documents({"tenant": "fails"}) == 0


async def test_an_import_refuses_a_backup_of_several_galleries_without_a_choice(app, make_gallery, backup):
    xml, folder = backup
    ctx = (await make_gallery("choose"))["ctx"]
    with pytest.raises(GspRefused, match="several galleries"):
        await run_import(app, ctx, xml, folder, gallery_id=None)
    with pytest.raises(GspRefused, match="no gallery 7"):
        await run_import(app, ctx, xml, folder, gallery_id=7)
    report = await run_import(app, ctx, xml, shutil.copytree(folder, folder.parent / "copy"), gallery_id=2)
    assert report["counts"]["albums"]["imported"] == 2 and report["counts"]["media"]["imported"] == 1
    assert not list(ctx.storage.tmp.glob("*.gsp.sqlite"))  # refused or done: no work file stays


async def test_the_gsp_import_job_reports_progress_and_keeps_the_report(app, make_gallery, backup, tmp_path):
    from gallery.gspimport.jobs import KIND, enqueue_import
    from jobs.runner import JobRunner
    from server.runtime import load_handlers

    load_handlers()  # the job kinds a service's workers know (media.regenerate among them)

    xml, folder = backup
    gallery = await make_gallery("byjob")
    ctx = gallery["ctx"]
    admin = await ctx.db.users.find_one({"username": "admin"})
    uploaded = shutil.copy(xml, tmp_path / "uploaded.xml")  # a page upload, removed when the job ends
    runner = JobRunner(app.services, workers=0)
    with pytest.raises(GspRefused, match="several galleries"):
        await enqueue_import(ctx, runner.queue, admin, uploaded, folder)
    job_id = await enqueue_import(ctx, runner.queue, admin, uploaded, folder, gallery_id=1, delete_after=True)
    queued = await runner.queue.get("byjob", job_id)
    assert queued["kind"] == KIND and queued["payload"]["gallery_id"] == 1
    job = await runner.run_now(job_id)
    assert job["state"] == "done", job.get("error")
    assert job["result"]["counts"]["media"]["imported"] == 6
    assert job["message"].startswith(("reading", "files", "writing"))  # progress was reported
    assert not (tmp_path / "uploaded.xml").exists() and xml.exists()
    event = await ctx.db.events.find_one({"kind": "gsp.import"})
    assert event["user_id"] == admin["_id"] and event["details"]["gallery_id"] == 1
    # The released processing job makes derivatives for the new files only: external media
    # stay ready, missing files stay marked, GSP's metadata stays beside the file's.
    regen = await runner.queue.jobs.find_one({"tenant": "byjob", "kind": "media.regenerate"})
    assert regen["payload"]["pending_only"] is True
    done = await runner.run_now(regen["_id"])
    assert done["state"] == "done" and done["result"] == {"processed": 4, "failed": 0}
    beach = await ctx.db.media.find_one({"gsp.id": 11})
    assert beach["state"] == "ready" and beach["derivatives"]["thumbnail"]["path"]
    assert beach["title"] == "Beach at noon" and beach["gsp"]["metadata"]["CameraModel"] == "Canon EOS 5D"
    assert (await ctx.db.media.find_one({"gsp.id": 14}))["state"] == "ready"  # external
    gone = await ctx.db.media.find_one({"gsp.id": 13})
    assert gone["state"] == "failed" and gone["failure"].startswith("File missing")
    # The gallery is no longer empty: a second import is refused before it is queued.
    with pytest.raises(GalleryNotEmpty):
        await enqueue_import(ctx, runner.queue, admin, xml, folder, gallery_id=1)


async def test_an_import_stops_when_the_gallery_filled_up_meanwhile_or_another_import_runs(app, make_gallery, backup):
    from storage import instance

    xml, folder = backup
    ctx = (await make_gallery("racy"))["ctx"]
    tenants = app.services.registry.host_db.tenants
    await tenants.update_one({"_id": "racy"}, {"$set": {"gsp_import": {"by": instance.current(), "run": "other"}}})
    with pytest.raises(ImportRunning, match="already running"):
        await run_import(app, ctx, xml, folder)
    await tenants.update_one({"_id": "racy"}, {"$unset": {"gsp_import": ""}})

    # An album made while the files are being copied (the gallery is open until the write):
    # the progress the import reports marks that moment.
    root = await ctx.db.albums.find_one({"parent_id": None})

    async def someone_adds_an_album_meanwhile(fraction, message):
        if message.startswith("files") and await ctx.db.albums.count_documents({}) == 1:
            await ctx.db.albums.insert_one(album_document("Added meanwhile", root, dirname="Added"))

    with pytest.raises(GalleryNotEmpty):
        await import_backup(ctx, app.services.registry, xml, folder, 1, progress=someone_adds_an_album_meanwhile)
    record = await tenants.find_one({"_id": "racy"})
    assert record["status"] == "active" and "gsp_import" not in record
    assert [a["title"] for a in await ctx.db.albums.find({}).to_list()] == ["Alpha Gallery", "Added meanwhile"]
    assert await ctx.db.media.count_documents({}) == 0 and not list(ctx.storage.path.glob(".gsp-*"))


async def test_media_beyond_the_gallerys_quota_stop_the_import_and_nothing_stays(app, make_gallery, backup, tmp_path):
    xml, folder = backup
    await make_gallery("small")
    registry = app.services.registry
    await registry.host_db.tenants.update_one({"_id": "small"}, {"$set": {"quota_bytes": 3000}})
    registry.forget("small")
    ctx = await registry.context_for_slug("small")
    media_zip = tmp_path / "media.zip"
    with zipfile.ZipFile(media_zip, "w") as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(folder).as_posix())
    with pytest.raises(GspRefused, match="quota"):
        await run_import(app, ctx, xml, media_zip)
    record = await registry.get_record("small")
    assert record["status"] == "active" and "gsp_import" not in record
    assert await ctx.db.media.count_documents({}) == 0 and not list(ctx.storage.path.glob(".gsp-*"))


async def test_a_preview_cancelled_while_it_reads_leaves_no_work_file(app, make_gallery, tmp_path):
    """The reading thread cannot be stopped; when it ends its work file is closed and removed."""
    import asyncio

    from tests.gsp_fixtures import write_scale_backup
    from tests.waiting import until

    ctx = (await make_gallery("cancelled"))["ctx"]
    made = write_scale_backup(tmp_path / "big.xml", 1500)

    async def work_files():
        return list(ctx.storage.tmp.glob("*.gsp.sqlite"))

    task = asyncio.ensure_future(preview(ctx, made.xml, None, 1))
    await until(work_files, 60)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async def gone():
        return not await work_files()
    await until(gone, 120)
