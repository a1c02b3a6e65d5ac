"""Camera- and phone-style files uploaded over HTTP end to end: a JPEG turned by EXIF
orientation 6, a PNG with alpha, a GIF, a WebP, an iPhone HEIC, a TIFF and a GPS-tagged
JPEG. Each becomes ready with derivatives that the media handler serves, upright, with the
metadata the file carries shown through the API."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime
from urllib.parse import quote

import pytest
from PIL import Image

from tests.client import text
from tests.testdata import shared_data


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def rotated_phone_jpeg() -> bytes:
    """Stored landscape 600x400 with a red left half; orientation 6 means "turn 90° clockwise
    to view", so upright it is portrait 400x600 with the red half on top."""
    image = Image.new("RGB", (600, 400), (20, 20, 230))
    image.paste((230, 20, 20), (0, 0, 300, 400))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Pocket 9"  # Model
    exif.get_ifd(0x8769)[0x9003] = "2024:07:14 18:30:05"  # DateTimeOriginal
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def alpha_png() -> bytes:
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((0, 180, 0, 255), (100, 50, 200, 150))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("P", (120, 80), i * 40) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (250, 180), (200, 150, 10)).save(out, "WEBP", quality=80)
    return out.getvalue()


def sample(name: str) -> bytes:
    return shared_data("camera-samples", name).read_bytes()


async def _upload_and_wait(app, make_gallery, data: bytes, name: str) -> tuple:
    g = await make_gallery("alpha")
    b = app.browser()
    await b.login(g["prefix"], "admin", g["password"])
    root = await g["ctx"].db.albums.find_one({"parent_id": None})
    response = await b.api(
        "POST",
        f"{g['prefix']}/api/v1/albums/{root['_id']}/upload",
        body=data,
        headers={"X-File-Name": quote(name)},
    )
    assert response.code == 201, text(response)
    media_id = json.loads(response.body)["_id"]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    while loop.time() < deadline:
        shown = json.loads((await b.get(f"{g['prefix']}/api/v1/media/{media_id}")).body)["media"]
        if shown["state"] in ("ready", "failed"):
            break
        await asyncio.sleep(0.05)
    assert shown["state"] == "ready", shown.get("failure")
    return g, b, shown


async def _served_image(b, url: str) -> Image.Image:
    response = await b.get(url)
    assert response.code == 200, url
    image = Image.open(io.BytesIO(response.body))
    image.load()
    return image


async def test_an_exif_rotated_phone_photo_is_shown_upright_with_its_metadata(app, make_gallery):
    _g, b, media = await _upload_and_wait(app, make_gallery, rotated_phone_jpeg(), "IMG_0001.JPG")
    assert (media["width"], media["height"]) == (400, 600)
    assert media["metadata"]["camera"]["make"] == "PhoneMaker"
    assert media["metadata"]["camera"]["model"] == "Pocket 9"
    assert media["date_taken"].startswith("2024-07-14T18:30:05")
    thumb = await _served_image(b, media["urls"]["thumbnail"])
    assert thumb.height > thumb.width and max(thumb.size) <= 320
    # Upright: the red half is at the top, the blue at the bottom.
    top = thumb.convert("RGB").getpixel((thumb.width // 2, thumb.height // 8))
    bottom = thumb.convert("RGB").getpixel((thumb.width // 2, thumb.height * 7 // 8))
    assert top[0] > 180 and top[2] < 80 and bottom[2] > 180 and bottom[0] < 80
    # Derivatives carry no metadata (no camera, no position).
    assert not thumb.getexif().get(0x010F)


@pytest.mark.parametrize(
    ("make", "name", "size"),
    [
        (alpha_png, "transparent.png", (300, 200)),
        (animated_gif, "loop.gif", (120, 80)),
        (webp, "phone.webp", (250, 180)),
    ],
    ids=["png-alpha", "gif", "webp"],
)
async def test_png_gif_and_webp_become_ready_with_thumbnails(app, make_gallery, make, name, size):
    _g, b, media = await _upload_and_wait(app, make_gallery, make(), name)
    assert media["kind"] == "image" and (media["width"], media["height"]) == size
    thumb = await _served_image(b, media["urls"]["thumbnail"])
    assert thumb.size[0] > 0 and abs(thumb.width / thumb.height - size[0] / size[1]) < 0.05
    if name.endswith(".png"):
        # The transparent border was flattened onto a plain background, not left black noise.
        corner = thumb.convert("RGB").getpixel((1, 1))
        centre = thumb.convert("RGB").getpixel((thumb.width // 2, thumb.height // 2))
        assert centre[1] > 150 and corner != centre


async def test_an_iphone_heic_gets_a_browser_copy_and_its_gps_position(app, make_gallery):
    _g, b, media = await _upload_and_wait(
        app, make_gallery, sample("heic/IMG_5195.HEIC"), "IMG_5195.HEIC"
    )
    assert media["mime"] in ("image/heic", "image/heif")
    assert media["has_optimized"] is True  # not a browser format: a web copy is made
    web = await _served_image(b, media["urls"]["optimized"])
    assert web.format in ("JPEG", "WEBP")
    gps = media["metadata"]["gps"]
    assert gps["latitude"] == pytest.approx(39.051344, abs=1e-4)
    assert gps["longitude"] == pytest.approx(-94.288772, abs=1e-4)
    assert media["metadata"]["camera"]["make"] == "Apple"


async def test_a_gps_tagged_camera_jpeg_and_a_tiff_yield_their_metadata(app, make_gallery):
    _g, b, media = await _upload_and_wait(
        app, make_gallery, sample("jpg/gps/DSCN0010.jpg"), "DSCN0010.jpg"
    )
    gps = media["metadata"]["gps"]
    assert gps["latitude"] == pytest.approx(43 + 28 / 60 + 2.814 / 3600, abs=1e-6)
    assert gps["map_url"].startswith("https://www.openstreetmap.org/")
    assert media["metadata"]["camera"]["make"].upper().startswith("NIKON")
    assert datetime.fromisoformat(media["date_taken"]).year == 2008
    await _served_image(b, media["urls"]["thumbnail"])


async def test_a_camera_tiff_becomes_ready_with_a_web_copy(app, make_gallery):
    _g, b, media = await _upload_and_wait(
        app, make_gallery, sample("tiff/Arbitro.tiff"), "Arbitro.tiff"
    )
    assert media["mime"] == "image/tiff" and media["has_optimized"] is True
    web = await _served_image(b, media["urls"]["optimized"])
    assert web.format in ("JPEG", "WEBP") and (web.width, web.height)
