"""Issue 17, item 2 in Chromium: the album tree opens beside the page on desktop and as a
drawer on phones, unfolds along the way to the current album, loads deeper levels on
demand, and leads to the album picked."""

import re

import pytest

from gallery.library import albums

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}


async def test_album_tree_pane_and_drawer(app, make_gallery, viewer_of, browser_page, shot):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    trips = await albums.create_album(ctx, admin, root["_id"], {"title": "Trips"})
    italy = await albums.create_album(ctx, admin, trips["_id"], {"title": "Italy"})
    rome = await albums.create_album(ctx, admin, italy["_id"], {"title": "Rome"})
    family = await albums.create_album(ctx, admin, root["_id"], {"title": "Family"})
    await albums.create_album(ctx, admin, family["_id"], {"title": "Birthdays"})
    for name, viewport in SIZES.items():
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await page.goto(f"{app.base}{g['prefix']}/albums/{rome['_id']}")
        await page.click(".tree-toggle")
        current = page.locator("#album-tree a[aria-current=page]")
        await current.wait_for()
        assert await current.text_content() == "Rome"  # unfolded along the breadcrumb
        assert await page.locator("#album-tree a:has-text('Birthdays')").count() == 0  # not loaded yet
        await page.click("#album-tree button[aria-label='Sub-albums of Family']")
        await page.locator("#album-tree a:has-text('Birthdays')").wait_for()
        if name == "phone":
            assert await page.is_visible(".tree-backdrop")
        else:  # the page moves aside instead of being covered
            left = await page.evaluate("document.querySelector('main').getBoundingClientRect().left")
            assert left >= 17 * 16 - 1
        await shot(page, f"album-tree-{name}")
        await page.click("#album-tree a:has-text('Birthdays')")
        await page.wait_for_url(re.compile(r".*/albums/[0-9a-f]{24}$"))
        assert await page.text_content("h1") == "Birthdays"
        await context.close()
