"""What the scripts write speaks German on a German browser (Accept-Language: de), at desktop
and phone width: the media page's edit panel (static/js/edit-media.js: its buttons, the
tag field, the toasts after saving a title and a rotation, the delete dialog), the settings
page (static/js/admin-settings.js shows the unsaved-changes marker after an edit) and its
watermark section (static/js/admin-watermark.js says in words when the values cannot be
previewed). Words come from static/i18n/de.js; the English originals must not show.
Screenshots go to /tmp/js-german-*.png."""

from __future__ import annotations

import re

import pytest

from tests.browser.editing import edit_ready, seed_album

pytestmark = pytest.mark.browser
WIDTHS = [("desktop", {"width": 1366, "height": 800}), ("phone", {"width": 390, "height": 844})]


@pytest.fixture
def config(make_config):
    # A job worker and an image worker: the seeded photo and the rotation are processed.
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _german_admin(browser_page, app, g, viewport):
    """A context whose browser asks for German, signed in through the German login form."""
    context = await browser_page.new_context(viewport=viewport, locale="de-DE")
    page = await context.new_page()
    base = f"{app.base}{g['prefix']}"
    await page.goto(f"{base}/login")
    assert await page.get_attribute("html", "lang") == "de"
    await page.fill("input[name=login]", g["username"])
    await page.fill("input[name=password]", g["password"])
    await page.click("form button[type=submit]:has-text('Anmelden')")
    await page.wait_for_url(re.compile(rf".*{g['prefix']}/$"))
    return context, page, base


async def _no_sideways_scroll(page):
    assert await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


@pytest.mark.parametrize("name,viewport", WIDTHS)
async def test_the_media_edit_panel_speaks_german(app, make_gallery, make_jpeg, browser_page, name, viewport):
    g = await make_gallery()
    _album_id, ids = await seed_album(app, g, make_jpeg, count=1)
    context, page, base = await _german_admin(browser_page, app, g, viewport)
    await page.goto(f"{base}/media/{ids[0]}")
    await edit_ready(page)
    bar = page.locator(".edit-actions")
    assert await bar.get_attribute("aria-label") == "Bearbeiten"
    labels = await bar.locator("button").evaluate_all("bs => bs.map(b => b.getAttribute('aria-label'))")
    assert labels[:4] == ["Nach links drehen", "Nach rechts drehen", "Horizontal spiegeln", "Vertikal spiegeln"]
    assert {"Datei ersetzen…", "Als Albumcover festlegen", "Verschieben oder kopieren…", "Löschen"} <= set(labels)
    # The German words are shown whole (the labels wrap between words), never cut to
    # "Verschie…" nor broken inside a word: each word is narrower than its label.
    shown = await page.eval_on_selector_all(".edit-actions .button .label", """els => els.map(e => {
        const ctx = document.createElement("canvas").getContext("2d");
        const style = getComputedStyle(e);
        ctx.font = style.fontWeight + " " + style.fontSize + " " + style.fontFamily;
        const widest = Math.max(...e.textContent.split(" ").map(w => ctx.measureText(w).width));
        return [e.textContent, e.scrollWidth <= e.clientWidth && widest <= e.clientWidth + 1, widest, e.clientWidth];
    })""")
    assert all(fits for _, fits, *_size in shown), [s for s in shown if not s[1]]
    await page.locator(".edit-actions").screenshot(path=f"/tmp/edit-actions-de-{name}.png")
    tag_input = page.locator(".media-tags .tag-adder input")
    assert await tag_input.get_attribute("placeholder") == "Schlagwort hinzufügen…"
    assert await tag_input.get_attribute("aria-label") == "Ein Schlagwort hinzufügen"
    title = page.locator(".media-title")
    assert (await title.get_attribute("aria-label")).startswith("Titel bearbeiten: ")

    # Saving the title: the toast the script writes afterwards.
    await title.click()
    await page.fill(".media-title input", "Hafen am Abend")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".toast:text-is('Titel gespeichert')")
    assert await title.get_attribute("aria-label") == "Titel bearbeiten: Hafen am Abend"
    assert (await g["ctx"].db.media.find_one({"_id": ids[0]}))["title"] == "Hafen am Abend"

    # A tag: its remove button is labelled in German with the tag's name.
    await tag_input.fill("hafen")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".toast:text-is('Schlagwörter gespeichert')")
    remove = page.locator('.media-tags li[data-tag="hafen"] .tag-remove')
    assert await remove.get_attribute("aria-label") == "Das Schlagwort hafen entfernen"
    assert await remove.get_attribute("title") == "Entfernen"

    # A rotation: "Wird gedreht…" while it is asked for, "Gedreht" once the new copy is made.
    await page.click(".edit-actions button[aria-label='Nach rechts drehen']")
    await page.wait_for_selector(".toast:text-is('Gedreht')", timeout=60_000)
    await _no_sideways_scroll(page)
    await page.screenshot(path=f"/tmp/js-german-media-{name}.png", full_page=True)

    # The delete dialog: one German sentence with the item's name in German quotes.
    await page.click(".edit-actions button[aria-label='Löschen']")
    dialog = page.locator("dialog[open]")
    await dialog.wait_for()
    assert await dialog.locator("h2").text_content() == "Dieses Element löschen?"
    sentence = await dialog.locator(".dialog-body p").text_content()
    assert re.search(r"„Hafen am Abend“ (kommt für \d+ Tage? in den Papierkorb|und seine Dateien werden endgültig gelöscht)", sentence)
    assert await dialog.locator("button.danger").text_content() == "Löschen"
    assert await dialog.locator("button:not(.danger)").first.text_content() == "Abbrechen"
    await page.screenshot(path=f"/tmp/js-german-media-delete-{name}.png", full_page=True)
    await page.keyboard.press("Escape")
    text = await page.text_content("body")
    for english in ("Rotate left", "Add tag…", "Title saved", "Delete this item?", "Rotated"):
        assert english not in text
    await context.close()


