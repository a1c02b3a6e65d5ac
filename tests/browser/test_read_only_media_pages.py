"""A read-only media folder in a real browser: the host console's tenant page sets it, and
the gallery's album page then offers no Upload or New album and says why. Desktop and
phone width."""

from __future__ import annotations

import shutil

import pytest

from gallery.intake import sync
from gallery.settings import update_settings
from tenants.host_admins import setup_token
from tests.browser.editing import edit_ready, sign_in

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}
HOST_PASSWORD = "Granite-Meadow-Falcon-77"


@pytest.mark.parametrize("name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
async def test_host_sets_a_read_only_folder_and_the_album_page_says_so(
        app, make_gallery, make_jpeg, browser_page, shot, tmp_path, name, viewport):
    gallery = await make_gallery("alpha")
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copyfile(make_jpeg(640, 480), folder / "one.jpg")
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    token = await setup_token(app.services.host_db)
    await page.goto(f"{app.base}/_host/setup?token={token}")
    await page.fill("input[name=username]", "provider")
    await page.fill("input[name=password]", HOST_PASSWORD)
    await page.fill("input[name=password2]", HOST_PASSWORD)
    await page.click("button:has-text('Create admin')")
    await page.wait_for_url(f"{app.base}/_host/")
    await page.goto(f"{app.base}/_host/tenants/alpha")
    card = page.locator("#media-folder")
    await card.locator("input[name=media_folder]").fill(str(folder))
    await card.locator("input[name=read_only]").check()
    await card.locator("form.form button").first.click()
    await page.wait_for_selector("p.alert.ok")
    assert "read-only" in await page.locator("p.alert.ok").text_content()
    assert str(folder.resolve()) in await card.text_content()
    await shot(page, f"host-media-folder-{name}")
    box = await card.locator("form.form button").first.bounding_box()
    assert box and box["x"] + box["width"] <= viewport["width"]

    # The folder's file, synchronized in (no job workers here: the sync runs in the test).
    ctx = await app.services.registry.context_for_slug("alpha")
    await update_settings(ctx, {"sync_min_age_seconds": 0})
    root = await ctx.db.albums.find_one({"parent_id": None})
    admin = await ctx.db.users.find_one({"username": "admin"})
    assert (await sync.synchronize(ctx, app.services, admin, root))["new"] == 1
    media = await ctx.db.media.find_one({})

    await sign_in(page, app, gallery)
    await edit_ready(page)
    note = page.locator(".read-only-note")
    await note.wait_for()
    assert "read-only folder" in await note.text_content()
    toolbar = page.locator("#album-toolbar")
    assert await toolbar.get_by_text("Upload", exact=True).is_hidden()
    assert await toolbar.get_by_text("New album", exact=True).is_hidden()
    await shot(page, f"album-read-only-media-{name}")
    box = await note.bounding_box()
    assert box and box["x"] + box["width"] <= viewport["width"]

    # The media page offers no Move or copy, and its Delete says the file stays.
    await page.goto(f"{app.base}{gallery['prefix']}/media/{media['_id']}")
    await edit_ready(page)
    actions = page.locator(".edit-actions")
    await actions.get_by_role("button", name="Delete").wait_for()
    assert await actions.get_by_role("button", name="Move or copy…").count() == 0
    await actions.get_by_role("button", name="Delete").click()
    dialog = page.locator("dialog.edit-dialog")
    assert "its file stays in the read-only folder" in await dialog.text_content()
    await shot(page, f"media-read-only-delete-{name}")
    await dialog.get_by_role("button", name="Cancel").click()
    assert await ctx.db.media.count_documents({}) == 1
