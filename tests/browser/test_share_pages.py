"""The Share dialog, a share link's visit and the Shared links page in Chromium at 1366 and
390 px (issue 17, item 5), with screenshots under test-output/screenshots/share-*.png."""

from __future__ import annotations

import pytest

from tests.browser.editing import PHONE, sign_in
from tests.handlers.share_setup import SHARE_PASSWORD, build

WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _fits(page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"


async def _make_link(page, *, password: str = "", subalbums: bool = False) -> str:
    await page.click("[data-share-open]")
    dialog = page.locator("#share-dialog")
    await dialog.wait_for(state="visible")
    if subalbums:
        await dialog.locator("input[name=subalbums]").check()
    await dialog.locator("select[name=expires_days]").select_option("30")
    if password:
        await dialog.locator("input[name=password]").fill(password)
        await dialog.locator("input[name=password]").press("Enter")  # Enter makes it too
    else:
        await dialog.locator("[data-share-create]").click()
    url = dialog.locator("input[name=url]")
    await url.wait_for(state="visible")
    assert not await dialog.locator("[data-share-create]").is_visible()  # made: only Close
    return await url.input_value()


async def test_share_dialog_link_visit_and_shared_links_page(app, make_gallery, viewer_of, make_jpeg, browser_page, shot):
    s = await build(app, make_gallery, viewer_of, make_jpeg, process={"pelican", "lighthouse"})
    g, made, media = s["g"], s["albums"], s["media"]
    prefix = g["prefix"]
    for name, viewport in (("1366", WIDE), ("390", PHONE)):
        width = viewport["width"]
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, app, g)

        # The album page's dialog: options first, then the link with its Copy button.
        await page.goto(f"{app.base}{prefix}/albums/{made['shared']['_id']}")
        opener = page.locator("#album-toolbar [data-share-open]")
        await opener.wait_for(state="visible")
        await _fits(page, width)
        await shot(page, f"share-album-toolbar-{name}")
        await page.click("[data-share-open]")
        await page.locator("#share-dialog").wait_for(state="visible")
        await shot(page, f"share-dialog-album-{name}")
        await page.click("[data-share-close]")
        link = await _make_link(page, subalbums=True)
        assert f"{prefix}/s/" in link
        dialog = page.locator("#share-dialog")
        assert await dialog.locator("input[name=feed_url]").is_visible()
        await dialog.locator("[data-copy-from=url]").click()
        await dialog.locator("[data-copy-from=url]:has-text('Copied')").wait_for()
        await _fits(page, width)
        await shot(page, f"share-dialog-album-made-{name}")
        await page.click("[data-share-close]")

        # The media page's dialog, with a password.
        await page.goto(f"{app.base}{prefix}/media/{media['pelican']}")
        await page.locator(".media-actions [data-share-open]").wait_for(state="visible")
        protected = await _make_link(page, password=SHARE_PASSWORD)
        assert not await page.locator("#share-dialog input[name=feed_url]").is_visible()
        await _fits(page, width)
        await shot(page, f"share-dialog-media-made-{name}")

        # A visitor without an account opens the album link: the album, and its child album.
        visitor = await browser_page.new_context(viewport=viewport)
        guest = await visitor.new_page()
        await guest.goto(link.replace(link.split(prefix)[0], app.base))
        await guest.wait_for_url(f"{app.base}{prefix}/albums/{made['shared']['_id']}")
        assert await guest.locator("h1:has-text('Harbour Walk')").count() == 1
        assert await guest.locator("text=Zetachild Album").count() >= 1
        assert await guest.locator("text=Zetaparent").count() == 0
        assert await guest.locator("[data-share-open]").count() == 0
        await _fits(guest, width)
        await shot(guest, f"share-visit-album-{name}")
        # The item link asks for its password first.
        await guest.goto(protected.replace(protected.split(prefix)[0], app.base))
        await guest.locator("input[name=password]").fill("not the password")
        await guest.click("button:has-text('Open')")
        await guest.locator(".alert.error").wait_for()
        await _fits(guest, width)
        await shot(guest, f"share-password-{name}")
        await guest.locator("input[name=password]").fill(SHARE_PASSWORD)
        await guest.click("button:has-text('Open')")
        await guest.wait_for_url(f"{app.base}{prefix}/media/{media['pelican']}")
        await visitor.close()

        # The Shared links page: both links, one view of the album link, a Withdraw button.
        await page.goto(f"{app.base}{prefix}/shares")
        rows = page.locator(".shares-table tbody tr")
        assert await rows.count() >= 2
        await _fits(page, width)
        await shot(page, f"share-list-{name}")
        await rows.first.locator("button:has-text('Withdraw')").click()
        await page.wait_for_url(f"{app.base}{prefix}/shares")
        withdrawn = 1 if name == "1366" else 2  # one more per width
        assert await page.locator(".badge:has-text('Withdrawn')").count() == withdrawn
        await shot(page, f"share-list-withdrawn-{name}")
        # The withdrawn link's address says so.
        gone = await page.goto(protected.replace(protected.split(prefix)[0], app.base))
        assert gone.status == 410
        assert await page.locator("text=withdrawn by the person who shared it").count() == 1
        await _fits(page, width)
        await shot(page, f"share-link-withdrawn-{name}")
        # The embed page, at the snippet's size.
        await page.set_viewport_size({"width": 640, "height": 480} if width > 600 else {"width": 320, "height": 240})
        await page.goto(f"{app.base}{prefix}/embed/{media['pelican']}")
        await page.locator(".embed-figure img").wait_for()
        assert await page.evaluate("document.querySelector('.embed-figure img').naturalWidth") > 0
        await shot(page, f"share-embed-{name}")
        await context.close()

    # Made public: any visitor gets the item's embed snippet with its Copy button.
    from gallery.library.privacy import apply_private

    await apply_private(s["ctx"], made["parent"], False)
    for name, viewport in (("1366", WIDE), ("390", PHONE)):
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await page.goto(f"{app.base}{prefix}/media/{media['pelican']}")
        box = page.locator("details.embed-box")
        await box.locator("summary").click()
        code = box.locator("input[aria-label='Embed code']")
        await code.wait_for(state="visible")
        assert (await code.input_value()).startswith("<iframe src=")
        assert await box.locator("button:has-text('Copy')").is_visible()
        await _fits(page, viewport["width"])
        await shot(page, f"share-embed-box-{name}")
        await context.close()
