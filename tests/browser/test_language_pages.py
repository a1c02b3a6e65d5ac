"""A member switches the gallery to German on the account page in Chromium, at desktop and
phone width: the choice sticks over an English browser, dates and the pages follow it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser
WIDTHS = [("desktop", {"width": 1366, "height": 800}), ("phone", {"width": 390, "height": 844})]


@pytest.mark.parametrize("name,viewport", WIDTHS)
async def test_a_member_chooses_german_on_the_account_page(app, make_gallery, browser_page, shot, name, viewport):
    g = await make_gallery()
    base = f"{app.base}{g['prefix']}"
    context = await browser_page.new_context(viewport=viewport, locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", g["username"])
    await page.fill("input[name=password]", g["password"])
    await page.click("button:has-text('Sign in')")
    await page.goto(f"{base}/account")
    assert await page.get_attribute("html", "lang") == "en"
    await page.select_option("select[name=language]", "de")
    await page.click("button:has-text('Save language')")
    await page.wait_for_selector("text=Ihre Sprache wurde gespeichert.")
    assert await page.get_attribute("html", "lang") == "de"
    assert await page.input_value("select[name=language]") == "de"
    assert await page.text_content("h1") == "Ihr Konto"
    assert "Chrome auf Linux" in await page.text_content(".sessions-list")
    # Nothing sticks out of the page at this width.
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    await shot(page, f"language-account-de-{name}")
    await page.goto(f"{base}/admin/users")
    assert "Benutzer anlegen" in await page.text_content("main")
    assert (await page.text_content(".badge.status-active")).strip() == "aktiv"
    await shot(page, f"language-users-de-{name}")
    # Words the scripts write come from the German script catalogue (static/i18n/de.js).
    await page.goto(f"{base}/")
    toggle = page.locator(".tree-toggle .btn-label")
    await toggle.wait_for()
    assert (await toggle.text_content()).strip() == "Alben"
    assert await page.evaluate("_tn('Delete %(count)s item?', 'Delete %(count)s items?', 2)") == "2 Elemente löschen?"
    await shot(page, f"language-home-de-{name}")
    await page.goto(f"{base}/admin/settings")
    assert "Anonymes Ansehen" in await page.text_content("main")
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    await shot(page, f"language-settings-de-{name}")
    await context.close()
