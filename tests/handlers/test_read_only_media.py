"""A read-only media folder (issue 16, item 6): the host points a gallery's originals at an
existing directory that Atrium never writes to. Synchronization is the only way in; every
write route over HTTP is refused (409 `read_only_media`, with the reason) or touches
records and derivatives only. "Never writes" is proved twice: the folder is made
read-only at the OS level, and because tests run as root (who writes through modes) every
entry's bytes, mode, size, mtime and ctime are recorded before and compared after."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import shutil
import stat
import zipfile

import pytest

from gallery.library import albums
from gallery.settings import update_settings
from tenants.media_folder import set_media_folder
from tenants.provision import ProvisioningError
from tests.client import text
from tests.handlers.media_api import processed

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def listing(folder) -> dict:
    """Every entry below `folder` (and itself): mode, size, mtime, ctime, content hash."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [".", *dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
            key = os.path.normpath(os.path.relpath(path, folder))
            found[key] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest)
    return found


def make_read_only(folder) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            os.chmod(path, os.lstat(path).st_mode & ~0o222)
    os.chmod(folder, os.lstat(folder).st_mode & ~0o222)


async def job_done(app, job_id: str) -> dict:
    async with asyncio.timeout(90):
        while True:
            job = await app.services.host_db.jobs.find_one({"_id": job_id})
            if job["state"] in ("done", "failed", "cancelled"):
                assert job["state"] == "done", job
                return job
            await asyncio.sleep(0.05)


def refused(response, what: str) -> None:
    assert response.code == 409, (what, response.code, text(response)[:300])
    error = json.loads(response.body)["error"]
    assert error["code"] == "read_only_media", what
    assert "read-only folder" in error["message"], what


