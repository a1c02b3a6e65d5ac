"""A tenant admin changes the thumbnail size and regenerates every thumbnail from the
settings page, watching the job's progress in a real browser."""

from __future__ import annotations

import asyncio
import re

import pytest

from gallery.library.albums import root_album
from gallery.library.media import add_media_file, enqueue_processing
from media.sniff import Sniffed

pytestmark = pytest.mark.browser
JPEG = Sniffed(mime="image/jpeg", kind="image", extension="jpg", description="JPEG")


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _thumbnail_widths(ctx) -> list[int]:
    found = await ctx.db.media.find({}).to_list()
    return sorted((m.get("derivatives") or {}).get("thumbnail", {}).get("width") or 0 for m in found)


async def _until(check, what: str, timeout: float = 60.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := await check()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
    return value


async def test_changed_thumbnail_size_is_regenerated_with_progress(
    app, make_gallery, browser_page, shot, make_jpeg
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await root_album(ctx)
    for i in range(3):
        media = await add_media_file(
            ctx, root, make_jpeg(1200, 800, name=f"p{i}.jpg"), f"p{i}.jpg", sniffed=JPEG
        )
        await enqueue_processing(ctx, app.services.jobs, media["_id"])
    await _until(lambda: _count_ready(ctx), "three ready photos")
    assert await _thumbnail_widths(ctx) == [320, 320, 320]

    page = await (await browser_page.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await page.goto(f"{app.base}{gallery['prefix']}/login")
    await page.fill("input[name=login]", gallery["username"])
    await page.fill("input[name=password]", gallery["password"])
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(rf".*{gallery['prefix']}/$"))
    await page.goto(f"{app.base}{gallery['prefix']}/admin/settings")
    # Before any change the section is there but quiet.
    assert await page.locator("#regenerate .alert").count() == 0
    await page.fill("input[name=thumbnail_size]", "200")
    await page.click("button:has-text('Save settings')")
    await page.wait_for_selector("#regenerate .alert.warn")
    await page.click("[data-regenerate]")
    await page.wait_for_function(
        "() => /Done: 3 remade/.test(document.querySelector('.regenerate-status').textContent)",
        timeout=60_000,
    )
    assert await page.eval_on_selector(".regenerate-progress progress", "p => p.value") == 100
    await page.locator("#regenerate").scroll_into_view_if_needed()
    await shot(page, "settings-regenerated-desktop")
    assert await _thumbnail_widths(ctx) == [200, 200, 200]


async def _count_ready(ctx) -> bool:
    found = await ctx.db.media.find({}).to_list()
    return len(found) == 3 and all(m.get("state") == "ready" for m in found)
