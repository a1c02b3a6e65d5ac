"""Header options and custom CSS in Chromium (issue 18, item 9), at 1366 and 390 px: the
gallery's stylesheet applies (and its hostile text runs nothing), Search and Sign in are
hidden, the title leads where the admin said."""

from __future__ import annotations

import asyncio

from gallery.settings import update_settings
from tests.browser.editing import PHONE

WIDE = {"width": 1366, "height": 900}
CSS = "</style><script>alert(1)</script> {}\nheader.topbar { background: rgb(1, 2, 3); }"


async def test_header_options_and_custom_css(app, make_gallery, browser_page, shot):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    await update_settings(gallery["ctx"], {
        "custom_css": CSS,
        "gallery_title_url": f"{p}/tags",
        "show_login": False,
        "show_search": False,
    })
    for name, viewport in (("1366", WIDE), ("390", PHONE)):
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        dialogs: list[str] = []
        opened = asyncio.Event()

        async def on_dialog(dialog, dialogs=dialogs, opened=opened):
            dialogs.append(dialog.message)
            opened.set()
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        await page.goto(f"{app.base}{p}/")
        await page.wait_for_load_state("networkidle")
        background = await page.eval_on_selector(
            ".topbar", "e => getComputedStyle(e).backgroundColor"
        )
        assert background == "rgb(1, 2, 3)", background
        assert await page.locator(".topnav a.nav-search").count() == 0
        assert await page.locator(".topnav a:has-text('Sign in')").count() == 0
        await shot(page, f"header-options-{name}")
        await page.click(".brand")
        await page.wait_for_url(f"{app.base}{p}/tags")
        assert dialogs == []
        # The listener does see a dialog when one opens (the check above can fail).
        await page.evaluate("setTimeout(() => alert('probe'), 0)")
        await asyncio.wait_for(opened.wait(), 10)
        assert dialogs == ["probe"]
        await context.close()