def zip_of(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


async def test_no_route_writes_into_a_read_only_media_folder(app, make_gallery, make_jpeg, tmp_path):
    g = await make_gallery("alpha")
    prefix = g["prefix"]
    folder = tmp_path / "library"
    (folder / "Trips" / "Rome").mkdir(parents=True)
    for rel, color in (("top.jpg", (200, 30, 30)), ("Trips/beach.jpg", (30, 200, 30)),
                       ("Trips/Rome/colosseum.jpg", (30, 30, 200))):
        shutil.copyfile(make_jpeg(900, 600, color=color), folder / rel)
    record = await set_media_folder(app.services.registry, "alpha", str(folder))
    assert record["media_folder"] == str(folder.resolve())
    make_read_only(folder)
    before = listing(folder)
    ctx = await app.services.registry.context_for_slug("alpha")
    assert ctx.storage.originals == folder.resolve() and ctx.storage.read_only_originals
    await update_settings(ctx, {"sync_min_age_seconds": 0, "sync_dirnames_with_titles": True,
                                "user_albums": True})
    admin = app.browser()
    assert (await admin.login(prefix, "admin", PASSWORD)).code == 302
    root = await albums.root_album(ctx)

    # Synchronization is the way in: the folder's files become media, processed into the
    # gallery's own storage.
    started = await admin.api("POST", f"{prefix}/api/v1/albums/{root['_id']}/sync", {})
    assert started.code == 202, text(started)
    job = await job_done(app, json.loads(started.body)["job_id"])
    assert (job["result"]["new"], job["result"]["new_albums"]) == (3, 2)
    media = {m["file_name"]: m for m in await ctx.db.media.find({}).to_list()}
    for doc in media.values():
        done = await processed(ctx, doc["_id"])
        assert done["state"] == "ready", done.get("failure")
        thumb = ctx.storage.resolve(done["derivatives"]["thumbnail"]["path"])
        assert ctx.storage.path.resolve() in thumb.parents and thumb.is_file()
    trips = await ctx.db.albums.find_one({"title": "Trips"})
    rome = await ctx.db.albums.find_one({"title": "Rome"})
    top, beach = media["top.jpg"], media["beach.jpg"]
    photo = make_jpeg(300, 200, name="new.jpg").read_bytes()

    # Every way a file would be written, moved or copied there: refused, with the reason.
    refused(await admin.api("POST", f"{prefix}/api/v1/albums/{rome['_id']}/upload", body=photo,
                            headers={"X-File-Name": "new.jpg"}), "upload")
    refused(await admin.api("POST", f"{prefix}/api/v1/albums/{rome['_id']}/upload?zip=1",
                            body=zip_of("z.jpg", photo), headers={"X-File-Name": "z.zip"}), "zip")
    refused(await admin.api("POST", f"{prefix}/api/v1/albums/{rome['_id']}/upload?folder=New",
                            body=photo, headers={"X-File-Name": "f.jpg"}), "folder upload")
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                    for k, v in (("filename", "t.jpg"), ("album_id", rome["_id"])))
    refused(await admin.api("POST", f"{prefix}/api/v1/uploads/", headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(photo)), "Upload-Metadata": meta}), "tus")
    refused(await admin.api("POST", f"{prefix}/api/v1/media/{top['_id']}/file", body=photo,
                            headers={"X-File-Name": "other.jpg"}), "replace")
    refused(await admin.api("POST", f"{prefix}/api/v1/albums",
                            {"parent_id": root["_id"], "title": "New"}), "new album")
    refused(await admin.api("POST", f"{prefix}/api/v1/albums/{rome['_id']}/move",
                            {"parent_id": root["_id"]}), "album move")
    refused(await admin.api("POST", f"{prefix}/api/v1/albums/{rome['_id']}/copy",
                            {"parent_id": root["_id"]}), "album copy")
    refused(await admin.api("POST", f"{prefix}/api/v1/media/{beach['_id']}/move",
                            {"album_id": root["_id"]}), "media move")
    refused(await admin.api("POST", f"{prefix}/api/v1/media/{beach['_id']}/copy",
                            {"album_id": root["_id"]}), "media copy")
    for action in ("move", "copy"):
        bulk = await admin.api("POST", f"{prefix}/api/v1/media/bulk",
                               {"action": action, "ids": [beach["_id"]], "album_id": root["_id"]})
        result = json.loads(bulk.body)
        assert bulk.code == 200 and not result["done"], (action, result)
        assert "read-only folder" in result["failed"][0]["error"], action
    page = await admin.get(f"{prefix}/upload?album={rome['_id']}")
    assert page.code == 409 and "read-only folder" in text(page)
    # The pages offer neither Upload nor New album, and say why.
    shown = json.loads((await admin.get(f"{prefix}/api/v1/albums/{rome['_id']}?limit=1")).body)
    assert shown["album"]["read_only_media"] is True
    assert shown["album"]["can"]["add_media"] is False and shown["album"]["can"]["add_album"] is False
    assert shown["album"]["can"]["edit_album"] is True

    # What touches records and derivatives only is allowed.
    rotated = await admin.api("POST", f"{prefix}/api/v1/media/{top['_id']}/rotate", {"rotate": 90})
    assert rotated.code == 202, text(rotated)
    turned = await processed(ctx, top["_id"])
    assert turned["state"] == "ready" and turned["transform"]["rotate"] == 90
    renamed = await admin.api("PATCH", f"{prefix}/api/v1/albums/{rome['_id']}", {"title": "Roma"})
    assert renamed.code == 200, text(renamed)
    assert json.loads(renamed.body)["album"]["dirname"] == "Rome"  # the directory stays
    assert (await admin.api("DELETE", f"{prefix}/api/v1/media/{beach['_id']}")).code == 200
    deleted = await admin.api("DELETE", f"{prefix}/api/v1/albums/{rome['_id']}?delete_files=1")
    assert deleted.code == 200, text(deleted)
    assert await ctx.db.media.count_documents({}) == 1
    assert not (ctx.storage.derivatives / beach["_id"]).exists()
    # A new account gets no personal album (nobody could upload into it).
    from gallery.people.accounts import create_user_album

    assert await create_user_album(ctx, {"_id": "u1", "username": "u1"}, {"user_albums": True}) is None

    # Ways in that fill a whole gallery: refused before they read their archive.
    from gallery.archive.restore import RestoreError
    from gallery.gspimport.importer import check_empty
    from gallery.media_folder import ReadOnlyMedia
    from tenants.restore_into import restore_into

    with pytest.raises(ReadOnlyMedia, match="read-only folder"):
        await check_empty(ctx)
    with pytest.raises(RestoreError, match="read-only media folder"):
        await restore_into(app.services.registry, None, tmp_path / "none.zip", "alpha")

    assert listing(folder) == before  # not one byte, name, mode or time changed

    # The files stay, so the next synchronization brings the deleted records back.
    again = await admin.api("POST", f"{prefix}/api/v1/albums/{trips['_id']}/sync", {})
    result = (await job_done(app, json.loads(again.body)["job_id"]))["result"]
    assert (result["new"], result["new_albums"]) == (2, 1)
    assert listing(folder) == before


