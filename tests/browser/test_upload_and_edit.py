"""Uploading and editing in a real browser: the upload page with live progress and a tus
resume, editing a caption in place, drag-and-drop ordering and a bulk delete — against the
real service with a job worker, so thumbnails are really made."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import zipfile
from urllib.parse import quote

import pytest
from PIL import Image

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Small tus chunks so a 1 MB file takes several PATCH requests (the page's tuning hook).
SMALL_CHUNKS = "window.ATRIUM_UPLOAD = {tusThreshold: 400 * 1024, chunkSize: 192 * 1024};"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


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


async def test_create_an_album_and_upload_with_live_progress_and_a_tus_resume(
    app, make_gallery, browser_page, shot, make_jpeg, tmp_path
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    context = await browser_page.new_context(viewport=DESKTOP)
    await context.add_init_script(SMALL_CHUNKS)
    page = await context.new_page()
    await sign_in(page, app, gallery)

    # New album from the album page's toolbar.
    await page.click("#album-toolbar button:has-text('New album')")
    await page.fill("dialog input[name=value]", "Summer <b>2026</b>")
    await shot(page, "edit-new-album-desktop")
    await page.click("dialog button:has-text('Save')")
    await page.wait_for_url(re.compile(r".*/albums/[0-9a-f]{24}$"))
    album_id = await page.get_attribute("#album", "data-album-id")
    assert await page.text_content("h1") == "Summer <b>2026</b>"
    await page.click("#album-toolbar a:has-text('Upload')")
    await page.wait_for_url(re.compile(rf".*/upload\?album={album_id}$"))
    assert await page.eval_on_selector("#upload-album", "s => s.value") == album_id

    # Three photos over a throttled connection, so the progress is visible while it runs.
    photos = [make_jpeg(800, 600, name=f"photo-{i}.jpg", color=(40 * i, 90, 160)) for i in range(3)]
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 60 * 1024},
    )
    streams = []
    page.on("request", lambda r: streams.append(r.url) if r.url.endswith("/events") else None)
    await page.set_input_files("#pick-files", [str(p) for p in photos])
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.upload-item[data-state=uploading] .upload-bar')]"
        ".some(b => Number(b.getAttribute('aria-valuenow')) > 0)"
    )
    status = await page.text_content(".upload-item[data-state=uploading] .upload-status")
    assert "%" in status
    await shot(page, "upload-in-progress-desktop")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    await page.wait_for_function(
        "() => document.querySelectorAll('.upload-item[data-state=ready] img.upload-final').length === 3",
        timeout=90_000,
    )
    bars = await page.eval_on_selector_all(
        ".upload-item .upload-bar", "bs => bs.map(b => b.getAttribute('aria-valuenow'))"
    )
    assert bars == ["100", "100", "100"]
    await page.wait_for_function(
        "() => [...document.querySelectorAll('img.upload-final')].every(i => i.complete && i.naturalWidth > 0)"
    )
    # The page followed processing through the album's server-sent events.
    assert any(f"/api/v1/albums/{album_id}/events" in url for url in streams)
    stored = await ctx.db.media.find({"album_id": album_id}).to_list()
    assert sorted(m["file_name"] for m in stored) == ["photo-0.jpg", "photo-1.jpg", "photo-2.jpg"]
    assert all(m["state"] == "ready" for m in stored)

    # A file larger than one chunk goes through tus; the connection drops once mid-way and
    # the page asks HEAD where to resume.
    big = tmp_path / "large-scan.jpg"
    content = noisy_jpeg(big)
    assert len(content) > 3 * 192 * 1024
    dropped = []

    async def drop_one_patch(route):
        request = route.request
        if (
            request.method == "PATCH"
            and request.headers.get("upload-offset") != "0"
            and not dropped
        ):
            dropped.append(request.headers.get("upload-offset"))
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route(re.compile(r".*/api/v1/uploads/[0-9a-fA-F]{24}$"), drop_one_patch)
    await page.set_input_files("#pick-files", str(big))
    item = ".upload-item:has(.upload-name:text-is('large-scan.jpg'))"
    await page.wait_for_selector(f"{item}[data-state=ready] img.upload-final", timeout=90_000)
    assert dropped and await page.get_attribute(item, "data-resumed") == "1"
    assert await page.get_attribute(f"{item} .upload-bar", "aria-valuenow") == "100"
    doc = await ctx.db.media.find_one({"album_id": album_id, "file_name": "large-scan.jpg"})
    assert doc["original"]["size"] == len(content)
    assert doc["original"]["sha256"] == hashlib.sha256(content).hexdigest()
    upload = await ctx.db.uploads.find_one({"media_id": doc["_id"]})
    assert upload["state"] == "done"
    assert "4 of 4 done" in await page.text_content("#upload-summary")
    await shot(page, "upload-done-desktop")

    # Refusals are shown per file and send nothing: too large (checked before sending) and
    # a type the gallery does not take (the server names what it found).
    page_html = tmp_path / "notes.exe"
    page_html.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    await page.set_input_files("#pick-files", str(page_html))
    refused = ".upload-item:has(.upload-name:text-is('notes.exe'))"
    await page.wait_for_selector(f"{refused}[data-state=failed]")
    assert "not accepted" in await page.text_content(f"{refused} .upload-error")
    assert await ctx.db.media.count_documents({"album_id": album_id}) == 4
    # Over the tenant's quota: the server's refusal is shown on the file.
    from gallery.ingest import current_usage
    from tenants.provision import update_tenant

    used = await current_usage(ctx)
    await update_tenant(app.services.registry, gallery["slug"], quota_bytes=used + 1000)
    await page.set_input_files("#pick-files", str(make_jpeg(800, 600, name="over-quota.jpg")))
    over = ".upload-item:has(.upload-name:text-is('over-quota.jpg'))"
    await page.wait_for_selector(f"{over}[data-state=failed]")
    assert "quota" in await page.text_content(f"{over} .upload-error")
    await shot(page, "upload-refusals-desktop")
    await update_tenant(app.services.registry, gallery["slug"], quota_bytes=0)
    assert await ctx.db.media.count_documents({"album_id": album_id}) == 4
    await context.close()

    # Phone width, dark theme: a whole folder (its junk files left out), in progress and done.
    context = await browser_page.new_context(viewport=PHONE, color_scheme="dark")
    page = await context.new_page()
    await sign_in(page, app, gallery)
    await page.goto(f"{app.base}{gallery['prefix']}/upload?album={album_id}")
    await shot(page, "upload-empty-phone")
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 40 * 1024},
    )
    folder = tmp_path / "Beach day"
    folder.mkdir()
    for i in range(2):
        make_jpeg(640, 480, name=f"phone-shot-with-a-rather-long-name-{i}.jpg").rename(
            folder / f"phone-shot-with-a-rather-long-name-{i}.jpg"
        )
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    await page.set_input_files("#pick-folder", str(folder))
    await page.set_input_files("#pick-files", str(page_html))
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.upload-item[data-state=uploading] .upload-bar')]"
        ".some(b => Number(b.getAttribute('aria-valuenow')) > 0)"
    )
    await shot(page, "upload-in-progress-phone")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    await page.wait_for_function(
        "() => document.querySelectorAll('.upload-item[data-state=ready] img.upload-final').length === 2",
        timeout=90_000,
    )
    names = await page.eval_on_selector_all(".upload-name", "ns => ns.map(n => n.title)")
    assert sorted(names) == [
        "Beach day/phone-shot-with-a-rather-long-name-0.jpg",
        "Beach day/phone-shot-with-a-rather-long-name-1.jpg",
        "notes.exe",
    ]
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the upload page scrolls sideways at phone width"
    # A refused file can be taken off the list.
    await page.click(".upload-item[data-state=failed] button[aria-label='Remove notes.exe']")
    await page.wait_for_selector(".upload-item[data-state=failed]", state="detached")
    await shot(page, "upload-done-phone")
    await context.close()


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


async def test_edit_a_caption_reorder_by_drag_and_drop_and_bulk_delete(
    app, make_gallery, browser_page, shot, make_jpeg
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, ids = await seed_album(app, gallery, make_jpeg)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = await browser_page.new_context(
            viewport=viewport, color_scheme="dark" if name == "phone" else "light"
        )
        page = await context.new_page()
        await sign_in(page, app, gallery)
        album_url = f"{app.base}{gallery['prefix']}/albums/{album_id}"
        await page.goto(album_url)
        await edit_ready(page)
        await page.wait_for_selector("#album-toolbar button:has-text('Select')")
        await shot(page, f"edit-album-{name}")
        if name == "phone":
            await page.click("#album-toolbar button:has-text('Select')")
            # Click one end, shift-click the other: the whole range is selected.
            await page.click("#media-grid .media-tile:first-child a")
            await page.click("#media-grid .media-tile:last-child a", modifiers=["Shift"])
            assert await page.text_content(".selection-count") == "3 selected"
            await shot(page, f"edit-selecting-{name}")
            await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[0]}")
            await edit_ready(page)
            await page.wait_for_selector(".edit-actions")
            await shot(page, f"edit-media-{name}")
            await context.close()
            continue

        # Drag the first photo after the third: the order is saved and kept after reload.
        before = await tile_ids(page)
        assert before == ids
        target = page.locator(f'.media-tile[data-media-id="{ids[2]}"]')
        box = await target.bounding_box()
        await page.drag_and_drop(
            f'.media-tile[data-media-id="{ids[0]}"]',
            f'.media-tile[data-media-id="{ids[2]}"]',
            target_position={"x": box["width"] - 4, "y": box["height"] / 2},
        )
        expected = [ids[1], ids[2], ids[0], ids[3]]
        assert await tile_ids(page) == expected
        await page.wait_for_function(
            "() => /^\\d+$/.test(document.getElementById('media-grid').dataset.orderSaved || '')"
        )
        await page.reload()
        await edit_ready(page)
        assert await tile_ids(page) == expected

        # The keyboard does the same: alt+arrow moves the focused tile.
        await page.focus(f'.media-tile[data-media-id="{ids[3]}"] a')
        await page.keyboard.press("Alt+ArrowLeft")
        expected = [ids[1], ids[2], ids[3], ids[0]]
        assert await tile_ids(page) == expected
        await page.wait_for_function(
            "() => /^\\d+$/.test(document.getElementById('media-grid').dataset.orderSaved || '')"
        )
        await page.reload()
        await edit_ready(page)
        assert await tile_ids(page) == expected

        # Tiles that infinite scroll adds get the same behaviour (the atrium:tiles-added contract).
        wired = await page.evaluate(
            """() => {
                const li = document.querySelector('#media-grid .media-tile').cloneNode(true);
                li.removeAttribute('draggable');
                document.getElementById('media-grid').appendChild(li);
                document.dispatchEvent(new CustomEvent('atrium:tiles-added', {detail: {tiles: [li]}}));
                const wired = li.draggable && li.querySelector('a').draggable === false;
                li.remove();
                return wired;
            }"""
        )
        assert wired

        # Select one and delete it, after confirming.
        await page.click("#album-toolbar button:has-text('Select')")
        await page.click(f'.media-tile[data-media-id="{ids[1]}"] a')
        assert await page.text_content(".selection-count") == "1 selected"
        await shot(page, f"edit-selecting-{name}")
        await page.click(".selection-bar button:has-text('Delete')")
        await page.wait_for_selector("dialog[open]")
        await shot(page, f"edit-confirm-delete-{name}")
        await page.click("dialog button:has-text('Delete')")
        await page.wait_for_selector(f'.media-tile[data-media-id="{ids[1]}"]', state="detached")
        assert await ctx.db.media.find_one({"_id": ids[1]}) is None
        await page.reload()
        await edit_ready(page)
        assert await tile_ids(page) == [ids[2], ids[3], ids[0]]

        # Select all, tag them, and download the selection as a ZIP.
        await page.click("#album-toolbar button:has-text('Select')")
        await page.click(".selection-bar button[aria-label='All']")
        assert await page.text_content(".selection-count") == "3 selected"
        await page.click(".selection-bar button[aria-label='Tag…']")
        await page.fill("dialog input[name=value]", "sea, <i>mist</i>")
        await page.click("dialog button:has-text('Save')")
        await page.wait_for_selector(".toast:has-text('3 items tagged')")
        for mid in (ids[0], ids[2], ids[3]):
            tags = (await ctx.db.media.find_one({"_id": mid}))["tags"]
            assert "sea" in tags and "<i>mist</i>" in tags
        async with page.expect_download() as download_info:
            await page.click(".selection-bar button[aria-label='Download']")
        download = await download_info.value
        archive = await download.path()
        with zipfile.ZipFile(archive) as z:
            assert len([n for n in z.namelist() if not n.endswith("/")]) == 3
        await page.keyboard.press("Escape")
        assert await page.is_hidden(".selection-bar")

        # Edit a caption in place on the media page: Enter saves, it is kept after reload.
        await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[2]}")
        await edit_ready(page)
        await page.click(".media-caption")
        await page.fill(".media-caption textarea", "Fog over the <river> & hills")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(".toast:has-text('Caption saved')")
        assert (await ctx.db.media.find_one({"_id": ids[2]}))[
            "caption"
        ] == "Fog over the <river> & hills"
        # Escape cancels an edit.
        await page.click(".media-title")
        await page.fill(".media-title input", "Not this")
        await page.keyboard.press("Escape")
        assert await page.text_content(".media-title") != "Not this"
        await page.reload()
        await edit_ready(page)
        assert (await page.text_content(".media-caption")).strip() == "Fog over the <river> & hills"
        await shot(page, f"edit-media-{name}")
        await context.close()


async def test_tags_with_suggestions_cover_rotate_move_and_a_zip_upload(
    app, make_gallery, browser_page, shot, make_jpeg, tmp_path
):
    import json

    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, ids = await seed_album(app, gallery, make_jpeg, count=2)
    api = app.browser()
    await api.login(gallery["prefix"], gallery["username"], gallery["password"])
    tagged = await api.api(
        "PATCH", f"{gallery['prefix']}/api/v1/media/{ids[0]}", json_body={"tags": ["harbour"]}
    )
    assert tagged.code == 200
    root = await ctx.db.albums.find_one({"parent_id": None})
    made = await api.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums",
        json_body={"parent_id": root["_id"], "title": "Harbour"},
    )
    harbour_id = json.loads(made.body)["album"]["id"]

    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await sign_in(page, app, gallery)
    await edit_ready(page)

    # Child albums are reordered the same way (here with the keyboard) and it is kept.
    order = "ts => ts.map(t => t.dataset.albumId)"
    assert await page.eval_on_selector_all("#child-albums .album-tile", order) == [
        album_id,
        harbour_id,
    ]
    await page.focus(f'.album-tile[data-album-id="{album_id}"] a')
    await page.keyboard.press("Alt+ArrowRight")
    await page.wait_for_function(
        "() => /^\\d+$/.test(document.getElementById('child-albums').dataset.orderSaved || '')"
    )
    await page.reload()
    await edit_ready(page)
    assert await page.eval_on_selector_all("#child-albums .album-tile", order) == [
        harbour_id,
        album_id,
    ]

    # A caption hidden by the metadata setting is still edited from what is stored.
    from gallery.settings import defaults, update_settings

    fields = [f for f in defaults()["metadata_fields"] if f != "caption"]
    await ctx.db.media.update_one({"_id": ids[0]}, {"$set": {"caption": "Stored caption"}})
    await update_settings(ctx, {"metadata_fields": fields})
    await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[0]}")
    await edit_ready(page)
    assert (await page.text_content(".media-caption")).strip() == ""
    await page.click(".media-caption")
    assert await page.input_value(".media-caption textarea") == "Stored caption"
    await page.keyboard.press("Escape")
    await page.click(".media-title")
    await page.keyboard.press("Enter")  # unchanged: nothing is written
    assert (await ctx.db.media.find_one({"_id": ids[0]}))["caption"] == "Stored caption"
    await update_settings(ctx, {"metadata_fields": defaults()["metadata_fields"]})

    await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[1]}")
    await edit_ready(page)

    # Tags: suggestions come from the gallery's tags; a hostile tag stays text.
    await page.fill(".tag-adder input", "har")
    await page.wait_for_selector('#tag-suggestions option[value="harbour"]', state="attached")
    await page.fill(".tag-adder input", "harbour")
    await page.keyboard.press("Enter")
    await page.wait_for_selector('.media-tags li[data-tag="harbour"]')
    await page.fill(".tag-adder input", "<b>bold</b>")
    await page.keyboard.press("Enter")
    await page.wait_for_selector('.media-tags li[data-tag="<b>bold</b>"]')
    assert await page.query_selector(".media-tags b") is None
    assert (await ctx.db.media.find_one({"_id": ids[1]}))["tags"] == ["harbour", "<b>bold</b>"]
    await page.click('.media-tags li[data-tag="<b>bold</b>"] .tag-remove')
    await page.wait_for_selector('.media-tags li[data-tag="<b>bold</b>"]', state="detached")
    assert (await ctx.db.media.find_one({"_id": ids[1]}))["tags"] == ["harbour"]

    # Cover and rotation.
    await page.click(".edit-actions button[aria-label='Set as album cover']")
    await page.wait_for_selector(".toast:has-text('cover')")
    assert (await ctx.db.albums.find_one({"_id": album_id}))["cover_id"] == ids[1]
    await page.click(".edit-actions button[aria-label='Rotate right']")
    await page.wait_for_selector(".toast:text-is('Rotated')", timeout=60_000)
    rotated = await ctx.db.media.find_one({"_id": ids[1]})
    assert rotated["state"] == "ready" and rotated["transform"]["rotate"] == 90
    await page.wait_for_function(
        "() => { const i = document.querySelector('.media-image'); return i.complete && i.naturalHeight > i.naturalWidth; }"
    )

    # Move with the album picker: the page reloads in the new album.
    await page.click(".edit-actions button[aria-label='Move or copy…']")
    await page.wait_for_selector("dialog[open] .album-choice")
    assert await page.is_disabled(f"dialog .album-choice input[value='{album_id}']")
    await page.check(f"dialog .album-choice input[value='{harbour_id}']")
    await shot(page, "edit-move-dialog-desktop")
    await page.click("dialog button:has-text('Move here')")
    await page.wait_for_selector(".toast:has-text('Moved')")
    assert await page.get_attribute("#media", "data-album-id") == harbour_id
    assert (await ctx.db.media.find_one({"_id": ids[1]}))["album_id"] == harbour_id

    # A ZIP with a folder is unpacked into an album; refused entries are listed.
    archive = tmp_path / "trip.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(make_jpeg(300, 200, name="a.jpg"), "Day 1/a.jpg")
        z.write(make_jpeg(300, 200, name="b.jpg", color=(0, 0, 200)), "Day 1/b.jpg")
        z.writestr("../escape.jpg", make_jpeg(50, 50, name="c.jpg").read_bytes())
    await page.goto(f"{app.base}{gallery['prefix']}/upload?album={album_id}")
    await page.set_input_files("#pick-files", str(archive))
    item = ".upload-item:has(.upload-name:text-is('trip.zip'))"
    await page.wait_for_selector(f"{item}[data-state=ready]", timeout=90_000)
    assert "2 of 2 processed" in await page.text_content(f"{item} .upload-status")
    assert "escape.jpg" in await page.text_content(f"{item} .upload-details")
    day = await ctx.db.albums.find_one({"parent_id": album_id, "title": "Day 1"})
    assert len(await ctx.db.media.find({"album_id": day["_id"]}).to_list()) == 2
    await page.click(f"{item} details summary")
    await shot(page, "upload-zip-desktop")

    # A large archive is imported by the zip.import job (202): the page follows the job
    # until its result, then the thumbnails. `background=1` takes that path with a small one.
    archive2 = tmp_path / "later.zip"
    with zipfile.ZipFile(archive2, "w") as z:
        z.write(make_jpeg(300, 200, name="d.jpg"), "Day 2/d.jpg")
        z.write(make_jpeg(300, 200, name="e.jpg", color=(0, 120, 0)), "Day 2/e.jpg")
    await page.add_init_script(
        "window.ATRIUM_UPLOAD = Object.assign(window.ATRIUM_UPLOAD || {},"
        " {zipQuery: '?zip=1&background=1'});"
    )
    await page.goto(f"{app.base}{gallery['prefix']}/upload?album={album_id}")
    await page.set_input_files("#pick-files", str(archive2))
    item2 = ".upload-item:has(.upload-name:text-is('later.zip'))"
    await page.wait_for_selector(f"{item2}[data-state=ready]", timeout=90_000)
    assert "2 of 2 processed" in await page.text_content(f"{item2} .upload-status")
    jobs = await app.services.host_db.jobs.find(
        {"tenant": gallery["slug"], "kind": "zip.import"}
    ).to_list()
    assert [j["state"] for j in jobs] == ["done"]
    day2 = await ctx.db.albums.find_one({"parent_id": album_id, "title": "Day 2"})
    assert len(await ctx.db.media.find({"album_id": day2["_id"]}).to_list()) == 2
    await context.close()


async def test_a_large_upload_resumes_after_the_page_is_reloaded(
    app, make_gallery, browser_page, tmp_path
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    context = await browser_page.new_context(viewport=DESKTOP)
    await context.add_init_script(SMALL_CHUNKS)
    page = await context.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await sign_in(page, app, gallery)
    await page.goto(f"{app.base}{gallery['prefix']}/upload?album={root['_id']}")
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 150 * 1024},
    )
    big = tmp_path / "panorama.jpg"
    content = noisy_jpeg(big)
    await page.set_input_files("#pick-files", str(big))

    async def some_chunks_stored():
        record = await ctx.db.uploads.find_one({"file_name": "panorama.jpg"})
        return record if record and record["offset"] >= 2 * 192 * 1024 else None

    first = await eventually(some_chunks_stored, what="two stored chunks")
    await page.reload()
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    await page.set_input_files("#pick-files", str(big))
    item = ".upload-item:has(.upload-name:text-is('panorama.jpg'))"
    await page.wait_for_selector(f"{item}[data-state=ready]", timeout=90_000)
    assert int(await page.get_attribute(item, "data-start-offset")) >= first["offset"]
    records = await ctx.db.uploads.find({}).to_list()
    assert [r["_id"] for r in records] == [first["_id"]] and records[0]["state"] == "done"
    doc = await ctx.db.media.find_one({"_id": records[0]["media_id"]})
    assert doc["original"]["sha256"] == hashlib.sha256(content).hexdigest()
    await context.close()


async def test_an_editor_is_offered_only_what_their_role_allows(
    app, make_gallery, browser_page, make_jpeg
):
    from gallery.roles import create_role
    from gallery.users import create_user

    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, ids = await seed_album(app, gallery, make_jpeg, count=2)
    role = await create_role(ctx, "Captioners", ["view", "add_media", "edit_media"], [album_id])
    await create_user(
        ctx, "cara", "cara@alpha.test", "Copper-Kettle-Moon-58", role_ids=[role["_id"]]
    )
    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await sign_in(page, app, {**gallery, "username": "cara", "password": "Copper-Kettle-Moon-58"})
    await page.goto(f"{app.base}{gallery['prefix']}/albums/{album_id}")
    await edit_ready(page)
    await page.wait_for_selector("#album[data-perms-loaded]", state="attached")
    assert await page.is_visible("#album-toolbar a:has-text('Upload')")
    assert await page.is_hidden("#album-toolbar button:has-text('New album')")
    assert await page.eval_on_selector_all(
        "#media-grid .media-tile", "ts => ts.every(t => !t.draggable)"
    )
    await page.focus(f'.media-tile[data-media-id="{ids[0]}"] a')
    await page.keyboard.press("Alt+ArrowRight")
    assert await tile_ids(page) == ids
    await page.click("#album-toolbar button:has-text('Select')")
    assert await page.is_visible(".selection-bar button[aria-label='Tag…']")
    assert await page.is_hidden(".selection-bar button[aria-label='Delete…']")
    # On the media page: caption and tags yes; cover (edit_album) and delete no.
    await page.goto(f"{app.base}{gallery['prefix']}/media/{ids[0]}")
    await edit_ready(page)
    assert await page.is_visible(".edit-actions button[aria-label='Rotate left']")
    assert await page.query_selector(".edit-actions button[aria-label='Delete']") is None
    assert (
        await page.query_selector(".edit-actions button[aria-label='Set as album cover']") is None
    )
    await page.click(".media-caption")
    await page.fill(".media-caption textarea", "By Cara")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".toast:has-text('Caption saved')")
    assert (await ctx.db.media.find_one({"_id": ids[0]}))["caption"] == "By Cara"
    await context.close()
