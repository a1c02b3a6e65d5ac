"""No file route hands out an original's bytes to someone without view_original, unless
processing decided the original is what people see (issue 11, item 3): every file route
x (anonymous, view only, view_original) x (pending, ready, failed), real processing jobs."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.people.roles import create_role
from gallery.people.users import create_user
from tests.handlers.media_api import processed as _settled

PASSWORD = "Velvet-Orchid-Lamp-31"
ROUTES = ("thumbnail", "optimized", "web", "original")


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def _broken_jpeg(path):
    # A JPEG header (so it is sniffed and stored as one) over bytes no decoder accepts.
    path.write_bytes(
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x17" * 4000
    )
    return path


def _mp4(path):
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10:duration=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture
async def setup(app, make_gallery, viewer_of, make_jpeg, tmp_path):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Shown"})
    queue = app.services.jobs.queue
    media = {}
    for key, path, process in (
        ("ready", make_jpeg(2600, 1900, name="big.jpg"), True),
        ("failed", _broken_jpeg(tmp_path / "broken.jpg"), True),
        ("pending", make_jpeg(1600, 1200, name="later.jpg"), False),
        ("video", await asyncio.to_thread(_mp4, tmp_path / "clip.mp4"), True),
    ):
        doc = await add_media_file(ctx, album, path, path.name)
        if process:
            await enqueue_processing(ctx, queue, doc["_id"])
        media[key] = doc["_id"]
    for key in ("ready", "failed", "video"):
        await _settled(ctx, media[key])
    docs = {k: await ctx.db.media.find_one({"_id": v}) for k, v in media.items()}
    assert docs["ready"]["state"] == "ready" and docs["ready"]["derivatives"].get("optimized")
    assert docs["failed"]["state"] == "failed" and docs["pending"]["state"] == "pending"
    assert docs["video"]["state"] == "ready"
    assert (docs["video"].get("transcode") or {}).get("state") in (None, "none")

    viewers_role = await create_role(ctx, "Viewers", ["view"], [root["_id"]])
    originals_role = await create_role(ctx, "Originals", ["view", "view_original"], [root["_id"]])
    await create_user(ctx, "vera", "vera@alpha.test", PASSWORD, role_ids=[viewers_role["_id"]])
    await create_user(ctx, "olga", "olga@alpha.test", PASSWORD, role_ids=[originals_role["_id"]])
    browsers = {"anonymous": app.browser(), "view": app.browser(), "view_original": app.browser()}
    assert (await browsers["view"].login(g["prefix"], "vera", PASSWORD)).code == 302
    assert (await browsers["view_original"].login(g["prefix"], "olga", PASSWORD)).code == 302
    originals = {
        k: ctx.storage.resolve(d["original"]["path"]).read_bytes() for k, d in docs.items()
    }
    return g, docs, browsers, originals


async def test_original_bytes_need_view_original_on_every_route(setup):
    g, docs, browsers, originals = setup
    seen = {}
    for who, browser in browsers.items():
        for key, doc in docs.items():
            for route in ROUTES:
                for method in ("GET", "HEAD"):
                    url = f"{g['prefix']}/media/{doc['_id']}/{route}"
                    response = await browser.request(method, url)
                    seen[who, key, route, method] = response
                    gets_original = response.code == 200 and (
                        response.body == originals[key]
                        if method == "GET"
                        else response.headers.get("Content-Length") == str(len(originals[key]))
                        and response.headers.get("Content-Type") == doc["mime"]
                    )
                    # A video that plays as it is: its original *is* the web copy.
                    viewing_copy = key == "video" and route == "web"
                    if gets_original and who != "view_original" and not viewing_copy:
                        pytest.fail(
                            f"{who} got the original of the {key} item from /{route} ({method})"
                        )

    # What each may have, so the refusals above are not a route that serves nothing at all.
    for who in browsers:
        ready = seen[who, "ready", "optimized", "GET"]
        assert ready.code == 200 and ready.body != originals["ready"]
        assert seen[who, "ready", "thumbnail", "GET"].code == 200
        played = seen[who, "video", "web", "GET"]
        assert played.code == 200 and played.body == originals["video"]
    for key in docs:
        original = seen["view_original", key, "original", "GET"]
        assert original.code == 200 and original.body == originals[key]
    for who, refused in (("anonymous", 401), ("view", 403)):
        for key in docs:
            assert seen[who, key, "original", "GET"].code == refused, (who, key)
        for key in ("pending", "ready"):
            assert seen[who, key, "web", "GET"].code == 404, (who, key)
        assert seen[who, "pending", "optimized", "GET"].code == 404


async def test_zip_downloads_pack_no_pending_original_for_viewers(setup):
    import io
    import zipfile

    g, docs, browsers, originals = setup
    album_id = docs["pending"]["album_id"]
    for who in ("anonymous", "view"):
        response = await browsers[who].get(f"{g['prefix']}/download/album/{album_id}?size=original")
        assert response.code == 200, (who, response.code)
        names = zipfile.ZipFile(io.BytesIO(response.body)).namelist()
        packed = {zipfile.ZipFile(io.BytesIO(response.body)).read(n) for n in names}
        assert originals["pending"] not in packed and originals["ready"] not in packed
        assert len(packed) >= 2  # the ready image's optimized copy, the video's poster