@pytest.mark.parametrize("name,viewport", WIDTHS)
async def test_the_settings_page_and_its_watermark_section_speak_german(app, make_gallery, browser_page, name, viewport):
    g = await make_gallery()
    context, page, base = await _german_admin(browser_page, app, g, viewport)
    await page.goto(f"{base}/admin/settings")
    marker = page.locator("[data-unsaved]")
    assert await marker.is_hidden()

    # admin-settings.js: an edit shows the unsaved-changes marker, in German; undoing it hides it.
    field = page.locator("input[name=watermark_text]")
    await field.scroll_into_view_if_needed()
    before = await field.input_value()
    opacity = await page.input_value("input[name=watermark_opacity]")
    await field.fill("ENTWURF")
    await marker.wait_for(state="visible")
    assert (await marker.text_content()).strip() == "Ungespeicherte Änderungen"

    # admin-watermark.js: values the server cannot preview are said in words, in German.
    figure = page.locator("#watermark-preview")
    problem = figure.locator(".watermark-preview-problem")
    assert await problem.is_hidden()
    async with page.expect_response(re.compile(r".*/admin/watermark/preview\?.*watermark_opacity=500.*")) as seen:
        await page.fill("input[name=watermark_opacity]", "500")
    assert (await seen.value).status == 400
    await problem.wait_for(state="visible")
    assert (await problem.text_content()) == (
        "Diese Werte lassen sich nicht in der Vorschau zeigen: prüfen Sie die Wasserzeichen-Felder oben.")
    assert await figure.get_attribute("class") == "watermark-preview invalid"
    await problem.scroll_into_view_if_needed()
    await _no_sideways_scroll(page)
    await page.screenshot(path=f"/tmp/js-german-watermark-problem-{name}.png")

    # Good values again: the preview is drawn and the words go away.
    async with page.expect_response(re.compile(r".*/admin/watermark/preview\?.*watermark_opacity=60.*")) as seen:
        await page.fill("input[name=watermark_opacity]", "60")
    assert (await seen.value).status == 200
    await problem.wait_for(state="hidden")
    await field.fill(before)
    await page.fill("input[name=watermark_opacity]", opacity)
    await page.wait_for_function("() => document.querySelector('[data-unsaved]').hidden")
    text = await page.text_content("main")
    assert "Unsaved changes" not in text and "cannot be previewed" not in text
    await page.screenshot(path=f"/tmp/js-german-settings-{name}.png")
    await context.close()
