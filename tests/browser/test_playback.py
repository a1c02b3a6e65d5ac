"""Playback in headless Chromium: a transcoded 60-second video and a transcoded audio file
seek to 45 s and play on from there, fed by Range requests answered with 206; a PDF is
shown inline and a text file escaped, each with a download link."""

import asyncio
import re

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from tests.media.av_samples import ffmpeg

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 2, "limits.image_workers": 1})


async def _settled(ctx, media_id, timeout=180.0):  # a 60 s transcode on 2 busy cores
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    media = None
    while loop.time() < deadline:
        media = await ctx.db.media.find_one({"_id": media_id})
        state = (media.get("transcode") or {}).get("state", "none")
        if media["state"] == "failed" or (
            media["state"] == "ready" and state not in ("pending", "running")
        ):
            return media
        await asyncio.sleep(0.1)
    raise AssertionError(f"media {media_id} not settled: {media}")


@pytest.fixture
async def clips(app, make_gallery, viewer_of, tmp_path):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Playback"})
    video, audio = tmp_path / "minute.avi", tmp_path / "minute.flac"
    # 60 s, small and quick to make: MPEG-4 in AVI needs a web copy; so does FLAC.
    await asyncio.to_thread(
        ffmpeg,
        *["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10"],
        *["-f", "lavfi", "-i", "sine=frequency=330:sample_rate=22050"],
        *["-t", "60", "-c:v", "mpeg4", "-q:v", "10", "-g", "20", "-c:a", "libmp3lame"],
        video,
    )
    await asyncio.to_thread(
        ffmpeg,
        *["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-t", "60", "-ac", "1"],
        audio,
    )
    pdf, txt = tmp_path / "notes.pdf", tmp_path / "readme.txt"
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (288, 216), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle([0, 0, 288, 40], fill=(51, 85, 221))
    draw.text((20, 100), "Meeting notes, page 1", fill="black")
    page.save(pdf, "PDF", resolution=72)
    txt.write_text("Shopping list\n- eggs & milk\n- if a < b then <b>bold</b> stays text\n")
    ids = {}
    for key, path in (("video", video), ("audio", audio), ("pdf", pdf), ("text", txt)):
        media = await add_media_file(ctx, album, path, path.name)
        await enqueue_processing(ctx, app.services.jobs.queue, media["_id"])
        ids[key] = media["_id"]
    for key, media_id in ids.items():
        done = await _settled(ctx, media_id)
        assert done["state"] == "ready", (key, done.get("failure"))
        if key in ("video", "audio"):
            assert done["transcode"]["state"] == "ready", done["transcode"]
    return g, ids


async def _login(page, app, g):
    await page.goto(f"{app.base}{g['prefix']}/login")
    await page.fill("input[name=login]", "admin")
    await page.fill("input[name=password]", g["password"])
    await page.click("button:has-text('Sign in')")
    await page.wait_for_url(re.compile(rf".*{g['prefix']}/$"))


async def _seek_and_play(page, selector: str) -> float:
    """Seek the player to 45 s, play (muted: no user gesture here), return a later time."""
    await page.wait_for_function(
        f"document.querySelector('{selector}').readyState >= 1", timeout=20_000
    )
    await page.evaluate(
        f"""() => {{ const p = document.querySelector('{selector}');
             p.muted = true; p.currentTime = 45; return p.play(); }}"""
    )
    await page.wait_for_function(
        f"document.querySelector('{selector}').currentTime > 45.5", timeout=20_000
    )
    return await page.evaluate(f"document.querySelector('{selector}').currentTime")


@pytest.mark.parametrize("kind", ["video", "audio"])
async def test_a_transcoded_file_seeks_to_45_seconds_and_plays_on_with_range_requests(
    app, clips, browser_page, shot, kind
):
    g, ids = clips
    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    ranges = []
    page.on(
        "response",
        lambda r: (
            ranges.append((r.status, r.headers.get("content-range")))
            if f"/media/{ids[kind]}/web" in r.url
            else None
        ),
    )
    await _login(page, app, g)
    await page.goto(f"{app.base}{g['prefix']}/media/{ids[kind]}")
    selector = f"#av-viewer {kind}.player"
    assert await page.is_visible(selector)
    assert await page.get_attribute(selector, "autoplay") is None
    if kind == "video":
        assert "/optimized" in (await page.get_attribute(selector, "poster") or "")
    at = await _seek_and_play(page, selector)
    assert 45.5 < at < 60
    assert any(status == 206 and content_range for status, content_range in ranges), ranges
    # The page's one download control offers the original and the web copy (issue 17, item 10).
    assert await page.locator(":is(a, summary):visible:has-text('Download')").count() == 1
    await page.click(".download-choice summary")
    original = await page.get_attribute(".download-menu a:has-text('Original')", "href")
    web = await page.get_attribute(".download-menu a:has-text('Web copy')", "href")
    assert f"/media/{ids[kind]}/original" in original and "download=1" in original
    assert f"/media/{ids[kind]}/web" in web and "download=1" in web
    await page.click(".download-choice summary")
    assert await page.is_hidden("#av-preparing")
    await page.evaluate(f"document.querySelector('{selector}').pause()")
    await shot(page, f"playback-{kind}-desktop")
    await page.set_viewport_size(PHONE)
    # On a phone, previous/next sit outside the player: its own controls stay free (item 11).
    player = await page.locator(selector).bounding_box()
    for nav in await page.locator(".media-stage .stage-nav").all():
        box = await nav.bounding_box()
        assert box["y"] >= player["y"] + player["height"], (box, player)
    await shot(page, f"playback-{kind}-phone")
    await context.close()


