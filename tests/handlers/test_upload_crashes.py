"""The real service killed with SIGKILL at the worst moments of an upload, then started
again on the same data directory: a tus upload whose last chunk had arrived is completed
exactly once and its media id is learnt by HEAD and by the repeated last PATCH; the
processing it needs runs at once after the restart, not after a lease."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from tornado.httpclient import HTTPClientError

from tests.client import text
from tests.waiting import until as _until
from tests.handlers.test_tus import MB, Tus, payload
from tests.service_process import ServiceProcess


async def _signed_in(service, gallery) -> Tus:
    browser = service.browser()
    response = await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    assert response.code in (200, 302), text(response)
    return Tus(browser, gallery["prefix"])


# ingest.recorded: the media record is written, its processing job not yet released and
# the upload not marked done. tus.ingested: the media object and job exist, the upload
# record still says "completing".
@pytest.mark.parametrize("moment", ["ingest.recorded", "tus.ingested"])
async def test_a_tus_upload_killed_after_its_last_chunk_is_completed_once(
    app, make_gallery, moment
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    # A lease far longer than the test may wait: the restart must not wait for it.
    service = ServiceProcess(app.services.config, **{"jobs.lease_seconds": 600})
    await service.start(failpoint=moment)
    try:
        tus = await _signed_in(service, gallery)
        data = payload(3 * MB)
        upload_id, _ = await tus.create(root["_id"], len(data), "harbour.txt")
        last = asyncio.ensure_future(tus.patch(upload_id, 0, data))
        await service.wait_for_line(f"failpoint {moment} reached")
        await service.kill()
        with pytest.raises((HTTPClientError, OSError)):  # the client saw the connection drop
            await last

        await service.start()
        tus = await _signed_in(service, gallery)
        head = await tus.call("HEAD", upload_id)
        assert head.code == 200, text(head)
        assert head.headers["Upload-Offset"] == str(len(data))
        media_id = head.headers["Upload-Media-Id"]
        stored = await ctx.db.media.find({}).to_list()
        assert [m["_id"] for m in stored] == [media_id]
        assert stored[0]["original"]["sha256"] == hashlib.sha256(data).hexdigest()
        # The client repeats its last PATCH (it never saw the answer): same answer.
        again = await tus.patch(upload_id, len(data), b"")
        assert again.code == 204, text(again)
        assert again.headers["Upload-Media-Id"] == media_id
        assert again.headers["Upload-Offset"] == str(len(data))
        # More bytes after completion are refused, never a 500.
        extra = await tus.patch(upload_id, len(data), b"more")
        assert extra.code == 409, text(extra)

        async def processed():
            doc = await ctx.db.media.find_one({"_id": media_id})
            return doc["state"] != "pending" and doc

        doc = await _until(processed, timeout=60)
        assert doc["state"] == "ready", doc
        assert await ctx.db.media.count_documents({}) == 1
        jobs = await app.services.host_db.jobs.find(
            {"tenant": ctx.slug, "kind": "media.process"}
        ).to_list()
        assert [j["state"] for j in jobs] == ["done"]
        assert not (ctx.storage.tmp / f"tus-{upload_id}").exists()
    finally:
        await service.stop()


async def test_an_upload_whose_bytes_are_gone_answers_409_not_500(app, make_gallery):
    """What an older version left after a kill (the file ingested, the record still
    `uploading`): every PATCH was a 500 (FileNotFoundError)."""
    gallery = await make_gallery("beta")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    browser = app.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    tus = Tus(browser, gallery["prefix"])
    data = payload(200_000)
    upload_id, _ = await tus.create(root["_id"], len(data), "gone.txt")
    assert (await tus.patch(upload_id, 0, data[:100_000])).code == 204
    (ctx.storage.tmp / f"tus-{upload_id}").unlink()
    for _ in range(2):
        response = await tus.patch(upload_id, 100_000, data[100_000:])
        assert response.code == 409, text(response)
        assert "upload the file again" in text(response)
    state = await tus.call("GET", upload_id)
    assert state.code == 200 and b'"failed"' in state.body
    assert await ctx.db.media.count_documents({}) == 0
