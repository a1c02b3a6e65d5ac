"""A file replaced while its first processing runs: the record and the derivatives end up
those of the new file, and no processing job fails for the old one (the replacement removes
the old derivatives under the running job)."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.client import text
from tests.waiting import until


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 2, "limits.image_workers": 2})


def _jpeg(width: int, height: int, seed: int) -> bytes:
    image = Image.effect_noise((width, height), 60 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


async def test_a_file_replaced_during_its_processing_ends_as_the_new_file(app, make_gallery):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    b = app.browser()
    await b.login(g["prefix"], "admin", g["password"])
    root = await ctx.db.albums.find_one({"parent_id": None})
    uploaded = await b.api("POST", f"{g['prefix']}/api/v1/albums/{root['_id']}/upload",
                           body=_jpeg(4800, 3200, 1), headers={"X-File-Name": "big.jpg"})
    assert uploaded.code == 201, text(uploaded)
    media_id = json.loads(uploaded.body)["_id"]
    jobs = app.services.host_db.jobs

    async def running():
        return await jobs.find_one({"tenant": "alpha", "kind": "media.process", "state": "running",
                                    "payload.media_id": media_id})
    await until(running, 30)
    replaced = await b.api("POST", f"{g['prefix']}/api/v1/media/{media_id}/file",
                           body=_jpeg(300, 200, 2), headers={"X-File-Name": "small.jpg"})
    assert replaced.code == 202, text(replaced)

    async def settled():
        unfinished = await jobs.count_documents({"tenant": "alpha", "kind": "media.process",
                                                 "state": {"$in": ["queued", "running"]}})
        doc = await ctx.db.media.find_one({"_id": media_id})
        return doc if unfinished == 0 and doc["state"] != "pending" else None
    doc = await until(settled, 90)
    assert doc["state"] == "ready", doc.get("failure")
    assert (doc["width"], doc["height"], doc["file_name"]) == (300, 200, "small.jpg")
    thumb = ctx.storage.resolve(doc["derivatives"]["thumbnail"]["path"])
    with Image.open(thumb) as image:  # the file on disk is the new photo's, as the record says
        assert image.size == (doc["derivatives"]["thumbnail"]["width"], doc["derivatives"]["thumbnail"]["height"])
        assert image.size[0] / image.size[1] == pytest.approx(1.5, abs=0.02)
    runs = await jobs.find({"tenant": "alpha", "kind": "media.process"}).sort("created", 1).to_list()
    assert [r["state"] for r in runs].count("failed") == 0
    assert runs[0]["result"]["state"] == "superseded"  # the old file's run gave way
    errors = [j.get("error") for j in await jobs.find({"tenant": "alpha", "error": {"$ne": None}}).to_list()]
    assert not any(errors), errors
