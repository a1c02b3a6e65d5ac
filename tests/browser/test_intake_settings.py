"""The settings page's intake switches in Chromium at desktop and phone width (issue 18,
item 7): "Re-encode JPEG originals" with its unit and a refused quality marked on the field,
"Discard originals" with its warning box readable in full beside the switch, both saved."""

from __future__ import annotations

import re

import pytest

from gallery.library import albums
from gallery.settings import get_settings, update_settings
from tests.browser.conftest import SHOTS
from tests.handlers.media_api import processed, upload_file
from tests.testdata import shared_data

pytestmark = pytest.mark.browser
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


@pytest.mark.parametrize("name,viewport", [("desktop", {"width": 1366, "height": 800}),
                                           ("phone", {"width": 390, "height": 844})])
async def test_the_discard_switch_shows_its_warning_and_both_settings_save(
    app, make_gallery, browser_page, name, viewport
):
    g = await make_gallery("alpha")
    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(r".*/$"))
    await page.goto(f"{base}/admin/settings")

    setting = page.locator(".setting:has(input[name=discard_originals])")
    warning = page.locator("#warning-discard_originals")
    await setting.scroll_into_view_if_needed()
    assert await warning.is_visible()
    text = await warning.inner_text()
    for words in ("Warning:", "cannot be undone", "lost for good", "View original", "backups"):
        assert words in text
    box, row = await warning.bounding_box(), await setting.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]  # never cut off
    assert row["y"] <= box["y"] and box["y"] + box["height"] <= row["y"] + row["height"]
    color, background = await warning.evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert color != background and background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    label = page.locator("label:has(input[name=discard_originals])")
    assert "Discard originals" in await label.inner_text()
    await page.locator(".setting:has(input[name=original_jpeg_quality])").scroll_into_view_if_needed()
    await page.screenshot(path=str(SHOTS / f"intake-settings-{name}.png"))
    assert "of 100" in await page.locator(
        ".setting:has(input[name=original_jpeg_quality])").inner_text()

    # A quality that would ruin photos is refused on its field; nothing is stored.
    save = ".settings-savebar button[type=submit]"
    await page.fill("input[name=original_jpeg_quality]", "10")
    await page.click(save)
    error = page.locator(".setting.has-error:has(input[name=original_jpeg_quality]) .field-error")
    await error.wait_for()
    assert "from 30 to 100" in await error.inner_text()
    assert (await get_settings(g["ctx"]))["original_jpeg_quality"] == 0

    await page.fill("input[name=original_jpeg_quality]", "70")
    await page.check("input[name=discard_originals]")
    await page.click(save)
    await page.wait_for_selector("text=Settings saved.")
    stored = await get_settings(g["ctx"])
    assert stored["original_jpeg_quality"] == 70 and stored["discard_originals"] is True
    assert await page.is_checked("input[name=discard_originals]")
    await page.locator("#warning-discard_originals").scroll_into_view_if_needed()
    await page.screenshot(path=str(SHOTS / f"intake-settings-saved-{name}.png"))

    # A photo added now keeps only its copy, and its page says so beside the actions.
    await update_settings(g["ctx"], {"optimized_size": 400})
    b = app.browser()
    await b.login(g["prefix"], g["username"], g["password"])
    root = await albums.root_album(g["ctx"])
    data = shared_data("camera-samples", "jpg", "gps", "DSCN0010.jpg").read_bytes()
    media = await processed(g["ctx"], await upload_file(b, g["prefix"], root["_id"], data, "gps.jpg"))
    assert media["original"]["discarded"]["size"] == len(data)
    await page.goto(f"{base}/media/{media['_id']}")
    note = page.locator(".original-discarded")
    await note.scroll_into_view_if_needed()
    assert "was discarded" in await note.inner_text()
    box = await note.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    await page.screenshot(path=str(SHOTS / f"intake-discarded-media-{name}.png"))
    await context.close()
