"""The "Import from Gallery Server Pro" admin page over HTTP (issue 15): resumable uploads of the
backup and the media ZIP, the preview, the confirmed import job and its report, against the
real service, job workers and embedded database; and what it refuses (non-admins, other
tenants' uploads, XSRF, hostile tus headers, a hostile backup, a gallery that is not empty)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from gallery.gspimport.jobs import KIND
from gallery.people.users import create_user
from tests.client import text
from tests.gsp_fixtures import write_backup
from tests.gsp_hostile import SECRET, write_hostile

PASSWORD = "Correct-Horse-Battery-9"
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def meta(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(browser, prefix, kind, name, length, **kw):
    return await browser.api(
        "POST",
        f"{prefix}/admin/import-gsp/uploads/",
        headers={
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": meta(filename=name, kind=kind),
            "Accept": "application/json",
        },
        **kw,
    )


async def patch(browser, url, offset, body, **kw):
    return await browser.api(
        "PATCH",
        url,
        headers={
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Accept": "application/json",
        },
        body=body,
        **kw,
    )


async def upload(browser, prefix, kind, path) -> str:
    """A whole file in two pieces, the second after asking HEAD where to go on (a resume)."""
    data = path.read_bytes()
    made = await create(browser, prefix, kind, path.name, len(data))
    assert made.code == 201, text(made)
    url = made.headers["Location"].split("://", 1)[1].split("/", 1)[1]
    url = "/" + url
    half = len(data) // 2
    first = await patch(browser, url, 0, data[:half])
    assert first.code == 204 and first.headers["Upload-Offset"] == str(half)
    assert "Upload-Media-Id" not in first.headers
    head = await browser.request("HEAD", url, headers=TUS)
    assert head.code == 200 and head.headers["Upload-Offset"] == str(half)
    last = await patch(browser, url, half, data[half:])
    assert last.code == 204, text(last)
    return last.headers["Upload-Media-Id"]


async def wait_job(app, tenant, timeout=90):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = await app.services.host_db.jobs.find_one({"tenant": tenant, "kind": KIND})
        if job and job["state"] in ("done", "failed", "cancelled"):
            return job
        assert loop.time() < deadline, job
        await asyncio.sleep(0.1)


async def test_admin_uploads_previews_confirms_and_downloads_the_report(
    app, make_gallery, tmp_path
):
    made = write_backup(tmp_path / "gsp", "4.5.0", zipped=True, media_zip=True, video=False)
    await make_gallery("fam")
    admin = app.browser()
    await admin.login("/g/fam", "admin", PASSWORD)
    page = await admin.get("/g/fam/admin/import-gsp")
    assert page.code == 200 and "data-gsp-upload" in text(page) and "No imports yet" in text(page)
    assert "/g/fam/admin/import-gsp" in text(
        await admin.get("/g/fam/admin/backup")
    )  # in the admin menu

    backup_id = await upload(admin, "/g/fam", "backup", made.zip)
    media_id = await upload(admin, "/g/fam", "media", made.media_zips[2])
    # Two galleries in the file: the preview asks which one.
    choose = text(await admin.get(f"/g/fam/admin/import-gsp?backup={backup_id}&media={media_id}"))
    assert (
        "choose the one to import" in choose
        and "Family photos — Фото" in choose
        and "Club" in choose
    )
    assert "Template Gallery" not in choose
    shown = await admin.get(
        f"/g/fam/admin/import-gsp?backup={backup_id}&media={media_id}&gallery=2"
    )
    body = text(shown)
    assert shown.code == 200 and "data-counts" in body and "Gallery Server Pro 4.x" in body
    assert "data-confirm-import" in body
    assert "<strong>1</strong> missing" in body  # lost.jpg
    assert "Unsafe embed" in body and "evil.example" in body  # a rejected embed is named, with why
    assert "<script>alert(1)" not in body and "clear-text-" not in body

    # Without ticking the box nothing starts; with it the job runs.
    form = {"backup": backup_id, "media": media_id, "gallery_id": "2"}
    assert (await admin.post_form("/g/fam/admin/import-gsp", form)).code == 400
    started = await admin.post_form("/g/fam/admin/import-gsp", {**form, "confirm": "1"})
    assert started.code == 303
    # The same uploads cannot start a second import (a double click, a resent form).
    twice = await admin.post_form("/g/fam/admin/import-gsp", {**form, "confirm": "1"})
    assert twice.code == 404 and "upload the file again" in text(twice)
    job = await wait_job(app, "fam")
    assert job["state"] == "done", job
    report = job["result"]
    assert report["counts"]["media"]["imported"] >= 10
    after = text(await admin.get("/g/fam/admin/import-gsp"))
    assert "data-not-empty" in after and "data-report" in after and "data-gsp-upload" not in after
    download = await admin.get(f"/g/fam/admin/import-gsp/{job['_id']}/report.json")
    assert download.code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.body)["counts"] == report["counts"]
    # The uploaded files went with the job (delete_after).
    ctx = await app.services.registry.context_for_slug("fam")
    assert not list(ctx.storage.tmp.glob("gsp-*"))
    # Once not empty, a new import is refused before anything is read.
    again = await admin.post_form("/g/fam/admin/import-gsp", {**form, "confirm": "1"})
    assert again.code in (404, 409)


async def test_only_the_galleries_own_admin_reaches_the_page_and_its_uploads(
    app, make_gallery, tmp_path
):
    alpha = await make_gallery("alpha")
    await make_gallery("beta")
    await create_user(alpha["ctx"], "viewer", "viewer@example.org", PASSWORD)
    admin = app.browser()
    await admin.login("/g/alpha", "admin", PASSWORD)
    made = await create(admin, "/g/alpha", "backup", "GalleryServerBackup.xml", 10)
    assert made.code == 201
    url = "/" + made.headers["Location"].split("://", 1)[1].split("/", 1)[1]
    upload_id = url.rsplit("/", 1)[1]

    viewer = app.browser()
    await viewer.login("/g/alpha", "viewer", PASSWORD)
    assert (await viewer.get("/g/alpha/admin/import-gsp")).code == 403
    assert (await create(viewer, "/g/alpha", "backup", "x.xml", 10)).code == 403
    assert (await viewer.request("HEAD", url, headers=TUS)).code == 403
    anonymous = app.browser()
    assert (await anonymous.get("/g/alpha/admin/import-gsp")).code in (302, 403)

    # beta's admin names alpha's upload: it does not exist for them (nor its preview).
    other = app.browser()
    await other.login("/g/beta", "admin", PASSWORD)
    assert (
        await other.request("HEAD", f"/g/beta/admin/import-gsp/uploads/{upload_id}", headers=TUS)
    ).code == 404
    foreign = await other.get(f"/g/beta/admin/import-gsp?backup={upload_id}")
    assert foreign.code == 404 and "upload the file again" in text(foreign)
    # A write without the XSRF token is refused by Tornado before the handler runs.
    await admin.request(
        "PATCH",
        url,
        headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        body=b"x",
        expect_xsrf_refusal=True,
    )


HOSTILE_CREATES = [
    ({"Upload-Length": "-1"}, 400),
    ({"Upload-Length": "1e9"}, 400),
    ({"Upload-Length": "\u00b2"}, 400),  # a digit to str.isdigit, not an ASCII one
    ({"Upload-Length": "0"}, 400),
    ({"Upload-Metadata": "filename !!!notbase64"}, 400),
    ({"Upload-Metadata": meta(filename="a.xml", kind="evil")}, 400),
    ({"Upload-Metadata": meta(filename="setup.exe", kind="backup")}, 415),
    ({"Upload-Metadata": meta(filename="media.xml", kind="media")}, 415),
    ({"Tus-Resumable": "0.2.2"}, 412),
]


async def test_hostile_upload_headers_are_refused(app, make_gallery):
    alpha = await make_gallery("alpha")
    admin = app.browser()
    await admin.login("/g/alpha", "admin", PASSWORD)
    for headers, code in HOSTILE_CREATES:
        sent = {
            **TUS,
            "Upload-Length": "10",
            "Upload-Metadata": meta(filename="b.xml", kind="backup"),
            "Accept": "application/json",
            **headers,
        }
        response = await admin.api("POST", "/g/alpha/admin/import-gsp/uploads/", headers=sent)
        assert response.code == code, (headers, text(response))
    assert not list(alpha["ctx"].storage.tmp.glob("gsp-*"))  # nothing was made for any of them


async def test_hostile_patches_and_a_hostile_backup(app, make_gallery, tmp_path):
    alpha = await make_gallery("alpha")
    admin = app.browser()
    await admin.login("/g/alpha", "admin", PASSWORD)
    xxe = write_hostile(tmp_path / "xxe", "xxe").path
    data = xxe.read_bytes()
    made = await create(admin, "/g/alpha", "backup", xxe.name, len(data))
    url = "/" + made.headers["Location"].split("://", 1)[1].split("/", 1)[1]
    wrong_type = await admin.api(
        "PATCH", url, headers={**TUS, "Upload-Offset": "0", "Content-Type": "text/plain"}, body=b"x"
    )
    assert wrong_type.code == 415
    assert (await patch(admin, url, 5, data[:10])).code == 409  # not where the upload stands
    assert (await patch(admin, url, 0, data + b"more")).code == 413  # past Upload-Length

    # The same without a Content-Length (chunked): refused as the excess arrives, what came
    # before it kept, so HEAD says where to go on.
    async def too_much(write):
        await write(data[:100])
        await write(data[100:] + b"more")

    chunked = await admin.client.fetch(
        app.base + url,
        method="PATCH",
        body_producer=too_much,
        raise_error=False,
        headers={
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Accept": "application/json",
            "X-XSRFToken": admin.xsrf(url),
            "Cookie": admin._cookie_header(url),
        },
    )
    assert chunked.code == 413
    head = await admin.request("HEAD", url, headers=TUS)
    assert int(head.headers["Upload-Offset"]) <= len(data)
    if int(head.headers["Upload-Offset"]):  # start again from nothing for the rest of the test
        assert (await admin.api("DELETE", url, headers=TUS)).code == 204
        made = await create(admin, "/g/alpha", "backup", xxe.name, len(data))
        url = "/" + made.headers["Location"].split("://", 1)[1].split("/", 1)[1]
    assert (
        await admin.request(
            "HEAD", "/g/alpha/admin/import-gsp/uploads/..%2F..%2Fsecret", headers=TUS
        )
    ).code == 404
    done = await patch(admin, url, 0, data)
    upload_id = done.headers["Upload-Media-Id"]
    refused = await admin.get(f"/g/alpha/admin/import-gsp?backup={upload_id}")
    assert refused.code == 400 and "data-problem" in text(refused)
    assert SECRET not in text(refused)
    assert not await alpha["ctx"].db.albums.find_one({"parent_id": {"$ne": None}})
