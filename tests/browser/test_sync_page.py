"""The admin's Synchronize page in a real browser: start a sync with its options, follow it
live to its end, see the report (with a skipped FIFO), make a sync key that is shown once.
Desktop and phone width."""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image

from gallery.settings import update_settings

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def jpeg(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
async def test_synchronize_from_the_admin_page(app, make_gallery, browser_page, shot, name,
                                               viewport):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(ctx, {"sync_min_age_seconds": 0})
    (ctx.storage.originals / "Holiday").mkdir()
    for i in range(3):
        (ctx.storage.originals / "Holiday" / f"p{i}.jpg").write_bytes(jpeg((40 * i, 90, 160)))
    os.mkfifo(ctx.storage.originals / "Holiday" / "pipe.jpg")
    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(r".*/$"))
    await page.goto(f"{base}/admin/sync")
    await page.wait_for_selector("h1:has-text('Synchronize')")
    await shot(page, f"sync-page-{name}")
    await page.click("[data-start-sync]")
    row = page.locator("tr[data-job]").first
    # The row follows the job and the page reloads with the report when it ends.
    await page.locator("tr[data-job][data-state=done]").first.wait_for(timeout=60000)
    status = await row.locator(".sync-status").text_content()
    assert "3 new" in status and "1 skipped" in status
    await row.locator("summary").click()
    assert "pipe.jpg" in await row.locator(".skipped").text_content()
    await shot(page, f"sync-done-{name}")
    box = await page.locator("[data-start-sync]").bounding_box()
    assert box and box["x"] + box["width"] <= viewport["width"]

    await page.click("[data-new-key-button]")
    key = (await page.locator(".sync-key").text_content()).strip()
    assert key.startswith("atrsync_")
    await shot(page, f"sync-key-{name}")
    await page.goto(f"{base}/admin/sync")
    assert key not in await page.content()  # shown once
    album = await ctx.db.albums.find_one({"dirpath": "Holiday"})
    assert await ctx.db.media.count_documents({"album_id": album["_id"]}) == 3
