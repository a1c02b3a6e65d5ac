"""The slideshow switch and transition in Chromium at desktop and phone width (issue 18,
item 6): the chosen transition animates each new item; switched off, neither the album's
toolbar nor the lightbox offers a slideshow."""

from __future__ import annotations

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.settings import update_settings
from tests.handlers.media_api import processed

pytestmark = pytest.mark.browser


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


@pytest.mark.parametrize("name,viewport", [("desktop", {"width": 1366, "height": 800}),
                                           ("phone", {"width": 390, "height": 844})])
async def test_slideshow_transition_and_switch(app, make_gallery, make_jpeg, browser_page, shot, name, viewport):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    for n in range(2):
        path = make_jpeg(640, 480, color=(40 * n, 120, 200))
        doc = await add_media_file(ctx, root, path, path.name)
        await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
        assert (await processed(ctx, doc["_id"]))["state"] == "ready"
    await update_settings(ctx, {"slideshow_transition": "slide", "slideshow_interval": 1})
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    await page.goto(f"{app.base}/g/alpha/")
    await page.click("[data-action=slideshow]")
    box = page.locator(".lightbox")
    await box.wait_for(state="visible")
    assert await box.get_attribute("data-transition") == "slide"
    first = await box.get_attribute("data-media-id")
    await page.wait_for_function(f"document.querySelector('.lightbox').dataset.mediaId !== '{first}'",
                                 polling=100, timeout=15000)
    animation = await page.eval_on_selector(".lightbox .lb-media", "e => getComputedStyle(e).animationName")
    assert animation == "lb-slide"
    await shot(page, f"slideshow-slide-{name}")
    await page.keyboard.press("Escape")
    await box.wait_for(state="hidden")

    await update_settings(ctx, {"enable_slideshow": False})
    await page.goto(f"{app.base}/g/alpha/")
    await page.wait_for_selector(".media-tile a")
    assert await page.locator("[data-action=slideshow]").count() == 0
    await page.click(".media-tile a")
    await box.wait_for(state="visible")
    assert await page.locator(".lightbox .lb-play").is_hidden()
    await shot(page, f"slideshow-off-lightbox-{name}")
    await context.close()
