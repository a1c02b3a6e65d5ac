"""Issue 17, item 3 (and GSP's RedirectToUserAlbumAfterLogin): a member with a personal album
finds "My album" in the header, and with the gallery's setting on lands there after
signing in — unless they were on their way to another page."""

import re

import pytest

from gallery.people.accounts import create_user_album
from gallery.people.users import create_user
from gallery.settings import get_settings, update_settings

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "Violet-Tuba-Lantern-42"


async def _sign_in(page, app, gallery, name, next_path=""):
    query = f"?next={next_path}" if next_path else ""
    await page.goto(f"{app.base}{gallery['prefix']}/login{query}")
    await page.fill("input[name=login]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_load_state()


async def test_my_album_in_the_header_and_as_the_landing_page(app, make_gallery, browser_page, shot):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(ctx, {"user_albums": True})
    user = await create_user(ctx, "rita", "rita@example.org", PASSWORD)
    album = await create_user_album(ctx, user, await get_settings(ctx))
    mine = f"{gallery['prefix']}/albums/{album['_id']}"
    for name, viewport in SIZES.items():
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await _sign_in(page, app, gallery, "rita")
        assert page.url.endswith(f"{gallery['prefix']}/")  # the setting is off: home
        link = page.locator("a.nav-my-album")
        assert await link.is_visible() and (await link.get_attribute("href")) == mine
        header_wide = await page.evaluate(
            "document.querySelector('.topbar').scrollWidth > document.querySelector('.topbar').clientWidth")
        assert not header_wide
        await shot(page, f"my-album-header-{name}")
        await link.click()
        await page.wait_for_url(re.compile(rf".*/albums/{album['_id']}$"))
        assert await page.text_content("h1") == "rita"
        await context.close()

    await update_settings(ctx, {"user_album_after_login": True})
    context = await browser_page.new_context(viewport=SIZES["phone"])
    page = await context.new_page()
    await _sign_in(page, app, gallery, "rita")
    assert page.url.endswith(mine)
    await page.click("button:has-text('Sign out')")
    # On the way to another page, that page wins.
    await _sign_in(page, app, gallery, "rita", next_path=f"{gallery['prefix']}/search")
    assert page.url.endswith(f"{gallery['prefix']}/search")
    await context.close()

    # The admin has no personal album: no link, and signing in lands at home.
    context = await browser_page.new_context(viewport=SIZES["desktop"])
    page = await context.new_page()
    await page.goto(f"{app.base}{gallery['prefix']}/login")
    await page.fill("input[name=login]", gallery["username"])
    await page.fill("input[name=password]", gallery["password"])
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(rf".*{gallery['prefix']}/$"))
    assert await page.locator("a.nav-my-album").count() == 0
    await context.close()
