"""Stars and people on the media page in Chromium (issue 18, item 12), at 1366 and 390 px:
a member votes by clicking a star (their vote marked, the average updated), an editor adds a
person like a tag; an anonymous visitor sees the average without buttons."""

from __future__ import annotations

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from tests.browser.editing import PHONE, edit_ready, sign_in
from tests.handlers.media_api import processed

WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def test_stars_and_people_on_the_media_page(app, make_gallery, make_jpeg, browser_page, shot):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    doc = await add_media_file(ctx, await albums.root_album(ctx), make_jpeg(640, 420), "harbour.jpg")
    await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
    assert (await processed(ctx, doc["_id"]))["state"] == "ready"
    url = f"{app.base}{p}/media/{doc['_id']}"
    for stars, name, (size, viewport) in ((4, "Ann Lee", ("1366", WIDE)), (2, "Bob", ("390", PHONE))):
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, app, gallery)
        await page.goto(url)
        await edit_ready(page)
        await page.click(f".rating-stars button[data-stars='{stars}']")
        await page.wait_for_selector(f".rating-stars button[data-stars='{stars}'][aria-pressed='true']")
        await page.wait_for_function(
            "n => document.querySelector('.rating-text').textContent.includes('yours: ' + n)", arg=stars)
        field = page.locator(".media-people input[aria-label='Add a person']")
        await field.fill(name)
        await field.press("Enter")
        await page.wait_for_selector(f".media-people li[data-tag='{name}']")
        assert await page.locator(".media-tags li[data-tag]").count() == 0  # people are not tags
        # Nothing runs off the side of the page.
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await shot(page, f"ratings-people-{size}")
        await context.close()
    stored = await ctx.db.media.find_one({"_id": doc["_id"]})
    assert (stored["rating_count"], stored["rating_avg"]) == (1, 2.0)  # one member, the last vote
    assert stored["people"] == ["Ann Lee", "Bob"] and not stored.get("tags")

    context = await browser_page.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(url)
    assert await page.locator(".rating-stars button").count() == 0
    assert await page.locator(".rating-stars[role=img]").get_attribute("aria-label") == "Rated 2.0 of 5"
    assert "2 of 5 · 1 vote" in await page.locator(".rating-text").text_content()
    await page.click(".media-people a:has-text('Ann Lee')")
    await page.wait_for_selector(f"#media-grid [data-media-id='{doc['_id']}'], #media-grid a[href*='{doc['_id']}']")
    await shot(page, "ratings-people-search-390")
    # The people cloud of the search page, beside the tag cloud.
    await page.goto(f"{app.base}{p}/search")
    await page.wait_for_selector("section[aria-label=People] a[href*='person=Bob']")
    await shot(page, "ratings-people-cloud-390")
    await context.close()
