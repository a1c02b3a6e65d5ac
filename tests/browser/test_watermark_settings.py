"""The watermark settings in Chromium (issue 16): the preview follows the fields as they
change (its pixels change where the stamp goes), the image fits the page at desktop and
phone width, and saving turns watermarks on for what visitors see."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.browser.signing import sign_in

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Correct-Horse-Battery-9"


def _middle_difference(a: bytes, b: bytes) -> float:
    first, second = (Image.open(io.BytesIO(x)).convert("RGB") for x in (a, b))
    w, h = first.size
    box = (w // 4, h // 3, 3 * w // 4, 2 * h // 3)
    return sum(ImageStat.Stat(ImageChops.difference(first.crop(box), second.crop(box))).mean) / 3


@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
async def test_preview_follows_the_fields(app, make_gallery, browser_page, shot, name, viewport):
    g = await make_gallery("alpha")
    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    await sign_in(page, base, PASSWORD)
    await page.goto(f"{base}/admin/settings")
    preview = page.locator("#watermark-preview img")
    await preview.scroll_into_view_if_needed()
    await page.wait_for_function(
        "() => { const i = document.querySelector('#watermark-preview img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    before = await preview.screenshot()

    async with page.expect_response(re.compile(r".*/admin/watermark/preview\?.*PREVIEW.*")) as seen:
        await page.select_option("select[name=watermark_position]", "center")
        await page.fill("input[name=watermark_opacity]", "100")
        await page.fill("input[name=watermark_text_size]", "20")
        await page.fill("input[name=watermark_color]", "#ff00ff")
        await page.fill("input[name=watermark_text]", "PREVIEW")
    response = await seen.value
    assert response.status == 200
    await page.wait_for_function(
        "() => { const i = document.querySelector('#watermark-preview img');"
        " return i.src.includes('PREVIEW') && i.complete && i.naturalWidth > 0; }"
    )
    after = await preview.screenshot()
    assert _middle_difference(before, after) > 8

    # The preview fits the page: no sideways scrolling at phone width.
    box = await preview.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    await preview.scroll_into_view_if_needed()
    await shot(page, f"watermark-settings-{name}")

    # A colour that is not one: the preview says so instead of showing a stale picture.
    await page.fill("input[name=watermark_color]", "#zz")
    await page.wait_for_selector("#watermark-preview.invalid")
    await page.fill("input[name=watermark_color]", "#ff00ff")
    await page.wait_for_selector("#watermark-preview:not(.invalid)")

    await page.check("input[name=watermark_enabled]")
    await page.click("button:has-text('Save settings')")
    await page.wait_for_selector("text=Settings saved.")
    from gallery.settings import get_settings

    ctx = g["ctx"]
    ctx.settings_cache = None
    values = await get_settings(ctx)
    assert values["watermark_enabled"] and values["watermark_text"] == "PREVIEW"
    await context.close()
