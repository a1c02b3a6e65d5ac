"""Watermarks are never bypassed (issue 16): every route that returns image bytes x
(anonymous, a user without hide_watermark, one with it, one with view_original) x (a
large image with an optimized copy, a small one whose original is the viewing copy, one
still pending), real processing jobs and the real process pool; the watermark is found
by comparing the pixels in its region against the clean file."""

from __future__ import annotations

import asyncio
import io
import os
import zipfile

import pytest
from PIL import Image, ImageChops, ImageStat

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.people.roles import create_role
from gallery.people.users import create_user
from gallery.processing import watermarks
from gallery.settings import update_settings
from tests.handlers.media_api import processed as _settled

PASSWORD = "Velvet-Orchid-Lamp-31"
WATERMARK = {
    "watermark_enabled": True,
    "watermark_thumbnails": True,
    "watermark_text": "ATRIUM",
    "watermark_color": "#ff00ff",
    "watermark_opacity": 100,
    "watermark_text_size": 30,
    "watermark_position": "center",
}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


@pytest.fixture
async def setup(app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Shown"})
    queue = app.services.jobs.queue
    ids = {}
    for key, path, process in (
        ("large", make_jpeg(2600, 1900, name="large.jpg"), True),
        ("small", make_jpeg(900, 600, name="small.jpg"), True),
        ("pending", make_jpeg(1600, 1200, name="pending.jpg"), False),
    ):
        doc = await add_media_file(ctx, album, path, path.name)
        if process:
            await enqueue_processing(ctx, queue, doc["_id"])
        ids[key] = doc["_id"]
    for key in ("large", "small"):
        await _settled(ctx, ids[key])
    await update_settings(ctx, WATERMARK)
    docs = {k: await ctx.db.media.find_one({"_id": v}) for k, v in ids.items()}
    assert docs["large"]["derivatives"].get("optimized")
    assert not docs["small"]["derivatives"].get("optimized")  # its original is the copy

    viewers = await create_role(ctx, "Viewers", ["view"], [root["_id"]])
    originals = await create_role(ctx, "Originals", ["view", "view_original"], [root["_id"]])
    clean = await create_role(ctx, "Clean", ["view", "hide_watermark"], [root["_id"]])
    await create_user(ctx, "vera", "vera@alpha.test", PASSWORD, role_ids=[viewers["_id"]])
    await create_user(ctx, "olga", "olga@alpha.test", PASSWORD, role_ids=[originals["_id"]])
    await create_user(ctx, "hana", "hana@alpha.test", PASSWORD,
                      role_ids=[clean["_id"], originals["_id"]])
    browsers = {"anonymous": app.browser()}
    for who in ("vera", "olga", "hana"):
        browsers[who] = app.browser()
        assert (await browsers[who].login(g["prefix"], who, PASSWORD)).code == 302
    return g, ctx, docs, browsers, album


def _file(ctx, relative: str) -> bytes:
    return ctx.storage.resolve(relative).read_bytes()


def _clean_file(ctx, doc: dict, route: str) -> bytes:
    """The clean bytes this route would serve without watermarks."""
    derivatives = doc.get("derivatives") or {}
    chosen = derivatives.get(route) if route != "original" else None
    return _file(ctx, (chosen or doc["original"])["path"])


def _marked(body: bytes, clean: bytes) -> float:
    """Mean difference, in the middle of the picture (where the watermark sits), between
    the served image and the clean one brought to the same size."""
    served = Image.open(io.BytesIO(body)).convert("RGB")
    reference = Image.open(io.BytesIO(clean)).convert("RGB")
    if reference.size != served.size:
        reference = reference.resize(served.size, Image.Resampling.BICUBIC)
    w, h = served.size
    box = (int(w * 0.3), int(h * 0.42), int(w * 0.7), int(h * 0.58))
    diff = ImageChops.difference(served.crop(box), reference.crop(box))
    return sum(ImageStat.Stat(diff).mean) / 3


async def _renders(ctx) -> int:
    doc = await ctx.db.watermark_stats.find_one({"_id": "renders"})
    return (doc or {}).get("count", 0)


def _copies(ctx, docs) -> dict[str, int]:
    found = {}
    for doc in docs.values():
        directory = ctx.storage.derivatives / doc["_id"]
        if directory.is_dir():
            for name in os.listdir(directory):
                if name.startswith("wm-"):
                    found[name] = (directory / name).stat().st_mtime_ns
    return found


async def test_no_route_gives_clean_pixels_without_hide_watermark(setup):
    g, ctx, docs, browsers, _album = setup
    prefix = g["prefix"]
    served = {}
    for who, browser in browsers.items():
        for key, doc in docs.items():
            for route in ("thumbnail", "optimized", "original"):
                url = f"{prefix}/media/{doc['_id']}/{route}"
                response = await browser.get(url)
                served[who, key, route] = response
                if response.code != 200:
                    continue
                clean = _clean_file(ctx, doc, route)
                if who == "hana":
                    # hide_watermark: the clean file itself, never shared by caches.
                    assert response.body == clean, (who, key, route)
                    assert response.headers["Cache-Control"].startswith("private")
                    continue
                assert response.body != clean, (who, key, route)
                assert _marked(response.body, clean) > 20, (who, key, route)
                # Range and HEAD serve the same stamped file, never the clean one.
                ranged = await browser.get(url, headers={"Range": "bytes=100-1099"})
                assert ranged.code == 206 and ranged.body == response.body[100:1100]
                head = await browser.request("HEAD", url)
                assert head.headers["Content-Length"] == str(len(response.body))
                assert head.headers.get("ETag") == response.headers.get("ETag")

    # What each may have, so the checks above are not a route that serves nothing at all.
    for who in browsers:
        for key in ("large", "small"):
            assert served[who, key, "thumbnail"].code == 200
            assert served[who, key, "optimized"].code == 200
        assert served[who, "small", "original"].code == 200  # the viewing copy
    # The optimized fallback while processing: the original stands in, stamped.
    assert served["olga", "pending", "optimized"].code == 200
    assert served["vera", "pending", "optimized"].code == 404
    # An original viewed in the browser is stamped, also for view_original...
    assert served["olga", "large", "original"].code == 200
    # ...but downloaded as a file by someone with view_original it is untouched.
    for who in ("olga", "hana"):
        for key in ("large", "pending"):
            response = await browsers[who].get(f"{prefix}/media/{docs[key]['_id']}/original?download=1")
            assert response.code == 200 and response.body == _file(ctx, docs[key]["original"]["path"])
    # Without view_original, ?download=1 of a viewing copy is still stamped.
    small = docs["small"]
    response = await browsers["vera"].get(f"{prefix}/media/{small['_id']}/original?download=1")
    assert response.code == 200 and _marked(response.body, _file(ctx, small["original"]["path"])) > 20


async def test_api_urls_and_search_results_point_at_stamped_files(setup):
    g, ctx, docs, browsers, album = setup
    browser = browsers["vera"]
    response = await browser.api("GET", f"{g['prefix']}/api/v1/albums/{album['_id']}/media")
    assert response.code == 200, response.body
    import json

    items = json.loads(response.body)["items"]
    found = await browser.api("GET", f"{g['prefix']}/api/v1/search?q=large")
    items += json.loads(found.body)["items"]
    checked = 0
    for item in items:
        doc = next(d for d in docs.values() if d["_id"] == item["id"])
        if doc["state"] != "ready":
            continue  # nothing to see for vera yet (no thumbnail, original not hers)
        for route in ("thumbnail", "optimized"):
            url = item["urls"].get(route)
            if not url:
                continue
            got = await browser.get(url)
            assert got.code == 200
            assert _marked(got.body, _clean_file(ctx, doc, route)) > 20, (item["id"], route)
            checked += 1
    assert checked >= 4


async def test_zip_downloads_pack_stamped_copies(setup):
    g, ctx, docs, browsers, album = setup
    prefix = g["prefix"]
    ids = ",".join(d["_id"] for d in docs.values())
    urls = (f"{prefix}/download/album/{album['_id']}?size=optimized",
            f"{prefix}/download/media?ids={ids}&size=optimized",
            f"{prefix}/download/album/{album['_id']}?size=original")
    large_clean = _clean_file(ctx, docs["large"], "optimized")
    small_clean = _clean_file(ctx, docs["small"], "optimized")
    originals = {_file(ctx, d["original"]["path"]) for d in docs.values()}
    for url in urls:
        for who in ("anonymous", "vera", "olga", "hana"):
            response = await browsers[who].get(url)
            assert response.code == 200, (who, url)
            archive = zipfile.ZipFile(io.BytesIO(response.body))
            members = {n: archive.read(n) for n in archive.namelist()}
            assert members, (who, url)
            for name, body in members.items():
                if who == "hana":
                    assert body in originals | {large_clean}, (who, url, name)
                    continue
                if "size=original" in url and who == "olga":
                    assert body in originals, (who, url, name)  # the untouched originals
                    continue
                assert body not in originals | {large_clean, small_clean}, (who, url, name)
                clean = large_clean if name.startswith("large") else (
                    small_clean if name.startswith("small") else
                    _file(ctx, docs["pending"]["original"]["path"]))
                assert _marked(body, clean) > 20, (who, url, name)


async def test_copies_are_made_once_and_replaced_lazily_after_a_change(setup, app):
    g, ctx, docs, browsers, _album = setup
    prefix = g["prefix"]
    large = docs["large"]["_id"]
    url = f"{prefix}/media/{large}/optimized"
    # Concurrent first requests: one render, one copy.
    first = await asyncio.gather(*(browsers["vera"].get(url) for _ in range(6)))
    assert {r.body for r in first} and len({r.body for r in first}) == 1
    assert await _renders(ctx) == 1
    before = _copies(ctx, docs)
    assert len(before) == 1
    for who in ("anonymous", "vera", "olga"):
        assert (await browsers[who].get(url)).body == first[0].body
    assert await _renders(ctx) == 1 and _copies(ctx, docs) == before  # reused, not remade

    # A settings change: nothing is rendered until asked for; then a new version.
    await update_settings(ctx, {"watermark_text": "CHANGED", "watermark_position": "tiled"})
    assert await _renders(ctx) == 1
    again = await browsers["vera"].get(url)
    assert again.code == 200 and again.body != first[0].body
    assert await _renders(ctx) == 2
    after = _copies(ctx, docs)
    assert len(after) == 2 and set(before) < set(after)
    # The new copy beside the old one queued the cleanup (for later: 30 s).
    queued = await app.services.host_db.jobs.find_one({"kind": "watermarks.cleanup"})
    assert queued and queued["state"] == "queued"
    await app.services.host_db.jobs.delete_one({"_id": queued["_id"]})
    # The cleanup job, through the real queue and worker.
    job_id = await watermarks.schedule_cleanup(ctx, app.services.jobs.queue, delay=0)
    async with asyncio.timeout(60):
        while (job := await app.services.host_db.jobs.find_one({"_id": job_id}))["state"] != "done":
            assert job["state"] in ("queued", "running"), job
            await asyncio.sleep(0.05)
    assert job["result"]["removed"] == 1
    assert set(_copies(ctx, docs)) == set(after) - set(before)
    assert (await browsers["vera"].get(url)).body == again.body and await _renders(ctx) == 2

    # Off: every copy goes, and everyone gets the clean file again.
    await update_settings(ctx, {"watermark_enabled": False})
    assert (await browsers["anonymous"].get(url)).body == _clean_file(ctx, docs["large"], "optimized")
    await watermarks.cleanup(ctx)
    assert _copies(ctx, docs) == {}


async def test_admin_settings_change_schedules_the_cleanup(setup, app):
    g = setup[0]
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    page = await admin.get(f"{g['prefix']}/admin/settings")
    assert b'name="watermark_text"' in page.body
    form = {k: ("on" if v is True else str(v)) for k, v in WATERMARK.items()}
    form.update(watermark_text="NEW TEXT", watermark_font="serif")
    # Every other setting as it is: post the page's own values back.
    import re

    for name, value in re.findall(rb'<input name="([a-z_]+)"[^>]*value="([^"]*)"', page.body):
        form.setdefault(name.decode(), value.decode())
    for name in re.findall(rb'<input type="checkbox" name="([a-z_]+)" checked', page.body):
        form.setdefault(name.decode(), "on")
    for name, value in re.findall(
        rb'<select name="([a-z_]+)">.*?<option value="([^"]*)" selected', page.body, re.DOTALL
    ):
        form.setdefault(name.decode(), value.decode())
    response = await admin.post_form(f"{g['prefix']}/admin/settings", form)
    assert response.code == 200, response.body[:500]
    jobs = await app.services.host_db.jobs.find(
        {"tenant": g["slug"], "kind": "watermarks.cleanup"}
    ).to_list()
    assert len(jobs) == 1


async def test_hostile_settings_are_refused(setup):
    from gallery.errors import Invalid

    ctx = setup[1]
    for bad in ({"watermark_color": "red;x"}, {"watermark_image": "../../etc/passwd"},
                {"watermark_position": "nowhere"}, {"watermark_text_size": 0}):
        with pytest.raises(Invalid):
            await update_settings(ctx, bad)


def _png(width: int, height: int, *, alpha: bool = True) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (0, 0, 0, 0) if alpha else (0, 0, 0))
    from PIL import ImageDraw

    ImageDraw.Draw(image).ellipse((0, 0, width - 1, height - 1), fill=(0, 255, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def _upload(browser, prefix: str, name: str, data: bytes):
    boundary = "----atrium-test-boundary"
    if browser.xsrf(f"{prefix}/admin/settings") is None:
        await browser.get(f"{prefix}/admin/settings")
    xsrf = browser.xsrf(f"{prefix}/admin/settings")
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"_xsrf\"\r\n\r\n{xsrf}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
        "Content-Type: image/png\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return await browser.request(
        "POST", f"{prefix}/admin/watermark/image", body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


async def test_preview_and_image_upload(setup, app, make_jpeg):
    g, ctx, docs, browsers, _album = setup
    prefix = g["prefix"]
    admin = app.browser()
    assert (await admin.login(prefix, "admin", g["password"])).code == 302
    url = f"{prefix}/admin/watermark/preview"
    plain = await admin.get(url + "?watermark_text=")
    stamped = await admin.get(url + "?watermark_text=PREVIEW&watermark_position=center"
                                    "&watermark_opacity=100&watermark_color=%23ff00ff")
    assert plain.code == stamped.code == 200
    assert stamped.headers["Content-Type"] == "image/jpeg"
    assert _marked(stamped.body, plain.body) > 10
    assert (await admin.get(url + "?watermark_color=%3Cscript%3E")).code == 400
    assert (await browsers["vera"].get(url)).code == 403

    # Hostile uploads: not a PNG, no transparency, too many pixels, too many bytes.
    jpeg = make_jpeg(200, 100).read_bytes()
    for name, data in (("x.png", jpeg), ("flat.png", _png(200, 100, alpha=False)),
                       ("huge.png", _png(2400, 10)), ("big.png", os.urandom(950 * 1024))):
        response = await _upload(admin, prefix, name, data)
        assert response.code in (400, 413), (name, response.code)
    assert not (await ctx.db.settings.find_one({"_id": "gallery"}))["values"].get("watermark_image")
    # Only a gallery administrator may set it.
    assert (await _upload(browsers["vera"], prefix, "logo.png", _png(200, 200))).code == 403

    response = await _upload(admin, prefix, "logo.png", _png(400, 400))
    assert response.code == 302, response.body
    digest = (await ctx.db.settings.find_one({"_id": "gallery"}))["values"]["watermark_image"]
    assert ctx.storage.resolve(f"watermarks/{digest}.png").is_file()
    # Image only, centred, over the whole width: the middle is green for vera.
    await update_settings(ctx, {"watermark_text": "", "watermark_image_position": "center",
                                "watermark_image_width": 60, "watermark_image_opacity": 100})
    got = await browsers["vera"].get(f"{prefix}/media/{docs['large']['_id']}/optimized")
    served = Image.open(io.BytesIO(got.body)).convert("RGB")
    r, gr, b = served.getpixel((served.width // 2, served.height // 2))
    assert gr > 200 and r < 60 and b < 60


async def test_owner_with_view_original_gets_clean_files_others_do_not(setup):
    g, ctx, docs, browsers, _album = setup
    large = docs["large"]
    url = f"{g['prefix']}/media/{large['_id']}/optimized"
    clean = _clean_file(ctx, large, "optimized")
    for who, perms_ok in (("olga", True), ("vera", False)):
        user = await ctx.db.users.find_one({"username_key": who})
        await ctx.db.media.update_one({"_id": large["_id"]}, {"$set": {"owner_id": user["_id"]}})
        body = (await browsers[who].get(url)).body
        # olga owns it and may view_original: clean; vera owns it but may not: stamped.
        assert (body == clean) is perms_ok, who
        assert (await browsers["anonymous"].get(url)).body != clean


async def test_video_poster_is_stamped_like_a_photo(setup, app, viewer_of, tmp_path):
    """A video's poster still (served as its "optimized" image, the media page's poster)
    and the thumbnail made from it are pictures of the content: stamped for anonymous and
    a user without hide_watermark on the file routes and the API's URLs; clean for
    hide_watermark. The video file itself is not an image: served (and zipped) as it is."""
    import json

    from tests.media.av_samples import AVSamples

    g, ctx, _docs, browsers, _album = setup
    prefix = g["prefix"]
    root = await albums.root_album(ctx)
    films = await albums.create_album(ctx, await viewer_of(ctx), root["_id"], {"title": "Films"})
    clip = AVSamples(tmp_path / "av")["h264_aac.mp4"]  # real ffmpeg output, 3 s of testsrc2
    doc = await add_media_file(ctx, films, clip, clip.name, copy=True)
    await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
    video = await _settled(ctx, doc["_id"])
    assert video["kind"] == "video" and video["state"] == "ready", video.get("failure")
    derivatives = video["derivatives"]
    clean = {route: _file(ctx, derivatives[route]["path"]) for route in ("optimized", "thumbnail")}
    for who, browser in browsers.items():
        for route, body in clean.items():
            url = f"{prefix}/media/{video['_id']}/{route}"
            response = await browser.get(url)
            assert response.code == 200, (who, route)
            if who == "hana":
                assert response.body == body, (who, route)
                assert response.headers["Cache-Control"].startswith("private")
                continue
            assert response.body != body and _marked(response.body, body) > 20, (who, route)
            ranged = await browser.get(url, headers={"Range": "bytes=10-509"})
            assert ranged.code == 206 and ranged.body == response.body[10:510], (who, route)
    # The video file itself, downloaded by those who may: untouched.
    for who in ("olga", "hana"):
        response = await browsers[who].get(f"{prefix}/media/{video['_id']}/original?download=1")
        assert response.code == 200 and response.body == clip.read_bytes(), who
    # The API's URLs (the media page's poster): stamped too.
    listed = await browsers["vera"].api("GET", f"{prefix}/api/v1/albums/{films['_id']}/media")
    item = json.loads(listed.body)["items"][0]
    for route, body in clean.items():
        got = await browsers["vera"].get(item["urls"][route])
        assert got.code == 200 and _marked(got.body, body) > 20, route
    # A PDF's first page, its "optimized" picture, is stamped the same way.
    pdf = AVSamples(tmp_path / "av")["page.pdf"]
    doc = await add_media_file(ctx, films, pdf, pdf.name, copy=True)
    await enqueue_processing(ctx, app.services.jobs.queue, doc["_id"])
    page = await _settled(ctx, doc["_id"])
    assert page["state"] == "ready" and page["derivatives"].get("optimized"), page.get("failure")
    first = _file(ctx, page["derivatives"]["optimized"]["path"])
    for who in ("anonymous", "vera", "hana"):
        response = await browsers[who].get(f"{prefix}/media/{page['_id']}/optimized")
        assert response.code == 200, who
        assert (response.body == first) is (who == "hana"), who
        if who != "hana":
            assert _marked(response.body, first) > 20, who
    await ctx.db.media.delete_one({"_id": page["_id"]})  # the ZIP below holds the video only
    # A ZIP packs the video itself (docs/watermarks.md), never its clean poster still.
    for who in ("anonymous", "vera", "hana"):
        response = await browsers[who].get(f"{prefix}/download/album/{films['_id']}?size=optimized")
        assert response.code == 200, who
        archive = zipfile.ZipFile(io.BytesIO(response.body))
        assert [archive.read(n) for n in archive.namelist()] == [clip.read_bytes()], who
