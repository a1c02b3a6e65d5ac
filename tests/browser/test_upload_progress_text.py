"""Issue 17, item 17: an upload's percentage and its bar say the same thing at every moment,
no type label shows through a picture's preview, and the file size is never cut at phone
width — in Chromium against the real service, with the upload throttled so it is seen."""

from __future__ import annotations

import re

import pytest

from tests.browser.editing import PHONE, SMALL_CHUNKS, noisy_jpeg, sign_in

pytestmark = pytest.mark.browser

# Every change of an uploading item's status text is compared with the bar as drawn at that
# moment (its rendered width, not its style), so a bar that trails its number is caught.
WATCH = """
window.progressPairs = [];
new MutationObserver(() => {
  document.querySelectorAll(".upload-item[data-state=uploading]").forEach((item) => {
    const m = /^(\\d+)%/.exec(item.querySelector(".upload-status").textContent);
    const bar = item.querySelector(".upload-bar");
    if (!m || !bar.firstChild) return;
    const drawn = bar.firstChild.getBoundingClientRect().width / bar.getBoundingClientRect().width;
    window.progressPairs.push([Number(m[1]), Math.round(drawn * 100)]);
  });
}).observe(document.body, { subtree: true, childList: true, characterData: true });
"""


async def test_upload_percentage_bar_preview_and_size_agree_at_phone_width(
    app, make_gallery, browser_page, shot, tmp_path
):
    gallery = await make_gallery("alpha")
    context = await browser_page.new_context(viewport=PHONE)
    await context.add_init_script(SMALL_CHUNKS)
    page = await context.new_page()
    await sign_in(page, app, gallery)
    await page.goto(f"{app.base}{gallery['prefix']}/upload")
    await page.evaluate(WATCH)
    photo = tmp_path / "a-rather-long-holiday-photo-name-from-the-camera-roll.jpg"
    noisy_jpeg(photo)
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 200 * 1024})
    await page.set_input_files("#pick-files", [str(photo)])
    await page.wait_for_function(
        "() => window.progressPairs.filter(p => p[0] > 0).length >= 3", timeout=60_000)

    # The preview is shown; the grey "JPG" label under it is not.
    await page.wait_for_selector(".upload-thumb.has-preview")
    label = await page.eval_on_selector(".upload-ext", "e => getComputedStyle(e).visibility")
    assert label == "hidden"
    # The size reads whole ("1.0 MB"), while the long name gives way.
    size = await page.eval_on_selector(
        ".upload-bytes", "e => [e.textContent, e.scrollWidth <= e.clientWidth + 0.5,"
        " e.getBoundingClientRect().right <= e.closest('.upload-item').getBoundingClientRect().right]")
    assert re.fullmatch(r"\d+(\.\d+)? (KB|MB)", size[0]) and size[1] and size[2], size
    await shot(page, "upload-progress-phone")

    await cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    # Sent (no job worker here: the item stays "processing"; the upload is what is watched).
    await page.wait_for_selector(
        ".upload-item[data-state=processing], .upload-item[data-state=ready]", timeout=90_000)
    pairs = await page.evaluate("window.progressPairs")
    moving = [p for p in pairs if 0 < p[0] < 100]
    assert moving, pairs
    assert all(abs(text - drawn) <= 2 for text, drawn in moving), moving
    await context.close()


async def test_the_same_photo_again_is_skipped_with_a_reason_in_the_list(
    app, make_gallery, browser_page, shot, make_jpeg
):
    """Issue 17, item 9: a file already in the album is skipped and the list says so."""
    gallery = await make_gallery("alpha")
    context = await browser_page.new_context(viewport=PHONE)
    page = await context.new_page()
    await sign_in(page, app, gallery)
    await page.goto(f"{app.base}{gallery['prefix']}/upload")
    photo = make_jpeg(320, 240, name="harbour.jpg")
    await page.set_input_files("#pick-files", [str(photo)])
    await page.wait_for_selector(".upload-item:nth-child(1):not([data-state=queued]):not([data-state=uploading])")
    await page.set_input_files("#pick-files", [str(photo)])
    second = page.locator(".upload-item:nth-child(2)")
    await second.locator(".upload-error:not([hidden])").wait_for(timeout=30_000)
    assert await second.get_attribute("data-state") == "skipped"
    assert await second.locator(".upload-badge").text_content() == "Skipped"
    assert await second.locator(".upload-status").text_content() == "Already in this album"
    assert (await second.locator(".upload-error").text_content()).startswith("Already in this album")
    await shot(page, "upload-duplicate-skipped-phone")
    assert await gallery["ctx"].db.media.count_documents({}) == 1
    await context.close()
