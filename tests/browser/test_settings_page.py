"""The settings page in Chromium (issue 18, item 1) at desktop and phone width: the section
menu (links, or a select on phones), the save bar reachable at any scroll, the unsaved-changes
marker and leave-page warning, the metadata checklist ordered with the ↑/↓ buttons and by
dragging, the album picker for personal albums, saved and shown back in that order."""

from __future__ import annotations

import asyncio
import re

import pytest

from gallery.library import albums
from gallery.settings import get_settings
from tests.browser.signing import sign_in

pytestmark = pytest.mark.browser
PASSWORD = "Correct-Horse-Battery-9"


async def _in_view(page, selector: str) -> bool:
    return await page.evaluate(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                    return r.top >= 0 && r.bottom <= window.innerHeight + 1; }""",
        selector,
    )


@pytest.mark.parametrize("name,viewport", [("desktop", {"width": 1366, "height": 800}),
                                           ("phone", {"width": 390, "height": 844})])
async def test_settings_sections_and_ordered_checklist(app, make_gallery, viewer_of, browser_page, shot,
                                                       name, viewport):
    g = await make_gallery("alpha")
    root = await albums.root_album(g["ctx"])
    members = await albums.create_album(g["ctx"], await viewer_of(g["ctx"]), root["_id"], {"title": "Members"})
    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    await sign_in(page, base, PASSWORD)
    await page.goto(f"{base}/admin/settings")
    await shot(page, f"settings-top-{name}")
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    save = ".settings-savebar button[type=submit]"
    assert await _in_view(page, save)  # the save bar is reachable without scrolling

    # The section menu: links on desktop, a select on phones.
    if name == "desktop":
        assert await page.locator("[data-section-jump]").is_hidden()
        await page.click(".settings-nav a[href='#section-watermarks']")
    else:
        assert await page.locator(".settings-nav ul").is_hidden()
        await page.select_option("[data-section-jump]", "section-watermarks")
    await page.wait_for_function(
        "() => Math.abs(document.getElementById('section-watermarks').getBoundingClientRect().top) < 120"
    )
    assert await _in_view(page, save)
    assert await page.locator(".settings-nav").is_visible()  # sticky: still there

    # Unsaved changes: nothing marked until a field changes.
    marker = page.locator("[data-unsaved]")
    assert await marker.is_hidden()
    await page.locator("#section-general").scroll_into_view_if_needed()
    await page.click("button[aria-label='Move Camera up']")
    await page.click("button[aria-label='Move Camera up']")
    await page.click("button[aria-label='Move Camera up']")
    await marker.wait_for(state="visible")
    await page.uncheck("input[name=metadata_fields][value=tags]")
    await page.check("input[name=metadata_fields][value=file_name]")
    if name == "desktop":
        # Drag "Lens" by its grip onto the top of the list (above Camera, now first).
        # The list is taller than the window (every field Atrium reads): centre the two rows.
        await page.eval_on_selector("ol[data-ordered] li:has(input[value=lens])", "e => e.scrollIntoView({block: 'center'})")
        source = await page.locator("ol[data-ordered] li:has(input[value=lens]) .grip").bounding_box()
        target = await page.locator("ol[data-ordered] li:has(input[value=camera])").bounding_box()
        await page.mouse.move(source["x"] + 4, source["y"] + 8)
        await page.mouse.down()
        await page.mouse.move(target["x"] + 20, target["y"] + 4, steps=8)
        await page.mouse.up()
    await page.select_option("select[name=user_album_parent_id]", label="Alpha Gallery / Members")
    await page.locator("ol[data-ordered]").scroll_into_view_if_needed()
    await shot(page, f"settings-unsaved-{name}")

    # Leaving with unsaved changes asks first.
    dialogs = []
    asked = asyncio.Event()

    async def on_dialog(dialog):
        dialogs.append(dialog.type)
        asked.set()
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    await page.click("a.brand", no_wait_after=True)
    await asyncio.wait_for(asked.wait(), 10)
    assert dialogs == ["beforeunload"]
    assert "/admin/settings" in page.url

    await page.click(save)
    await page.wait_for_selector("text=Settings saved.")
    stored = await get_settings(g["ctx"])
    expected_top = ["lens", "camera"] if name == "desktop" else ["camera"]
    assert stored["metadata_fields"][: len(expected_top)] == expected_top
    assert "tags" not in stored["metadata_fields"] and stored["metadata_fields"][-1] == "file_name"
    assert stored["user_album_parent_id"] == members["_id"]
    shown = await page.eval_on_selector_all(
        "input[name=metadata_fields]:checked", "els => els.map(e => e.value)")
    assert shown == stored["metadata_fields"]
    assert await marker.is_hidden()
    # Saved: leaving asks nothing.
    dialogs.clear()
    await page.click("a.brand")
    await page.wait_for_url(re.compile(r".*/g/alpha/$"))
    assert dialogs == []
    await context.close()