async def test_a_pdf_is_shown_inline_and_a_text_file_escaped(app, clips, browser_page, shot):
    g, ids = clips
    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await _login(page, app, g)
    await page.goto(f"{app.base}{g['prefix']}/media/{ids['pdf']}")
    frame = page.locator("#av-viewer iframe")
    assert (await frame.get_attribute("src")).endswith(f"/media/{ids['pdf']}/original")
    # What the frame gets (Chromium's PDF viewer hides the response from Playwright).
    client = app.browser()
    await client.login(g["prefix"], "admin", g["password"])
    r = await client.get(f"{g['prefix']}/media/{ids['pdf']}/original")
    assert r.code == 200 and r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("inline")
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    only = page.locator(":is(a, summary):visible:has-text('Download')")
    assert await only.count() == 1  # one download control on the page
    assert f"/media/{ids['pdf']}/original" in await only.get_attribute("href")
    await shot(page, "viewer-pdf-desktop")
    # On the album page the PDF's tile says what it is, and the lightbox shows its first
    # page with Open and Download, not a dark empty stage (issue 17, item 10).
    album_id = (await g["ctx"].db.media.find_one({"_id": ids["pdf"]}))["album_id"]
    await page.goto(f"{app.base}{g['prefix']}/albums/{album_id}")
    tile = page.locator(f".media-tile[data-media-id='{ids['pdf']}']")
    assert await tile.locator(".tile-badge").text_content() == "PDF"
    assert await page.locator(f".media-tile[data-media-id='{ids['text']}'] .tile-badge").text_content() == "TXT"
    await shot(page, "album-document-badges-desktop")
    await tile.locator("a").click()
    first_page = page.locator(".lightbox .lb-file img.lb-page")
    await first_page.wait_for()
    assert (await first_page.get_attribute("src")).endswith(f"/media/{ids['pdf']}/optimized")
    await page.wait_for_function("document.querySelector('.lightbox img.lb-page').naturalWidth > 0")
    download = page.locator(".lightbox .lb-file a:has-text('Download')")
    assert "/original?download=1" in await download.get_attribute("href")
    assert await page.locator(".lightbox .lb-file a:has-text('Open')").get_attribute("href")
    await shot(page, "lightbox-pdf-desktop")
    await page.keyboard.press("Escape")
    # A visitor who may not have the original sees page 1 as an image, and no download.
    visitor = await browser_page.new_context(viewport=PHONE)
    anonymous = await visitor.new_page()
    await anonymous.goto(f"{app.base}{g['prefix']}/media/{ids['pdf']}")
    assert await anonymous.locator("#av-viewer iframe").count() == 0
    page_one = anonymous.locator("#av-viewer img")
    assert (await page_one.get_attribute("src")).endswith(f"/media/{ids['pdf']}/optimized")
    assert await anonymous.locator("#av-viewer a:has-text('Download')").count() == 0
    await shot(anonymous, "viewer-pdf-anonymous-phone")
    await anonymous.goto(f"{app.base}{g['prefix']}/albums/{album_id}")
    await anonymous.locator(f".media-tile[data-media-id='{ids['pdf']}'] a").click()
    await anonymous.locator(".lightbox img.lb-page").wait_for()
    assert await anonymous.locator(".lightbox .lb-file a:has-text('Download')").count() == 0
    assert await anonymous.locator(".lightbox .lb-file a:has-text('Open')").is_visible()
    await shot(anonymous, "lightbox-pdf-anonymous-phone")
    await visitor.close()
    await page.goto(f"{app.base}{g['prefix']}/media/{ids['text']}")
    text = await page.text_content("#av-viewer pre.av-text")
    assert "- if a < b then <b>bold</b> stays text" in text and "eggs & milk" in text
    assert await page.locator("#av-viewer pre b").count() == 0
    await page.set_viewport_size(PHONE)
    await page.emulate_media(color_scheme="dark")
    await shot(page, "viewer-text-phone-dark")
    await context.close()


async def test_the_page_shows_the_web_copy_being_prepared_then_switches_to_it(
    app, make_gallery, viewer_of, browser_page, shot, tmp_path
):
    from gallery.settings import update_settings

    g = await make_gallery("beta")
    ctx = g["ctx"]
    # A slow preset on a longer clip keeps the transcode running while the page is open.
    await update_settings(ctx, {"video_preset": "slow", "video_crf": "18"})
    root = await albums.root_album(ctx)
    clip = tmp_path / "long.avi"
    await asyncio.to_thread(
        ffmpeg,
        *["-f", "lavfi", "-i", "testsrc2=size=480x270:rate=25", "-t", "12"],
        *["-c:v", "mpeg4", "-q:v", "6"],
        clip,
    )
    media = await add_media_file(ctx, root, clip, clip.name)
    await enqueue_processing(ctx, app.services.jobs.queue, media["_id"])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        doc = await ctx.db.media.find_one({"_id": media["_id"]})
        if (doc.get("transcode") or {}).get("state") == "running":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the transcode never started: {doc.get('transcode')}")
    context = await browser_page.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await _login(page, app, g)
    await page.goto(f"{app.base}{g['prefix']}/media/{media['_id']}")
    notice = page.locator("#av-preparing")
    assert await notice.is_visible()
    assert re.fullmatch(r"\d{1,3}%", await page.text_content("#av-percent"))
    await shot(page, "playback-preparing-desktop")
    await page.wait_for_function(
        "document.querySelector('#av-viewer').dataset.state === 'ready'", timeout=120_000
    )
    assert await notice.is_hidden()
    assert "?v=ready" in await page.evaluate("document.querySelector('video.player').src")
    await context.close()
