"""The trash and the activity history in Chromium at 1366 and 390 px (issue 17, items 7 and
8): the media page's Delete says where the item goes, the Trash page lists it with who and
when and restores it, and the event log shows it, filtered by kind, who and date.
Screenshots: test-output/screenshots/trash-*.png, events-*.png."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.browser.editing import PHONE, edit_ready, sign_in
from tests.handlers.share_setup import build

WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _fits(page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"


async def test_delete_to_trash_restore_and_the_filtered_event_log(
        app, make_gallery, viewer_of, make_jpeg, browser_page, shot):
    s = await build(app, make_gallery, viewer_of, make_jpeg, process={"lighthouse"})
    g, ctx, made, media, admin = s["g"], s["ctx"], s["albums"], s["media"], s["admin"]
    prefix = g["prefix"]
    # An album in the trash beside the item (deleted through the API as the pages' JS does).
    gone = await admin.api("DELETE", f"{prefix}/api/v1/albums/{made['sibling']['_id']}")
    assert gone.code == 200
    for name, viewport in (("1366", WIDE), ("390", PHONE)):
        width = viewport["width"]
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, app, g)

        await page.goto(f"{app.base}{prefix}/media/{media['lighthouse']}")
        await edit_ready(page)
        actions = page.locator(".edit-actions")
        await actions.get_by_role("button", name="Delete").click()
        dialog = page.locator("dialog.edit-dialog")
        assert "moved to the trash for 30 days" in await dialog.text_content()
        await shot(page, f"trash-delete-dialog-{name}")
        await dialog.get_by_role("button", name="Delete").click()
        await page.wait_for_url(f"**{prefix}/albums/{made['shared']['_id']}")
        assert await ctx.db.media.find_one({"_id": media["lighthouse"]}) is None

        await page.goto(f"{app.base}{prefix}/trash")
        row = page.locator("tr", has_text="Lighthouse photo")
        await row.wait_for()
        assert "admin" in await row.text_content()
        assert await page.locator("tr", has_text="Zetasibling Album").count() == 1
        # Its picture comes from /trash/<id>/thumbnail (its own file routes answer 404 now).
        await page.wait_for_function(
            "[...document.querySelectorAll('tr')].filter(r => r.textContent.includes('Lighthouse photo'))"
            ".every(r => { const i = r.querySelector('img.trash-thumb'); return i && i.complete && i.naturalWidth > 0; })")
        await _fits(page, width)
        await shot(page, f"trash-page-{name}")
        await row.get_by_role("button", name="Restore").click()
        await page.wait_for_url(f"**{prefix}/trash?done=*")
        assert "is back" in await page.locator(".alert.ok").text_content()
        assert await ctx.db.media.find_one({"_id": media["lighthouse"]}) is not None

        # The event log, filtered to deletions by the administrator today.
        today = datetime.now(UTC).date().isoformat()
        await page.goto(f"{app.base}{prefix}/admin/events")
        await page.select_option("select[name=kind]", "media_deleted")
        await page.select_option("select[name=who]", "admin")
        await page.fill("input[name=from]", today)
        await page.fill("input[name=to]", today)
        await page.click(".events-filter button[type=submit]")
        await page.wait_for_url("**/admin/events?*kind=media_deleted*")
        rows = page.locator("table.events tbody tr")
        assert await rows.count() >= 1
        for text in await rows.all_text_contents():
            assert "moved to the trash" in text and "Lighthouse photo" in text
        await _fits(page, width)
        await shot(page, f"events-filtered-{name}")
        await page.goto(f"{app.base}{prefix}/admin/events?kind=restored")
        assert "restored from the trash" in await rows.first.text_content()
        await context.close()
