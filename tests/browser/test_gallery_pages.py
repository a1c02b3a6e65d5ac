"""A visitor and an admin use the gallery pages in real Chromium: album grid with infinite
scroll, lightbox (arrows, Escape, history), slideshow, media page, search by tag, ZIP
download; an anonymous visitor sees no private album; screenshots at desktop and phone width."""

import io
import re
import zipfile

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file, update_media
from gallery.settings import update_settings
from tests.browser.conftest import SHOTS
from tests.handlers.test_pages import _process

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
COLORS = [(220, 90, 60), (60, 140, 200), (90, 170, 90), (200, 170, 60), (150, 90, 190)]
SIZES = [(640, 427), (427, 640), (800, 450), (600, 600), (900, 300)]


async def _world(app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("alpha", "Alpha Photos")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    await update_settings(ctx, {"page_size": 10, "slideshow_interval": 1})
    root = await albums.root_album(ctx)
    trips = await albums.create_album(
        ctx, admin, root["_id"], {"title": "Summer trips", "summary": "Coast, hills and harbours."}
    )
    beaches = await albums.create_album(ctx, admin, trips["_id"], {"title": "Beaches"})
    hills = await albums.create_album(ctx, admin, trips["_id"], {"title": "Hills"})
    secret = await albums.create_album(ctx, admin, root["_id"], {"title": "Family only"})
    await albums.set_private(ctx, secret, True)
    items = []
    for i in range(12):
        w, h = SIZES[i % len(SIZES)]
        path = make_jpeg(w, h, name=f"trip-{i}.jpg", color=COLORS[i % len(COLORS)])
        m = await add_media_file(ctx, trips, path, f"trip-{i:02d}.jpg", title=f"Trip {i:02d}")
        items.append(await _process(app, ctx, m))
    await update_media(
        ctx,
        admin,
        items[3]["_id"],
        {"tags": ["lighthouse", "sea"], "caption": "The old light at dusk"},
    )
    for album, color in (
        (beaches, (60, 140, 200)),
        (hills, (90, 170, 90)),
        (secret, (200, 60, 60)),
    ):
        path = make_jpeg(640, 427, name=f"{album['_id']}.jpg", color=color)
        await _process(app, ctx, await add_media_file(ctx, album, path, "cover.jpg"))
    return g, ctx, trips, secret, items


async def _ids(page):
    return await page.eval_on_selector_all(
        "#media-grid .media-tile", "els => els.map(e => e.dataset.mediaId)"
    )


async def test_album_lightbox_slideshow_and_search(
    app, make_gallery, viewer_of, make_jpeg, browser_page, shot
):
    g, _ctx, _trips, _secret, items = await _world(app, make_gallery, viewer_of, make_jpeg)
    base = app.base + g["prefix"]
    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    await page.goto(base + "/")
    assert "Summer trips" in await page.text_content("#child-albums")
    assert "Family only" not in await page.content()
    await shot(page, "gallery-home-desktop")

    await page.click("text=Summer trips")
    await page.wait_for_selector("#media-grid .media-tile")
    # infinite scroll: the first page has 10, scrolling brings the other 2 from the API
    await page.locator("#media-grid .media-tile").last.scroll_into_view_if_needed()
    await page.wait_for_function(
        "document.querySelectorAll('#media-grid .media-tile').length === 12"
    )
    assert await _ids(page) == [m["_id"] for m in items]
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, "gallery-album-desktop")
    # the viewer's sort carries into the pages infinite scroll loads
    await page.goto(page.url + "?sort=title&dir=-1")
    await page.locator("#media-grid .media-tile").last.scroll_into_view_if_needed()
    await page.wait_for_function(
        "document.querySelectorAll('#media-grid .media-tile').length === 12"
    )
    assert await _ids(page) == [m["_id"] for m in reversed(items)]
    await page.go_back()

    # lightbox: opens on click, arrows move, the address is the media page's, Escape closes
    album_url = page.url
    await page.click(f'.media-tile[data-media-id="{items[2]["_id"]}"] a')
    box = page.locator(".lightbox")
    await box.wait_for(state="visible")
    assert await box.get_attribute("data-media-id") == items[2]["_id"]
    assert page.url.endswith(f"/media/{items[2]['_id']}")
    await page.keyboard.press("ArrowRight")
    await page.wait_for_function(
        f"document.querySelector('.lightbox').dataset.mediaId === '{items[3]['_id']}'"
    )
    assert "The old light at dusk" in await page.text_content(".lb-caption")
    await page.wait_for_function("document.querySelector('.lb-media').complete")
    await page.screenshot(path=str(SHOTS / "gallery-lightbox-desktop.png"))
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("ArrowLeft")
    await page.wait_for_function(
        f"document.querySelector('.lightbox').dataset.mediaId === '{items[1]['_id']}'"
    )
    assert page.url.endswith(f"/media/{items[1]['_id']}")
    await page.keyboard.press("Escape")
    await box.wait_for(state="hidden")
    await page.wait_for_function(f"location.href === {album_url!r}")
    # the browser's forward button reopens it, back closes it again
    await page.go_forward()
    await box.wait_for(state="visible")
    assert await box.get_attribute("data-media-id") == items[1]["_id"]
    await page.go_back()
    await box.wait_for(state="hidden")
    assert page.url == album_url

    # by keyboard: Enter on a focused tile opens it, Escape gives the focus back to the tile
    tile_link = page.locator(f'.media-tile[data-media-id="{items[5]["_id"]}"] a')
    await tile_link.focus()
    await page.keyboard.press("Enter")
    await box.wait_for(state="visible")
    assert await box.get_attribute("data-media-id") == items[5]["_id"]
    assert await page.evaluate("document.activeElement.classList.contains('lb-close')")
    await page.keyboard.press("Escape")
    await box.wait_for(state="hidden")
    focused = await page.evaluate("document.activeElement.closest('.media-tile').dataset.mediaId")
    assert focused == items[5]["_id"]

    # reload on a lightbox address lands on the media page
    await page.click(f'.media-tile[data-media-id="{items[3]["_id"]}"] a')
    await box.wait_for(state="visible")
    await page.reload()
    assert await page.text_content("h1.media-title") == "Trip 03"
    assert "lighthouse" in await page.text_content("ul.media-tags")
    await shot(page, "gallery-media-desktop")
    await page.keyboard.press("ArrowRight")
    await page.wait_for_url(re.compile(rf".*/media/{items[4]['_id']}$"))

    # slideshow: advances by itself, space pauses, Escape ends it
    await page.goto(album_url)
    # Every item the lightbox shows, recorded as it is shown: on a busy machine the 1 s
    # interval can pass before the test reads the attribute, and the first would be missed.
    await page.evaluate("""() => {
        window.shownIds = [];
        const box = document.querySelector('.lightbox');
        new MutationObserver(() => {
            const id = box.dataset.mediaId;
            if (id && window.shownIds.at(-1) !== id) window.shownIds.push(id);
        }).observe(box, {attributes: true, attributeFilter: ['data-media-id']});
    }""")
    await page.click("[data-action=slideshow]")
    await box.wait_for(state="visible")
    await page.wait_for_function("document.querySelector('.lightbox').dataset.playing === '1'")
    await page.wait_for_function("window.shownIds.length > 0")
    first = await page.evaluate("window.shownIds[0]")
    assert first == items[0]["_id"]
    await page.wait_for_function(
        f"document.querySelector('.lightbox').dataset.mediaId !== '{first}'",
        polling=100,
        timeout=15000,
    )
    await page.keyboard.press(" ")
    await page.wait_for_function(
        "document.querySelector('.lightbox').dataset.playing === '0'", polling=100
    )
    await page.keyboard.press(" ")
    await page.wait_for_function(
        "document.querySelector('.lightbox').dataset.playing === '1'", polling=100
    )
    assert await box.is_visible()
    await page.keyboard.press("Escape")
    await box.wait_for(state="hidden")

    # search by a tag finds the item; the tag on the media page links there too
    await page.goto(base + "/search")
    await shot(page, "gallery-search-empty-desktop")
    await page.fill("input[name=q]", "lighthouse")
    await page.press("input[name=q]", "Enter")
    await page.wait_for_selector("#media-grid .media-tile")
    assert await _ids(page) == [items[3]["_id"]]
    await shot(page, "gallery-search-desktop")
    # Narrowed by kind with the form's own control: no video holds "lighthouse".
    await page.select_option("select[name=kind]", "video")
    await page.click(".search-form button[type=submit]")
    await page.wait_for_selector("h2:has-text('Nothing found for “lighthouse”')")
    assert "kind=video" in page.url
    # Albums are found by title, as cards above the media.
    await page.goto(base + "/search?q=trips")
    await page.wait_for_selector(f'.album-section .album-tile[data-album-id="{_trips["_id"]}"]')
    await shot(page, "gallery-search-albums-desktop")

    # the dark theme (following the system)
    await page.emulate_media(color_scheme="dark")
    await page.goto(album_url)
    bg = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(15, 17, 21)", bg
    await shot(page, "gallery-album-dark-desktop")
    await page.goto(f"{base}/media/{items[3]['_id']}")
    await shot(page, "gallery-media-dark-desktop")
    assert errors == []
    await context.close()


