"""What only the API did, now on the pages: "Add external media" on the album page (the
allowlist's verdict shown before saving, a hostile embed refused), "Flip" and "Replace
file…" on the media page. 1366 px then 390 px in one context."""

from __future__ import annotations

import pytest

from tests.browser.editing import edit_ready, seed_album, sign_in

pytestmark = pytest.mark.browser
HOSTILE = '<iframe src="https://evil.example/x" onload="alert(1)"></iframe><script>alert(2)</script>'
YOUTUBE = ('<iframe width="560" height="315" src="https://www.youtube-nocookie.com/embed/abc123" '
           'title="A walk" allowfullscreen></iframe>')


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def test_external_media_flip_and_replace_from_the_pages(app, make_gallery, browser_page,
                                                             shot, make_jpeg):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    album_id, (photo,) = await seed_album(app, gallery, make_jpeg, count=1)
    context = await browser_page.new_context(viewport={"width": 1366, "height": 800})
    page = await context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await sign_in(page, app, gallery)

    await page.goto(f"{app.base}{gallery['prefix']}/albums/{album_id}")
    await edit_ready(page)
    await page.click("button:has-text('Add external media')")
    code = page.locator("dialog textarea[name=html]")
    await code.fill(HOSTILE)
    verdict = page.locator("dialog [data-verdict=refused]")
    await verdict.wait_for()
    assert "evil.example are not allowed" in await verdict.text_content()
    await code.fill(YOUTUBE)
    await page.locator("dialog [data-verdict=allowed]").wait_for()
    await page.fill("dialog input[name=title]", "A walk by the sea")
    await shot(page, "external-media-dialog-desktop")
    assert await ctx.db.media.count_documents({"kind": "external"}) == 0  # verdicts store nothing
    await page.click("dialog button:has-text('Add')")
    await page.wait_for_selector(".toast:text-is('External media added')")
    external = await ctx.db.media.find_one({"album_id": album_id, "kind": "external"})
    assert external["title"] == "A walk by the sea" and "abc123" in external["embed_html"]

    await page.goto(f"{app.base}{gallery['prefix']}/media/{photo}")
    await edit_ready(page)
    await page.click(".edit-actions button[aria-label='Flip horizontally']")
    await page.wait_for_selector(".toast:text-is('Flipped')", timeout=30_000)
    flipped = await ctx.db.media.find_one({"_id": photo})
    assert flipped["state"] == "ready" and flipped["transform"]["mirror"] is True
    await page.click(".edit-actions button[aria-label='Flip vertically']")
    await page.wait_for_selector(".toast:text-is('Flipped') >> nth=1", timeout=30_000)
    flipped = await ctx.db.media.find_one({"_id": photo})
    assert (flipped["transform"]["mirror"], flipped["transform"]["rotate"]) == (False, 180)

    await page.set_viewport_size({"width": 390, "height": 844})
    wider = make_jpeg(400, 200, name="panorama.jpg")
    await page.set_input_files("[data-replace-input]", str(wider))
    await page.wait_for_selector(".toast:text-is('File replaced')", timeout=30_000)
    replaced = await ctx.db.media.find_one({"_id": photo})
    assert (replaced["width"], replaced["height"]) == (400, 200)
    assert replaced["file_name"] == "panorama.jpg"
    await page.evaluate("document.getElementById('toasts').remove()")  # the toolbar under them
    await shot(page, "media-edit-actions-phone")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    await page.goto(f"{app.base}{gallery['prefix']}/albums/{album_id}")
    await edit_ready(page)
    await page.click("button:has-text('Add external media')")
    await page.locator("dialog textarea[name=html]").fill(HOSTILE)
    await page.locator("dialog [data-verdict=refused]").wait_for()
    await shot(page, "external-media-dialog-phone")
    assert not dialogs
    await context.close()
