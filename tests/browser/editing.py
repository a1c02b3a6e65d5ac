"""What the upload and editing browser tests share: viewports, signing in, waiting for
the page's edit script, seeding an album with processed photos."""

from __future__ import annotations

import asyncio
import os
import re
from urllib.parse import quote

from PIL import Image

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Small tus chunks so a 1 MB file takes several PATCH requests (the page's tuning hook).
SMALL_CHUNKS = "window.ATRIUM_UPLOAD = {tusThreshold: 400 * 1024, chunkSize: 192 * 1024};"


def noisy_jpeg(path, width=900, height=700) -> bytes:
    """A JPEG that does not compress well (about 1 MB): larger than one tus chunk."""
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        path, "JPEG", quality=95
    )
    return path.read_bytes()


async def sign_in(page, app, gallery) -> None:
    await page.goto(f"{app.base}{gallery['prefix']}/login")
    await page.fill("input[name=login]", gallery["username"])
    await page.fill("input[name=password]", gallery["password"])
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(rf".*{gallery['prefix']}/$"))


async def edit_ready(page) -> None:
    """edit.js loads the page's part (edit-album.js / edit-media.js); wait until it is wired."""
    await page.wait_for_selector("html[data-edit-ready]", state="attached")


async def eventually(check, timeout=60.0, what="condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def seed_album(app, gallery, make_jpeg, count=4):
    """An album with `count` processed photos, made through the HTTP API."""
    browser = app.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    root = await gallery["ctx"].db.albums.find_one({"parent_id": None})
    created = await browser.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums",
        json_body={"parent_id": root["_id"], "title": "Walks"},
    )
    assert created.code == 201, created.body
    import json

    album_id = json.loads(created.body)["album"]["id"]
    ids = []
    for i in range(count):
        data = make_jpeg(320, 240, name=f"walk-{i}.jpg", color=(60 * i, 140, 90)).read_bytes()
        response = await browser.api(
            "POST",
            f"{gallery['prefix']}/api/v1/albums/{album_id}/upload",
            body=data,
            headers={"X-File-Name": quote(f"walk-{i}.jpg")},
        )
        assert response.code == 201, response.body
        ids.append(json.loads(response.body)["_id"])

    async def all_ready():
        docs = await gallery["ctx"].db.media.find({"album_id": album_id}).to_list()
        return len(docs) == count and all(d["state"] == "ready" for d in docs)

    await eventually(all_ready, what="processing")
    return album_id, ids


async def tile_ids(page):
    return await page.eval_on_selector_all(
        "#media-grid .media-tile", "ts => ts.map(t => t.dataset.mediaId)"
    )
