"""Issue 17, item 13: files dropped anywhere on an album page (by someone who may add media
there) upload with the upload page's progress list, and the album's grid fills in as their
thumbnails are made — in Chromium, against the real service with a job worker."""

import base64

import pytest

from gallery.library import albums
from tests.browser.editing import sign_in

pytestmark = pytest.mark.browser
SIZES = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}

# A drop as the browser delivers it: a DataTransfer holding real files, over the document.
DROP = """async ([files, show]) => {
  const dt = new DataTransfer();
  for (const [name, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
  }
  document.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true }));
  if (show) return;
  document.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
}"""


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def test_files_dropped_on_an_album_page_upload_and_appear_in_its_grid(
    app, make_gallery, viewer_of, make_jpeg, browser_page, shot
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await albums.root_album(ctx)
    for name, viewport in SIZES.items():
        walks = await albums.create_album(ctx, await viewer_of(ctx), root["_id"], {"title": f"Walks {name}"})
        files = [(f"walk-{name}-{i}.jpg",
                  base64.b64encode(make_jpeg(480, 320, color=(30 * i, 90, 150)).read_bytes()).decode())
                 for i in range(2)]
        context = await browser_page.new_context(viewport=viewport)
        page = await context.new_page()
        await sign_in(page, app, gallery)
        await page.goto(f"{app.base}{gallery['prefix']}/albums/{walks['_id']}")
        assert await page.is_visible("text=This album is empty")
        assert not await page.is_visible("#drop-zone")  # out of sight until files come
        await page.evaluate(DROP, [files, True])
        await page.wait_for_selector("#drop-zone.dragging")
        assert "Walks" in await page.text_content("#drop-zone .drop-title")
        await shot(page, f"album-drop-layer-{name}")
        await page.evaluate(DROP, [files, False])
        assert not await page.is_visible("#drop-zone")
        await page.wait_for_selector("#upload-queue .upload-item", timeout=30_000)
        # The grid fills in without a reload, from the album's own processing.
        await page.wait_for_function(
            "document.querySelectorAll('#media-grid .media-tile img').length === 2", timeout=90_000)
        assert not await page.is_visible("text=This album is empty")
        assert "2 of 2 done" in await page.text_content("#upload-summary")
        await shot(page, f"album-drop-uploaded-{name}")
        stored = await ctx.db.media.find({"album_id": walks["_id"]}).to_list()
        assert sorted(m["file_name"] for m in stored) == sorted(f for f, _ in files)
        await context.close()

    # A visitor who may not add media here gets no drop layer.
    visitor = await browser_page.new_context(viewport=SIZES["phone"])
    page = await visitor.new_page()
    await page.goto(f"{app.base}{gallery['prefix']}/albums/{walks['_id']}")
    assert await page.locator("#drop-zone").count() == 0
    await visitor.close()
