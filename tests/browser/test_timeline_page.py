"""Issue 17, item 15 in Chromium: the timeline groups by month, loads older months as it
scrolls (with their headings), jumps from the scrubber, and opens the lightbox — at 1366
and 390 px."""

from datetime import UTC, datetime, timedelta

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.settings import update_settings
from media.dates import taken_key

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}


async def test_timeline_scrolls_by_month_and_jumps(app, make_gallery, viewer_of, make_jpeg, browser_page, shot):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    await update_settings(ctx, {"page_size": 10})
    root = await albums.root_album(ctx)
    trip = await albums.create_album(ctx, await viewer_of(ctx), root["_id"], {"title": "Trip"})
    start = datetime(2024, 3, 28, tzinfo=UTC)
    for i in range(24):  # late March, April, early May (two days apart)
        doc = await add_media_file(ctx, trip, make_jpeg(120, 80, color=(10 * i, 120, 200)), f"day-{i}.jpg")
        thumb = ctx.storage.derivatives / doc["_id"]
        thumb.mkdir(parents=True, exist_ok=True)
        (thumb / "thumbnail.jpg").write_bytes(make_jpeg(120, 80, color=(10 * i, 120, 200)).read_bytes())
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", "date_taken": start + timedelta(days=2 * i),
            "taken_key": taken_key(start + timedelta(days=2 * i)), "width": 120, "height": 80,
            "derivatives.thumbnail": {"path": f"derivatives/{doc['_id']}/thumbnail.jpg",
                                      "width": 120, "height": 80, "mime": "image/jpeg"}}})
    for name, viewport in SIZES.items():
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await page.goto(f"{app.base}{g['prefix']}/timeline")
        # The server's first page (a short page may already be asking for the next one).
        assert await page.locator(".media-tile").count() >= 10
        assert await page.text_content(".timeline-month h2") == "May 2024"
        await shot(page, f"timeline-{name}")
        # Scrolling brings the older items and their months' headings.
        for shown in (20, 24):
            await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            await page.wait_for_function(
                f"document.querySelectorAll('.media-tile').length >= {shown}", timeout=20_000)
        assert await page.locator(".media-tile").count() == 24
        headings = await page.eval_on_selector_all(".timeline-month h2", "hs => hs.map(h => h.textContent)")
        assert headings == ["May 2024", "April 2024", "March 2024"]
        # The scrubber jumps to a month.
        # The current year is open in the scrubber (a year's months unfold from its name).
        assert await page.get_attribute(".timeline-scrubber details", "open") is not None
        await page.click(".timeline-scrubber a:has-text('March 2024')")
        await page.wait_for_url("**/timeline?month=2024-03")
        assert await page.text_content(".timeline-month h2") == "March 2024"
        # Its tiles open in the lightbox.
        await page.locator(".media-tile a").first.click()
        await page.locator(".lightbox").wait_for(state="visible")
        await shot(page, f"timeline-lightbox-{name}")
        await context.close()
