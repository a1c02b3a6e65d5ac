"""Replacing a media object's file with one of the new types (issue 18 item 10): checked like
an upload (the name agreeing with the content, Office ZIPs checked), a RAW processed again.
Files: tests/media/filetype_samples.py."""

from __future__ import annotations

import json

import pytest

from gallery.settings import update_settings
from tests.client import text
from tests.media.filetype_samples import jpeg_bytes, make_dng, make_office
from tests.waiting import until


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def test_a_file_is_replaced_by_a_raw_and_hostile_replacements_are_refused(app, make_gallery):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    await update_settings(ctx, {"allowed_extensions": ["jpg", "dng", "nef", "docx", "html"]})
    b = app.browser()
    await b.login(g["prefix"], "admin", g["password"])
    root = await ctx.db.albums.find_one({"parent_id": None})
    uploaded = await b.api("POST", f"{g['prefix']}/api/v1/albums/{root['_id']}/upload",
                           body=jpeg_bytes(), headers={"X-File-Name": "harbour.jpg"})
    assert uploaded.code == 201, text(uploaded)
    media_id = json.loads(uploaded.body)["_id"]
    url = f"{g['prefix']}/api/v1/media/{media_id}/file"
    await until(lambda: ctx.db.media.find_one({"_id": media_id, "state": "ready"}), 60)

    for body, name, status, words in [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "photo.nef", 415, "named .nef"),
        (make_office("docx", padding=4_000_000), "bomb.docx", 413, "ZIP bomb"),
    ]:
        refused = await b.api("POST", url, body=body, headers={"X-File-Name": name})
        assert refused.code == status, text(refused)
        assert words in json.loads(refused.body)["error"]["message"]

    replaced = await b.api("POST", url, body=make_dng(), headers={"X-File-Name": "DSC_0001.NEF"})
    assert replaced.code == 202, text(replaced)
    assert json.loads(replaced.body)["media"]["mime"] == "image/x-nikon-nef"

    async def processed():
        doc = await ctx.db.media.find_one({"_id": media_id, "state": {"$in": ["ready", "failed"]}})
        return doc if doc and doc["mime"] == "image/x-nikon-nef" else None

    doc = await until(processed, 60)
    assert doc["state"] == "ready", doc.get("failure")
    assert doc["metadata"]["camera"]["make"] == "Atrium" and doc["file_name"].lower().endswith(".nef")
    assert not list(ctx.storage.tmp.iterdir())
