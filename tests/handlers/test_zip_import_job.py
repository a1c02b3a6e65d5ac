"""ZIP import over HTTP: the storage quota is judged on the archive's declared sizes before
anything is extracted, and a large ZIP (or ?background=1) is imported by the `zip.import`
job, whose result lists every entry."""

from __future__ import annotations

import asyncio
import json

import pytest

from gallery.usage import current_usage
from handlers import uploads as upload_handlers
from tenants.provision import update_tenant
from tests.client import text
from tests.gallery.intake.test_zipimport import jpeg_bytes, make_zip


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _signed_in(app, make_gallery):
    g = await make_gallery("alpha")
    b = app.browser()
    await b.login(g["prefix"], "admin", g["password"])
    root = await g["ctx"].db.albums.find_one({"parent_id": None})
    return g, b, root


async def _upload_zip(b, g, root, data: bytes, query: str = ""):
    return await b.api(
        "POST",
        f"{g['prefix']}/api/v1/albums/{root['_id']}/upload?zip=1&name=photos.zip{query}",
        body=data,
    )


async def _job_done(b, url: str, timeout: float = 60.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        job = json.loads((await b.get(url)).body)["job"]
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the import job did not finish")


def _text_entry(n: int) -> bytes:
    return b"".join(b"line %06d of a diary that compresses well\n" % i for i in range(n))


@pytest.mark.parametrize("query", ["", "&background=1"], ids=["inline", "job"])
async def test_a_zip_bigger_than_the_free_quota_is_refused_before_extraction(
    app, make_gallery, query
):
    g, b, root = await _signed_in(app, make_gallery)
    ctx = g["ctx"]
    await update_tenant(app.services.registry, g["slug"], quota_bytes=400_000)
    entry = _text_entry(5000)  # ~230 KB each, a few KB compressed
    data = make_zip([("trip/day1.txt", entry), ("trip/day2.txt", entry)])
    assert len(data) < 100_000  # the upload itself fits; what it unpacks to does not
    usage = await current_usage(ctx)
    jobs_before = await app.services.host_db.jobs.count_documents({"kind": "zip.import"})
    response = await _upload_zip(b, g, root, data, query)
    assert response.code == 413, text(response)
    message = json.loads(response.body)["error"]["message"]
    assert "quota" in message and "nothing was imported" in message
    assert await ctx.db.albums.count_documents({"title": "trip"}) == 0
    assert await ctx.db.media.count_documents({}) == 0
    assert await current_usage(ctx) == usage
    assert not any(ctx.storage.tmp.iterdir())
    assert await app.services.host_db.jobs.count_documents({"kind": "zip.import"}) == jobs_before
    # One entry fits: the same gallery takes a smaller archive.
    ok = await _upload_zip(b, g, root, make_zip([("trip/day1.txt", entry)]), query)
    assert ok.code in (200, 202), text(ok)


async def test_a_background_zip_import_runs_as_a_job_and_reports_every_entry(app, make_gallery):
    g, b, root = await _signed_in(app, make_gallery)
    ctx = g["ctx"]
    data = make_zip(
        [
            ("Holiday/Beach/sun.jpg", jpeg_bytes((250, 200, 10))),
            ("Holiday/sea.jpg", jpeg_bytes((10, 90, 200))),
            ("Holiday/readme.html", b"<html><body>not media</body></html>\n"),
            ("../escape.txt", b"nope\n"),
            ("__MACOSX/._sun.jpg", b"\x00\x05\x16\x07"),
        ]
    )
    response = await _upload_zip(b, g, root, data, "&background=1")
    assert response.code == 202, text(response)
    answer = json.loads(response.body)["job"]
    assert response.headers["Location"] == answer["url"]
    job = await _job_done(b, answer["url"])
    assert job["state"] == "done", job
    result = job["result"]
    assert (result["imported"], result["skipped"]) == (2, 3)
    entries = {e["name"]: e for e in result["entries"]}
    assert entries["Holiday/Beach/sun.jpg"]["status"] == "imported"
    assert "text/html" in entries["Holiday/readme.html"]["reason"]
    assert ".." in entries["../escape.txt"]["reason"]
    holiday = await ctx.db.albums.find_one({"title": "Holiday"})
    beach = await ctx.db.albums.find_one({"title": "Beach", "parent_id": holiday["_id"]})
    media = await ctx.db.media.find_one({"_id": entries["Holiday/Beach/sun.jpg"]["media_id"]})
    assert media["album_id"] == beach["_id"]
    # The imported media are processed like any upload, and the ZIP is gone from tmp/.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        states = {m["state"] for m in await ctx.db.media.find({}).to_list()}
        if states == {"ready"}:
            break
        await asyncio.sleep(0.05)
    assert states == {"ready"}
    thumb = await b.get(f"{g['prefix']}/media/{media['_id']}/thumbnail")
    assert thumb.code == 200
    assert not any(ctx.storage.tmp.iterdir())
    # Another signed-in user does not see this job.
    created = await b.api(
        "POST",
        f"{g['prefix']}/api/v1/users",
        {"username": "otto", "email": "otto@example.org", "password": "Violet-Tuba-Lantern-42"},
    )
    assert created.code == 201
    otto = app.browser()
    await otto.login(g["prefix"], "otto", "Violet-Tuba-Lantern-42")
    assert (await otto.get(answer["url"])).code == 404


async def test_a_large_zip_goes_to_the_job_without_asking(app, make_gallery, monkeypatch):
    g, b, root = await _signed_in(app, make_gallery)
    data = make_zip([("a.jpg", jpeg_bytes()), ("b.jpg", jpeg_bytes((1, 2, 3)))])
    monkeypatch.setattr(upload_handlers, "ZIP_INLINE_BYTES", len(data) - 1)
    response = await _upload_zip(b, g, root, data)
    assert response.code == 202, text(response)
    job = await _job_done(b, json.loads(response.body)["job"]["url"])
    assert job["state"] == "done" and job["result"]["imported"] == 2
    monkeypatch.setattr(upload_handlers, "ZIP_INLINE_BYTES", len(data))
    inline = await _upload_zip(b, g, root, data)
    assert inline.code == 200 and json.loads(inline.body)["imported"] == 2
