"""The download switches in Chromium (issue 18, item 5): with each on, the album's Download
menu, the selection bar's Download button and the media page's Download button are
there; with all three off, none is, at 1366 and 390 px."""

from __future__ import annotations

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.settings import update_settings
from tests.browser.editing import PHONE, edit_ready, sign_in
from tests.handlers.test_downloads import _admin

WIDE = {"width": 1366, "height": 900}


async def _offered(page, app, gallery, album_id, media_id) -> dict[str, bool]:
    await page.goto(f"{app.base}{gallery['prefix']}/albums/{album_id}")
    await edit_ready(page)
    album_zip = await page.locator("#album-toolbar summary[title=Download]").count()
    await page.click("#album-toolbar button:has-text('Select')")
    await page.click("#media-grid .media-tile:first-child a")
    await page.wait_for_selector(".selection-bar:not([hidden])")
    selection_zip = await page.locator(".selection-bar button[title=Download]").count()
    shown = {"album": album_zip == 1, "selection": selection_zip == 1}
    await page.goto(f"{app.base}{gallery['prefix']}/media/{media_id}")
    await page.wait_for_selector(".media-actions")
    shown["file"] = await page.locator(".media-actions a[download]").count() == 1
    return shown


async def test_switched_off_downloads_are_not_offered(
    app, make_gallery, browser_page, shot, make_jpeg
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    # Small photos marked processed (no web-size copy needed): these pages do not wait on
    # the process pool, which a loaded machine makes slow.
    album = await albums.create_album(
        ctx, await _admin(ctx), (await albums.root_album(ctx))["_id"], {"title": "Walks"}
    )
    album_id = album["_id"]
    ids = [(await add_media_file(ctx, album, make_jpeg(30, 20), f"walk-{i}.jpg"))["_id"]
           for i in range(2)]
    await ctx.db.media.update_many({}, {"$set": {"state": "ready"}})
    for name, viewport in (("1366", WIDE), ("390", PHONE)):
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, app, gallery)
        await update_settings(gallery["ctx"], dict.fromkeys(
            ("allow_file_download", "allow_album_zip", "allow_selection_zip"), True))
        on = await _offered(page, app, gallery, album_id, ids[0])
        assert on == {"album": True, "selection": True, "file": True}, name
        await update_settings(gallery["ctx"], dict.fromkeys(
            ("allow_file_download", "allow_album_zip", "allow_selection_zip"), False))
        off = await _offered(page, app, gallery, album_id, ids[0])
        assert off == {"album": False, "selection": False, "file": False}, name
        await shot(page, f"downloads-off-media-{name}")
        await page.goto(f"{app.base}{gallery['prefix']}/albums/{album_id}")
        await edit_ready(page)
        await page.click("#album-toolbar button:has-text('Select')")
        await page.click("#media-grid .media-tile:first-child a")
        await shot(page, f"downloads-off-selecting-{name}")
        await context.close()
