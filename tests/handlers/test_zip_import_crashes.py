"""The real service killed with SIGKILL in the middle of a ZIP import, then started again
on the same data directory: the import is taken back at once (not after its lease), goes
on after the entries it had done, never duplicates one, and its report reaches a client
that only saw its connection drop; what the killed process left in tmp/ is removed."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from tornado.httpclient import HTTPClientError

from tests.client import text
from tests.waiting import until as _until
from tests.gallery.intake.test_zipimport import make_zip
from tests.service_process import ServiceProcess

FILES = 30


def _diary(i: int) -> bytes:
    return b"".join(b"day %03d: line %05d of a travel diary\n" % (i, n) for n in range(400))


async def _signed_in(service, gallery):
    browser = service.browser()
    response = await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    assert response.code in (200, 302), text(response)
    return browser


# inline: killed after 12 of 30 entries, the client waiting for the answer. job: killed
# in the background job after the last entry, its report stored and its ZIP removed.
@pytest.mark.parametrize(
    ("query", "moment", "before"),
    [("", "zipimport.entry@12", 12), ("&background=1", "zipimport.finished", FILES)],
    ids=["inline-midway", "job-at-the-end"],
)
async def test_a_zip_import_killed_midway_resumes_after_a_restart_without_duplicates(
    app, make_gallery, query, moment, before
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    archive = make_zip([(f"trip/day{i:03d}.txt", _diary(i)) for i in range(FILES)])
    upload = f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload?zip=1&name=trip.zip{query}"
    # A lease far longer than the test may wait: only the restart can take the job back.
    service = ServiceProcess(app.services.config, **{"jobs.lease_seconds": 600})
    await service.start(failpoint=moment)
    try:
        browser = await _signed_in(service, gallery)
        sent = asyncio.ensure_future(browser.api("POST", upload, body=archive))
        await service.wait_for_line(f"failpoint {moment.split('@')[0]} reached")
        await service.kill()
        if query:
            assert (await sent).code == 202
        else:
            with pytest.raises((HTTPClientError, OSError)):  # only a dropped connection
                await sent
        assert len(await ctx.db.media.find({}).to_list()) == before

        await service.start()
        browser = await _signed_in(service, gallery)

        async def finished():
            jobs = json.loads((await browser.get(f"{gallery['prefix']}/api/v1/jobs")).body)
            imports = [j for j in jobs["items"] if j["kind"] == "zip.import"]
            return len(imports) == 1 and imports[0]["state"] not in ("queued", "running") and imports[0]

        job = await _until(finished, timeout=60)  # far less than the 600 s lease
        assert job["state"] == "done", (job, service.lines[-40:])
        assert job["attempts"] == 2
        assert job["result"]["imported"] == FILES and job["result"]["failed"] == 0
        names = Counter(m["file_name"] for m in await ctx.db.media.find({}).to_list())
        assert names == Counter(f"day{i:03d}.txt" for i in range(FILES))
        imported = {e["media_id"] for e in job["result"]["entries"] if e["status"] == "imported"}
        assert imported == {m["_id"] for m in await ctx.db.media.find({}).to_list()}
        assert await ctx.db.albums.count_documents({"title": "trip"}) == 1

        # The client sends the same ZIP again (it never saw an answer): it gets the report
        # of the import that ran, and nothing is imported twice.
        again = await browser.api("POST", upload, body=archive)
        assert again.code in (200, 202), text(again)
        body = json.loads(again.body)
        assert body["job"]["id"] == job["id"]
        if again.code == 200:
            assert body["imported"] == FILES
        assert await ctx.db.media.count_documents({}) == FILES

        async def tmp_is_clean():
            return not any(ctx.storage.tmp.iterdir())

        await _until(tmp_is_clean, timeout=10)
    finally:
        await service.stop()


async def test_a_client_that_drops_an_inline_import_gets_its_report_on_retry(app, make_gallery):
    """The connection drops while the service imports (the service lives on): the import
    finishes, and the client's retry of the same ZIP answers with that import's report."""
    gallery = await make_gallery("beta")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    archive = make_zip([(f"walk/day{i:03d}.txt", _diary(i)) for i in range(FILES)])
    path = f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload?zip=1&name=walk.zip"
    browser = app.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    _reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    head = "\r\n".join([
        f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{app.port}",
        f"Content-Length: {len(archive)}", f"X-XSRFToken: {browser.xsrf()}",
        f"Cookie: {browser._cookie_header(path.split('?')[0])}",
    ])
    writer.write((head + "\r\n\r\n").encode() + archive)
    await writer.drain()

    async def importing():
        return await ctx.db.media.count_documents({}) > 0

    await _until(importing, timeout=30)
    writer.close()  # gone before the answer
    again = await browser.api("POST", path, body=archive)
    assert again.code == 200, text(again)
    body = json.loads(again.body)
    assert body["imported"] == FILES
    jobs = await app.services.host_db.jobs.find({"tenant": ctx.slug, "kind": "zip.import"}).to_list()
    assert [j["_id"] for j in jobs] == [body["job"]["id"]] and jobs[0]["state"] == "done"
    names = Counter(m["file_name"] for m in await ctx.db.media.find({}).to_list())
    assert names == Counter(f"day{i:03d}.txt" for i in range(FILES))
    report = json.loads((await browser.get(body["job"]["url"])).body)
    assert report["job"]["result"]["imported"] == FILES
