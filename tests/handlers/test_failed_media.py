"""Media that cannot be processed, end to end over HTTP: a cut-off HEIC and a JPEG whose
data ends early are failed with a clear reason and keep their original; a failed item's
thumbnail and web copy are a placeholder picture (never a 404, never a TIFF); reasons
carry no raw libmagic text; the server log names the media id of every failure."""

from __future__ import annotations

import io
import logging
import struct

import pytest
from PIL import Image

from tests.handlers.media_api import settled as _settled
from tests.handlers.media_api import upload_file as _upload
from tests.testdata import shared_data


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _setup(app, make_gallery):
    g = await make_gallery("alpha")
    b = app.browser()
    await b.login(g["prefix"], "admin", g["password"])
    root = await g["ctx"].db.albums.find_one({"parent_id": None})
    return g, b, root


def cut_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((640, 480), 60).convert("RGB").save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    return data[: len(data) * 6 // 10] + b"\xff\xd9"  # scan data cut, end marker kept


def hostile_tiff() -> bytes:
    """A TIFF libmagic describes at length (with our own text in it) that no decoder
    opens: the IFD has no image width."""
    words = ("lorem ipsum dolor sit amet " * 20).encode()
    entries = [
        (0x010E, 2, len(words) + 1, 8 + 2 + 12 * 2 + 4),  # ImageDescription -> the words
        (0x0110, 2, 4, int.from_bytes(b"Cam\0", "big")),  # Model
    ]
    ifd = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(">HHII", tag, kind, count, value)
    ifd += struct.pack(">I", 0)
    return b"MM\x00\x2a" + struct.pack(">I", 8) + ifd + words + b"\0"


async def test_cut_off_heic_and_jpeg_fail_clearly_and_keep_their_original(
    app, make_gallery, caplog
):
    g, b, root = await _setup(app, make_gallery)
    prefix = g["prefix"]
    heic = shared_data("camera-samples", "heic", "IMG_5195.HEIC").read_bytes()
    files = {
        "cut.heic": (heic[: len(heic) * 6 // 10], "incomplete: the file ends after"),
        "cut.jpg": (cut_jpeg(), "damaged or incomplete: its compressed data ends early"),
    }
    with caplog.at_level(logging.WARNING, logger="atrium.processing"):
        ids = {name: await _upload(b, prefix, root["_id"], data, name) for name, (data, _) in files.items()}
        shown = {name: await _settled(b, prefix, mid) for name, mid in ids.items()}
    for name, (data, reason) in files.items():
        media = shown[name]
        assert media["state"] == "failed", (name, media["state"])
        assert reason in media["failure"], media["failure"]
        original = await b.get(f"{prefix}/media/{ids[name]}/original")
        assert original.code == 200 and original.body == data, name
        # The operator finds it in the server's log by its media id.
        assert any(
            ids[name] in record.getMessage() and "alpha" in record.getMessage()
            for record in caplog.records
        ), name


async def test_a_failed_item_shows_a_placeholder_never_a_404_or_a_tiff(app, make_gallery):
    g, b, root = await _setup(app, make_gallery)
    prefix = g["prefix"]
    media_id = await _upload(b, prefix, root["_id"], hostile_tiff(), "scan.tif")
    media = await _settled(b, prefix, media_id)
    assert media["state"] == "failed" and media["mime"] == "image/tiff"
    # The API's grid pages point at the placeholder as well.
    assert media["urls"]["thumbnail"].endswith(f"/media/{media_id}/thumbnail")

    for variant in ("thumbnail", "optimized"):
        response = await b.get(f"{prefix}/media/{media_id}/{variant}")
        assert response.code == 200, variant
        assert response.headers["Content-Type"] == "image/svg+xml", variant
        assert response.headers["X-Atrium-Placeholder"] == "failed"
        assert response.body.startswith(b"<svg") and b"II*" not in response.body
        assert b"MM\x00*" not in response.body  # never the TIFF itself
        head = await b.request("HEAD", f"{prefix}/media/{media_id}/{variant}")
        assert head.code == 200 and head.headers["Content-Type"] == "image/svg+xml"

    # The album grid shows the placeholder too, saying what it is.
    page = (await b.get(f"{prefix}/")).body.decode()
    assert f"/media/{media_id}/thumbnail" in page and "(could not be processed)" in page
    german = (await b.get(f"{prefix}/", headers={"Accept-Language": "de"})).body.decode()
    assert "(konnte nicht verarbeitet werden)" in german and "(could not be processed)" not in german

    # Not failed but without a web copy yet (pending): a TIFF is still never served as
    # the "optimized" image, whoever asks.
    await g["ctx"].db.media.update_one({"_id": media_id}, {"$set": {"state": "pending"}})
    response = await b.get(f"{prefix}/media/{media_id}/optimized")
    assert response.code == 404
    assert response.headers.get("Content-Type", "").split(";")[0] != "image/tiff"


async def test_failure_reasons_carry_no_raw_libmagic_text(app, make_gallery):
    g, b, root = await _setup(app, make_gallery)
    prefix = g["prefix"]
    media_id = await _upload(b, prefix, root["_id"], hostile_tiff(), "described.tif")
    media = await _settled(b, prefix, media_id)
    assert media["state"] == "failed"
    assert media["failure"] == (
        "The file looks like image/tiff (TIFF image data) but cannot be decoded."
    )
    assert "lorem" not in media["failure"] and "direntries" not in media["failure"]