async def test_the_host_sets_a_folder_only_where_it_is_safe(app, make_gallery, tmp_path):
    registry = app.services.registry
    await make_gallery("alpha")
    await make_gallery("beta")
    data_dir = registry.tenants_dir.parent
    shared = tmp_path / "shared"
    (shared / "inner").mkdir(parents=True)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "into-data").symlink_to(data_dir / "tenants" / "beta")
    bad = {
        "relative/path": "absolute path",
        str(tmp_path / "nowhere"): "does not exist",
        str(tmp_path / "a-file"): "not a directory",
        str(data_dir / "tenants" / "beta" / "originals"): "data directory",  # another's storage
        str(tmp_path): "data directory",  # the data directory is inside it
        str(tmp_path / "into-data"): "data directory",  # a link is resolved first
        "/tmp/x\x00y": "absolute path",
    }
    for folder, reason in bad.items():
        with pytest.raises(ProvisioningError, match=reason):
            await set_media_folder(registry, "alpha", folder)
    record = await set_media_folder(registry, "alpha", str(shared) + "/")
    assert record["media_folder"] == str(shared.resolve())
    for folder in (shared / "inner", shared, tmp_path / "shared" / ".." / "shared"):
        with pytest.raises(ProvisioningError, match="gallery alpha's media folder"):
            await set_media_folder(registry, "beta", str(folder))
    # A gallery with files of its own in originals/ would leave them behind.
    own = await registry.context_for_slug("beta")
    (own.storage.originals / "kept.jpg").write_bytes(b"x")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(ProvisioningError, match="files of its own"):
        await set_media_folder(registry, "beta", str(elsewhere))
    # Cleared: the gallery's own storage again, on the next request in this process.
    assert (await registry.context_for_slug("alpha")).storage.read_only_originals
    cleared = await set_media_folder(registry, "alpha", None)
    assert "media_folder" not in cleared
    ctx = await registry.context_for_slug("alpha")
    assert not ctx.storage.read_only_originals and ctx.storage.originals == ctx.storage.path / "originals"


async def test_host_console_sets_and_clears_the_media_folder(app, make_gallery, tmp_path):
    from tests.handlers.test_host_console import _signed_in

    await make_gallery("alpha")
    browser, _ = await _signed_in(app)
    folder = tmp_path / "photos"
    folder.mkdir()
    page = await browser.get("/_host/tenants/alpha")
    assert page.code == 200 and 'name="media_folder"' in text(page)
    url = "/_host/tenants/alpha/media-folder"
    unconfirmed = await browser.post_form(url, {"media_folder": str(folder)})
    assert unconfirmed.code == 400 and "Confirm that the folder is read-only" in text(unconfirmed)
    inside = await browser.post_form(url, {"media_folder": str(app.services.registry.tenants_dir),
                                           "read_only": "on"})
    assert inside.code == 400 and "data directory" in text(inside)
    done = await browser.post_form(url, {"media_folder": str(folder), "read_only": "on"})
    assert done.code == 200 and "synchronize" in text(done)
    record = await app.services.registry.get_record("alpha")
    assert record["media_folder"] == str(folder.resolve())
    cleared = await browser.post_form(url, {"action": "clear"})
    assert cleared.code == 200 and "own storage again" in text(cleared)
    assert "media_folder" not in await app.services.registry.get_record("alpha")


def test_cli_sets_a_read_only_media_folder(tmp_path):
    from tests.server.test_cli import run

    data = tmp_path / "data"
    folder = tmp_path / "photos"
    folder.mkdir()
    assert run(data, "tenant", "create", "acme", "--title", "Acme").returncode == 0
    unconfirmed = run(data, "tenant", "set", "acme", "--media-folder", str(folder))
    assert unconfirmed.returncode == 1 and "add --read-only to confirm" in unconfirmed.stderr
    done = run(data, "tenant", "set", "acme", "--media-folder", str(folder), "--read-only", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["media_folder"] == str(folder.resolve())


def test_a_folder_the_service_cannot_read_is_refused():
    """Root lists every directory, so the check runs as `nobody` in a forked child, on a
    folder under /tmp with mode 0700 (root's own)."""
    import tempfile

    from tenants.media_folder import _resolved_folder

    base = tempfile.mkdtemp(prefix="atrium-media-folder-")
    try:
        os.chmod(base, 0o755)
        closed = os.path.join(base, "closed")
        os.mkdir(closed, 0o700)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            try:
                os.close(read_end)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                try:
                    _resolved_folder(closed)
                    message = "accepted"
                except ProvisioningError as exc:
                    message = str(exc)
                os.write(write_end, message.encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as fh:
            said = fh.read().decode()
        os.waitpid(pid, 0)
        assert said == f"the media folder {closed} cannot be read (Permission denied)"
    finally:
        shutil.rmtree(base)
