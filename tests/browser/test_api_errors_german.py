"""An error the API answers with, as a script shows it on a German page (issue 18 item 15):
the upload page lists a file of a type the gallery refuses and a duplicate with the server's message in
German, and labels them from the error's code (not from its words). At 1366 and 390 px;
screenshots in /tmp/api-error-de-*.png."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser
WIDTHS = [("desktop", {"width": 1366, "height": 800}), ("phone", {"width": 390, "height": 844})]


async def _german_admin(browser_page, app, g, viewport):
    context = await browser_page.new_context(viewport=viewport, locale="de-DE")
    page = await context.new_page()
    base = f"{app.base}{g['prefix']}"
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", g["username"])
    await page.fill("input[name=password]", g["password"])
    await page.click("form button[type=submit]:has-text('Anmelden')")
    await page.wait_for_url(re.compile(rf".*{g['prefix']}/$"))
    return context, page, base


@pytest.mark.parametrize("name,viewport", WIDTHS)
async def test_the_upload_page_shows_the_apis_refusals_in_german(
    app, make_gallery, make_jpeg, browser_page, tmp_path, name, viewport
):
    g = await make_gallery()
    context, page, base = await _german_admin(browser_page, app, g, viewport)
    await page.goto(f"{base}/upload")
    assert await page.get_attribute("html", "lang") == "de"
    # Named like a photo, so the page's own check of the name lets it through to the server.
    drawing = tmp_path / "drawing.jpg"
    drawing.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"></svg>')
    photo = make_jpeg(320, 240, name="hafen.jpg")
    await page.set_input_files("#pick-files", [str(drawing), str(photo)])
    refused = page.locator(".upload-item:has(.upload-name:text-is('drawing.jpg'))")
    await refused.locator(".upload-error:not([hidden])").wait_for(timeout=30_000)
    message = await refused.locator(".upload-error").inner_text()
    assert message.startswith("Diese Datei ist vom Typ image/svg+xml ("), message
    assert message.endswith("den diese Galerie nicht annimmt."), message
    assert await refused.locator(".upload-status").inner_text() == "Nicht angenommen"

    # The same photo again: skipped, its German reason, labelled from the code.
    first = page.locator(".upload-item:has(.upload-name:text-is('hafen.jpg'))").first
    await first.locator(".upload-error[hidden]").wait_for(state="attached")
    await page.wait_for_selector(
        ".upload-item:has(.upload-name:text-is('hafen.jpg')):not([data-state=queued]):not([data-state=uploading])")
    await page.set_input_files("#pick-files", [str(photo)])
    again = page.locator(".upload-item:has(.upload-name:text-is('hafen.jpg'))").nth(1)
    await again.locator(".upload-error:not([hidden])").wait_for(timeout=30_000)
    assert await again.get_attribute("data-state") == "skipped"
    assert await again.locator(".upload-status").inner_text() == "Schon in diesem Album"
    reason = await again.locator(".upload-error").inner_text()
    assert reason.startswith("Schon in diesem Album als „hafen.jpg“"), reason
    # The short labels are shown whole at both widths, never cut to "Nicht angen…".
    for item in (refused, again):
        assert await item.locator(".upload-status").evaluate("e => e.scrollWidth <= e.clientWidth")
    shown = await page.inner_text("main")
    assert "does not accept" not in shown and "Already in" not in shown
    await page.screenshot(path=f"/tmp/api-error-de-{name}.png", full_page=True)
    await context.close()