async def test_phone_width_and_anonymous_visitor(
    app, make_gallery, viewer_of, make_jpeg, browser_page, shot
):
    g, _ctx, trips, secret, items = await _world(app, make_gallery, viewer_of, make_jpeg)
    base = app.base + g["prefix"]
    context = await browser_page.new_context(viewport=PHONE, has_touch=True)
    page = await context.new_page()
    for url, name in (
        ("/", "gallery-home-phone"),
        (f"/albums/{trips['_id']}", "gallery-album-phone"),
        (f"/media/{items[3]['_id']}", "gallery-media-phone"),
        ("/search?q=sea", "gallery-search-phone"),
        ("/search?q=trips", "gallery-search-albums-phone"),
        ("/tags", "gallery-tags-phone"),
    ):
        await page.goto(base + url)
        html = await page.content()
        assert "Family only" not in html and secret["_id"] not in html, url
        # nothing wider than the phone
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (url, width)
        await shot(page, name)
    await page.goto(f"{base}/albums/{trips['_id']}")
    await page.click(f'.media-tile[data-media-id="{items[0]["_id"]}"] a')
    await page.locator(".lightbox").wait_for(state="visible")
    await page.wait_for_function("document.querySelector('.lb-media').complete")
    await page.screenshot(path=str(SHOTS / "gallery-lightbox-phone.png"))
    # a swipe to the left shows the next item, to the right the previous one
    swipe = """([x0, x1]) => {
      const stage = document.querySelector('.lb-stage');
      const touch = (x) => new Touch({identifier: 1, target: stage, clientX: x, clientY: 400});
      stage.dispatchEvent(new TouchEvent('touchstart', {touches: [touch(x0)], changedTouches: [touch(x0)], bubbles: true}));
      stage.dispatchEvent(new TouchEvent('touchend', {touches: [], changedTouches: [touch(x1)], bubbles: true}));
    }"""
    await page.evaluate(swipe, [300, 80])
    await page.wait_for_function(
        f"document.querySelector('.lightbox').dataset.mediaId === '{items[1]['_id']}'"
    )
    await page.evaluate(swipe, [80, 300])
    await page.wait_for_function(
        f"document.querySelector('.lightbox').dataset.mediaId === '{items[0]['_id']}'"
    )
    response = await page.goto(f"{base}/albums/{secret['_id']}")
    assert response.status == 404
    # signed in as the admin, the header still fits the phone on one line
    await page.goto(f"{base}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", g["password"])
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()
    await page.goto(f"{base}/albums/{trips['_id']}")
    assert "Family only" not in await page.content()  # a sibling, not an ancestor
    header = await page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
    assert header < 70, header
    await shot(page, "gallery-album-admin-phone")
    await context.close()


async def test_download_zip_from_the_toolbar(app, make_gallery, viewer_of, make_jpeg, browser_page):
    g, _ctx, trips, _secret, _items = await _world(app, make_gallery, viewer_of, make_jpeg)
    context = await browser_page.new_context(viewport=DESKTOP, accept_downloads=True)
    page = await context.new_page()
    await page.goto(f"{app.base}{g['prefix']}/albums/{trips['_id']}")
    await page.click("#album-toolbar summary")
    async with page.expect_download() as info:
        await page.click("text=ZIP, web size")
    download = await info.value
    data = (await download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    assert len([n for n in names if n.lower().endswith(".jpg")]) == 12, names
    assert not any("Family" in n for n in names)
    await context.close()
