"""The upload page in a real browser: live progress, thumbnails appearing without a reload,
tus resumes (a dropped chunk, a reloaded page) — against the real service with a job
worker, so thumbnails are really made."""

from __future__ import annotations

import asyncio
import hashlib
import re

import pytest

from tests.browser.editing import (
    DESKTOP,
    PHONE,
    SMALL_CHUNKS,
    eventually,
    noisy_jpeg,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


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
    from gallery.intake.ingest import current_usage
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

    # Phone width, dark theme: a whole folder (its junk files left out) becomes an album,
    # in progress and done.
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
    # The folder became an album below the chosen one, holding its two photos.
    beach = await ctx.db.albums.find({"parent_id": album_id, "title": "Beach day"}).to_list()
    assert len(beach) == 1
    assert await ctx.db.media.count_documents({"album_id": beach[0]["_id"]}) == 2
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the upload page scrolls sideways at phone width"
    # A refused file can be taken off the list.
    await page.click(".upload-item[data-state=failed] button[aria-label='Remove notes.exe']")
    await page.wait_for_selector(".upload-item[data-state=failed]", state="detached")
    await shot(page, "upload-done-phone")
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


async def test_an_upload_whose_last_answer_is_lost_still_learns_its_media_id(
    app, make_gallery, browser_page, tmp_path
):
    """The last PATCH reaches the server but its answer is lost, and the HEAD that follows
    comes before the media id is known (as while another process stores the file): the
    page asks again with the empty PATCH at the full length, and follows the one media
    object made."""
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    context = await browser_page.new_context(viewport=DESKTOP)
    await context.add_init_script(SMALL_CHUNKS)
    page = await context.new_page()
    await sign_in(page, app, gallery)
    await page.goto(f"{app.base}{gallery['prefix']}/upload?album={root['_id']}")
    big = tmp_path / "harbour.jpg"
    content = noisy_jpeg(big)
    lost, heads = [], []

    async def lose_the_end(route):
        request = route.request
        body = request.post_data_buffer or b""
        offset = request.headers.get("upload-offset")
        if request.method == "PATCH" and not lost and int(offset) + len(body) == len(content):
            response = await route.fetch()  # the server completes the upload...
            lost.append(response.status)
            await route.abort("connectionreset")  # ...and its answer never arrives
        elif request.method == "HEAD" and lost and not heads:
            response = await route.fetch()
            heads.append(response.headers.get("upload-media-id"))
            headers = {k: v for k, v in response.headers.items() if k != "upload-media-id"}
            await route.fulfill(response=response, headers=headers)
        else:
            await route.continue_()

    await page.route(re.compile(r".*/api/v1/uploads/[0-9a-fA-F]{24}$"), lose_the_end)
    await page.set_input_files("#pick-files", str(big))
    item = ".upload-item:has(.upload-name:text-is('harbour.jpg'))"
    await page.wait_for_selector(f"{item}[data-state=ready] img.upload-final", timeout=60_000)
    assert lost == [204] and heads and heads[0]
    [doc] = await ctx.db.media.find({"file_name": "harbour.jpg"}).to_list()
    assert doc["_id"] == heads[0]
    assert doc["original"]["sha256"] == hashlib.sha256(content).hexdigest()
    await context.close()
