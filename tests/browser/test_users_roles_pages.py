"""The users and roles pages in Chromium at desktop and phone width (issue 18, item 2):
checkbox groups without the browser's fieldset box, action buttons clear of the cards around
them, counts in real plurals, one line explaining each permission, a role's albums ticked in
the album tree (indented, no sideways scrolling at 390 px)."""

from __future__ import annotations

import pytest

from gallery.library import albums
from tests.browser.signing import sign_in

pytestmark = pytest.mark.browser
PASSWORD = "Correct-Horse-Battery-9"


async def _no_box(page, selector: str) -> None:
    style = await page.eval_on_selector(
        selector, "e => { const s = getComputedStyle(e); return [s.borderTopStyle, s.paddingLeft]; }")
    assert style == ["none", "0px"], selector


async def _fits(page, width: int) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= width + 1


@pytest.mark.parametrize("name,viewport", [("desktop", {"width": 1366, "height": 800}),
                                           ("phone", {"width": 390, "height": 844})])
async def test_users_and_roles_pages(app, make_gallery, viewer_of, browser_page, shot, name, viewport):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin_viewer = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    parent = root
    for title in ("Family", "Holidays", "Summer by the sea in Brittany 2024", "Day trips", "Boats"):
        parent = await albums.create_album(ctx, admin_viewer, parent["_id"], {"title": title})
    base = f"{app.base}/g/alpha"
    context = await browser_page.new_context(viewport=viewport)
    page = await context.new_page()
    await sign_in(page, base, PASSWORD)

    # Users: one user, then two; the roles checklist has no fieldset box.
    await page.goto(f"{base}/admin/users")
    assert (await page.text_content(".list-count")).strip() == "1 user"
    await _no_box(page, "form fieldset.checks")
    await page.fill("input[name=username]", "bob")
    await page.fill("input[name=email]", "bob@alpha.test")
    await page.fill("input[name=password]", "Violet-Tuba-Lantern-42")
    await page.click("button:has-text('Create user')")
    await page.wait_for_selector("h1:has-text('bob')")
    # bob never signed in: "0 sessions"; the actions stand clear of the cards below.
    assert "0 sessions ·" in await page.text_content(".page-head")
    bar = await page.locator(".actions-bar").bounding_box()
    card = await page.locator(".grid-2 .card").first.bounding_box()
    assert card["y"] - (bar["y"] + bar["height"]) >= 16
    await _no_box(page, ".card fieldset.checks")
    await _fits(page, viewport["width"])
    await shot(page, f"admin-user-{name}")
    await page.goto(f"{base}/admin/users")
    assert (await page.text_content(".list-count")).strip() == "2 users"
    await page.click("table a:text-is('admin')")
    await page.wait_for_selector("h1:text-is('admin')")
    assert "1 session ·" in await page.text_content(".page-head")

    # Roles: each permission explained in a line; the albums in the tree, indented.
    await page.goto(f"{base}/admin/roles")
    await _no_box(page, "fieldset.permissions")
    await _no_box(page, "fieldset.album-picker")
    hint = page.locator("label.check-line:has(input[value=add_media]) .hint")
    assert "Upload photos" in await hint.text_content()
    lines = await page.eval_on_selector_all(
        "label.check-line .hint", "els => els.map(e => e.textContent.trim())")
    assert lines and all(lines)
    await page.fill("input[name=name]", "Boat people")
    await page.check("input[name=permissions][value=add_media]")
    deep = page.locator("li:has-text('Boats') input[name=album_ids]")
    indent = await page.eval_on_selector_all(
        ".album-tree li", "els => els.map(e => parseFloat(getComputedStyle(e).paddingLeft))")
    assert indent == sorted(indent) and indent[-1] > indent[0]
    await deep.scroll_into_view_if_needed()
    await deep.check()
    await _fits(page, viewport["width"])
    await shot(page, f"admin-roles-{name}")
    await page.click("button:has-text('Create role')")
    await page.wait_for_selector("h1:has-text('Role: Boat people')")
    assert await page.is_checked("li:has-text('Boats') input[name=album_ids]")
    assert await page.is_checked("input[name=permissions][value=add_media]")
    role = await ctx.db.roles.find_one({"name": "Boat people"})
    assert role["album_ids"] == [parent["_id"]]
    await _fits(page, viewport["width"])
    await shot(page, f"admin-role-{name}")
    await context.close()
