"""The metadata panel's fields in Chromium (issue 18, item 11), at 1366 and 390 px: the admin
renames a field, shows one more and lets editors correct one in the settings checklist; the
media page shows them under those headings, and an editor corrects a field in place, then
brings the file's value back."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PIL.ExifTags import Base

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.settings import get_settings
from tests.browser.conftest import SHOTS
from tests.browser.editing import PHONE, edit_ready, sign_in
from tests.handlers.media_api import processed

pytestmark = pytest.mark.browser
WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def test_headings_fields_and_corrections_on_both_widths(app, make_gallery, tmp_path, browser_page, shot):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    exif = Image.Exif()
    exif[Base.Make], exif[Base.Model], exif[Base.Artist] = "Canon", "Canon EOS 40D", "Ann Artist"
    path = tmp_path / "harbour.jpg"
    out = io.BytesIO()
    Image.new("RGB", (640, 420), (30, 90, 160)).save(out, "JPEG", exif=exif)
    path.write_bytes(out.getvalue())
    doc = await add_media_file(ctx, await albums.root_album(ctx), path, "harbour.jpg")
    await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
    assert (await processed(ctx, doc["_id"]))["state"] == "ready"

    for size, viewport, heading, correction in (("1366", WIDE, "Photographer", "Bob Bee"),
                                                ("390", PHONE, "Taken by", "Cy <b>Dee</b>")):
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, app, gallery)
        await page.goto(f"{app.base}{p}/admin/settings")
        row = page.locator("ol.ordered-checklist li", has=page.locator("input[name=metadata_fields][value=author]"))
        await row.scroll_into_view_if_needed()
        await row.locator("input[name=metadata_fields]").check()
        await row.locator("input.row-heading").fill(heading)
        await row.locator("input[name=metadata_editable]").check()
        for _ in range(14):  # to the top, with the keyboard-friendly buttons
            await row.locator("button[data-move=up]").click()
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # The checklist alone: the whole settings page is too tall to judge in one picture.
        checklist = page.locator("div.setting", has=page.locator("ol.ordered-checklist.with-headings"))
        await checklist.screenshot(path=str(SHOTS / f"metadata-settings-{size}.png"))
        await page.click(".settings-savebar button[type=submit]")
        await page.wait_for_selector(".alert.ok")
        values = await get_settings(ctx)
        assert values["metadata_fields"][0] == "author" and values["metadata_labels"]["author"] == heading
        assert values["metadata_editable"] == ["author"]

        await page.goto(f"{app.base}{p}/media/{doc['_id']}")
        await edit_ready(page)
        first = page.locator(".facts.metadata dt").first
        assert await first.text_content() == heading
        field = page.locator("dd[data-field=author]")
        assert (await field.text_content()).strip() in ("Ann Artist", "Bob Bee")
        await field.click()
        editor = field.locator("input.inline-editor")
        await editor.fill(correction)
        await editor.press("Enter")
        await page.wait_for_function(
            "t => { const d = document.querySelector('dd[data-field=author]'); return d.dataset.edited && !d.dataset.saving && d.textContent === t; }",
            arg=correction)
        stored = await ctx.db.media.find_one({"_id": doc["_id"]})
        assert stored["meta_edits"] == {"author": correction}
        await page.reload()
        await edit_ready(page)
        assert await page.locator("dd[data-field=author]").text_content() == correction  # as text, escaped
        assert await page.locator("dd[data-field=author] b").count() == 0
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await page.evaluate("window.scrollTo(0, 0)")  # a full-page shot keeps the sticky header on top
        await shot(page, f"metadata-panel-{size}")
        if size == "390":
            # Back to what the file says.
            await page.locator("dd[data-field=author]").click()
            await page.locator(".facts.metadata").screenshot(path=str(SHOTS / "metadata-panel-editing-390.png"))
            await page.click("dd[data-field=author] button:has-text(\"Use the file's value\")")
            await page.wait_for_function(
                "() => { const d = document.querySelector('dd[data-field=author]'); return !d.dataset.edited && !d.dataset.saving && d.textContent === 'Ann Artist'; }")
            assert (await ctx.db.media.find_one({"_id": doc["_id"]}))["meta_edits"] == {"author": None}
        await context.close()
