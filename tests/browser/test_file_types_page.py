"""More file types in Chromium (issue 18 item 10) at desktop and phone width: the allowed
types checklist shows the Camera RAW and Office documents groups, the admin allows some and
lists download-only endings, saved and shown back; an album with a RAW, a PSD, a Word file and
a download-only file shows their thumbnails, and the download-only item's page offers only a
download. Files: tests/media/filetype_samples.py."""

from __future__ import annotations

import hashlib

import pytest

from gallery.intake.ingest import ingest_file
from gallery.library import albums
from gallery.settings import get_settings
from media.office import office_available
from tests.browser.signing import sign_in
from tests.media.filetype_samples import jpeg_bytes, make_dng, make_office, make_psd
from tests.waiting import until

pytestmark = pytest.mark.browser
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _add(app, ctx, album, user, data: bytes, name: str) -> dict:
    tmp = ctx.storage.temp_path(".test")
    tmp.write_bytes(data)
    media = await ingest_file(ctx, app.services, user, album, tmp, name, size=len(data),
                              sha256=hashlib.sha256(data).hexdigest())

    async def ready():
        doc = await ctx.db.media.find_one({"_id": media["_id"], "state": {"$in": ["ready", "failed"]}})
        return doc

    done = await until(ready, 60)
    assert done["state"] == "ready", done.get("failure")
    return done


@pytest.mark.parametrize("name,viewport", [("desktop", {"width": 1366, "height": 800}),
                                           ("phone", {"width": 390, "height": 844})])
async def test_file_type_groups_download_only_endings_and_the_new_kinds_on_pages(
    app, make_gallery, viewer_of, browser_page, shot, name, viewport
):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    await sign_in(page, base, PASSWORD)
    await page.goto(f"{base}/admin/settings")
    groups = page.locator(".checklist-groups .checklist-group h3")
    headings = await groups.all_text_contents()  # as written (CSS shows them in capitals)
    assert headings == ["Photos", "Camera RAW", "Video", "Audio", "Documents", "Office documents"]
    raw_group = page.locator(".checklist-group[aria-label='Camera RAW']")
    await raw_group.scroll_into_view_if_needed()
    for value in ("dng", "nef", "psd", "docx"):
        await page.check(f"input[name=allowed_extensions][value={value}]")
    assert await page.locator("label.check:has(input[value=nef])").inner_text() == "Nikon (NEF)"
    await page.fill("input[name=download_only_extensions]", "stl, GPX")
    full = await shot(page, f"filetypes-settings-{name}")
    await page.locator(".checklist-groups").screenshot(path=str(full.with_name(f"filetypes-checklist-{name}.png")))
    await page.click(".settings-savebar button[type=submit]")
    await page.wait_for_selector("text=Settings saved.")
    stored = await get_settings(ctx)
    assert {"dng", "nef", "psd", "docx"} <= set(stored["allowed_extensions"])
    assert stored["download_only_extensions"] == ["stl", "GPX"]
    assert await page.input_value("input[name=download_only_extensions]") == "stl, GPX"

    # A wrong ending is refused with the field named, in words.
    await page.fill("input[name=download_only_extensions]", "html")
    await page.click(".settings-savebar button[type=submit]")
    await page.wait_for_selector("text=Download-only file types must be name endings")

    user = await ctx.db.users.find_one({"username": "admin"})
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Mixed"})
    await _add(app, ctx, album, user, make_dng(preview=jpeg_bytes((96, 64), (200, 60, 40))), "IMG_0001.dng")
    await _add(app, ctx, album, user, make_psd(), "poster.psd")
    docx = await _add(app, ctx, album, user, make_office("docx"), "notes.docx")
    stl = await _add(app, ctx, album, user, b"solid part\n" + bytes(range(256)) * 4, "part.stl")
    await page.goto(f"{base}/albums/{album['_id']}")
    tiles = page.locator("img[src*='/thumbnail']")
    await until(lambda: page.evaluate(
        "() => [...document.querySelectorAll(\"img[src*='/thumbnail']\")].every(i => i.complete && i.naturalWidth > 0)"
    ), 20)
    assert await tiles.count() == 4
    # The drop layer's pre-check lets download-only endings through to the server's check.
    offered = (await page.get_attribute("#upload", "data-allowed")).split(",")
    assert {"stl", "dng", "docx"} <= set(offered)
    await shot(page, f"filetypes-album-{name}")
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1

    await page.goto(f"{base}/media/{stl['_id']}")
    download = page.locator(f"a[href*='/media/{stl['_id']}/original']").first
    await download.wait_for()
    await shot(page, f"filetypes-download-only-{name}")
    assert await page.locator("video, audio, iframe, object, embed").count() == 0
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    assert (await page.locator(".av-card .muted").first.inner_text()).startswith("STL")

    # A Word file: page 1 where LibreOffice drew it, else a card with its type in words (not
    # a 70-character MIME type); never the file itself in a frame.
    await page.goto(f"{base}/media/{docx['_id']}")
    if office_available():
        first_page = page.locator(f".av-doc img[src*='/media/{docx['_id']}/optimized']")
        await first_page.wait_for()
        assert await first_page.evaluate("i => i.complete && i.naturalWidth > 0")
    else:
        card = page.locator(".av-card")
        await card.wait_for()
        assert (await card.locator(".muted").first.inner_text()).startswith("Word (DOCX)")
    assert await page.locator("iframe, object, embed").count() == 0
    await shot(page, f"filetypes-office-{name}")
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    await context.close()
