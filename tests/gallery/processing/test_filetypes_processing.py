"""The new file types end to end (issue 18 item 10): taken in through ingest with the
gallery's settings, processed by real workers (LibRaw, Pillow, ffmpeg), served by the file
handler; hostile files refused at the door with nothing stored. Files: see
tests/media/filetype_samples.py."""

from __future__ import annotations

import hashlib

import pytest

from gallery.errors import TooLarge, Unsupported
from gallery.intake.ingest import ingest_file
from gallery.library import albums
from gallery.settings import update_settings
from media.office import office_available
from tests.media.filetype_samples import jpeg_bytes, make_dng, make_office, make_psd, write_video
from tests.media.test_filetypes import RAW_XMP
from tests.waiting import until

NEW_TYPES = ["jpg", "dng", "nef", "psd", "wmv", "flv", "docx", "odt"]


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 2, "limits.image_workers": 1})


async def _gallery(app, make_gallery, viewer_of):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Mixed"})
    await update_settings(ctx, {"allowed_extensions": NEW_TYPES, "download_only_extensions": ["stl"]})
    user = await ctx.db.users.find_one({"username": "admin"})
    return g, ctx, album, user


async def _ingest(app, ctx, album, user, data: bytes, name: str) -> dict:
    tmp = ctx.storage.temp_path(".test")
    tmp.write_bytes(data)
    return await ingest_file(
        ctx, app.services, user, album, tmp, name, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


async def _settled(ctx, media_id: str) -> dict:
    async def done():
        m = await ctx.db.media.find_one({"_id": media_id})
        transcode = (m.get("transcode") or {}).get("state", "none")
        if m["state"] == "failed" or (m["state"] == "ready" and transcode in ("none", "ready", "failed")):
            return m
        return None

    return await until(done, 90)


async def test_raw_psd_office_wmv_flv_and_download_only_files_are_processed_and_served(
    app, make_gallery, viewer_of, tmp_path
):
    g, ctx, album, user = await _gallery(app, make_gallery, viewer_of)
    files = {
        "IMG_0001.dng": make_dng(preview=jpeg_bytes((64, 48), (200, 40, 40))),
        # a TIFF-based RAW without a preview, tagged in a photo manager (XMP in IFD0)
        "DSC_0002.NEF": make_dng(model="Test NEF", xmp=RAW_XMP),
        "poster.psd": make_psd(),
        "cut.psd": make_psd()[:-1500],  # truncated composite
        "clip.wmv": write_video(tmp_path / "clip.wmv").read_bytes(),
        "clip.flv": write_video(tmp_path / "clip.flv").read_bytes(),
        "notes.docx": make_office("docx"),
        "notes.odt": make_office("odt"),
        "bracket.stl": b"solid bracket\n" + bytes(range(256)) * 4,  # libmagic: no known type
    }
    made = {name: await _ingest(app, ctx, album, user, data, name) for name, data in files.items()}
    done = {name: await _settled(ctx, m["_id"]) for name, m in made.items()}

    for name in ("IMG_0001.dng", "DSC_0002.NEF"):
        raw = done[name]
        assert raw["state"] == "ready", raw.get("failure")
        assert raw["kind"] == "image" and (raw["width"], raw["height"]) == (64, 48)
        assert raw["metadata"]["camera"]["make"] == "Atrium" and raw["metadata"]["camera"]["iso"] == 400
        assert raw["date_taken"] and raw["derivatives"]["optimized"]["mime"] == "image/jpeg"
    assert done["DSC_0002.NEF"]["mime"] == "image/x-nikon-nef"
    tagged = done["DSC_0002.NEF"]  # the file's own rating seeds the stars, its title names it
    assert (tagged["rating"], tagged["rating_avg"], tagged["title"]) == (4, 4.0, "Harbour at dusk")
    assert {"Ferry", "Dämmerung"} <= set(tagged["tags"])
    assert done["poster.psd"]["state"] == "ready" and done["poster.psd"]["width"] == 40
    cut = done["cut.psd"]
    assert cut["state"] == "failed" and "damaged or incomplete" in cut["failure"]
    assert not any((ctx.storage.derivatives / cut["_id"]).glob("*"))  # nothing half-made
    for name in ("clip.wmv", "clip.flv"):
        clip = done[name]
        assert clip["state"] == "ready" and clip["kind"] == "video", clip.get("failure")
        assert clip["transcode"]["state"] == "ready", clip["transcode"]
        assert clip["derivatives"]["web"]["mime"] == "video/mp4"
    for name in ("notes.docx", "notes.odt"):
        doc = done[name]
        assert doc["state"] == "ready" and doc["kind"] == "document"
        # An icon, or page 1 where this host has LibreOffice.
        assert bool(doc["derivatives"]["thumbnail"].get("icon")) == (office_available() is None)
    stl = done["bracket.stl"]
    assert (stl["kind"], stl["mime"], stl["file_name"]) == ("other", "application/octet-stream", "bracket.stl")
    assert stl["state"] == "ready" and stl["derivatives"]["thumbnail"]["icon"]

    browser = app.browser()
    await browser.login(g["prefix"], g["username"], g["password"])
    for name in ("bracket.stl", "DSC_0002.NEF", "poster.psd", "notes.docx", "clip.wmv", "cut.psd"):
        served = await browser.get(f"{g['prefix']}/media/{made[name]['_id']}/original")
        assert served.code == 200 and served.body == files[name], name
        assert served.headers["Content-Disposition"].startswith("attachment"), name
        assert served.headers["X-Content-Type-Options"] == "nosniff"
    stl_served = await browser.get(f"{g['prefix']}/media/{made['bracket.stl']['_id']}/original")
    assert stl_served.headers["Content-Type"] == "application/octet-stream"


HOSTILE = [
    ("bomb.docx", make_office("docx", padding=4_000_000), TooLarge, "ZIP bomb"),
    ("letter.docx", b"<html><body>not a zip</body></html>", Unsupported, "named .docx"),
    ("IMG_0003.nef", b"<!DOCTYPE html><html><script>alert(1)</script></html>", Unsupported, "text/html"),
    ("IMG_0004.dng", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', Unsupported, "named .dng"),
    ("clip.wmv", b"\x30\x26\xb2\x75" + bytes(range(256)) * 8, Unsupported, "named .wmv"),
    ("model.stl", b"<!DOCTYPE html><html><script>alert(1)</script></html>", Unsupported, "text/html"),
]


async def test_hostile_files_are_refused_at_the_door_with_nothing_stored(app, make_gallery, viewer_of):
    _g, ctx, album, user = await _gallery(app, make_gallery, viewer_of)
    for name, data, error, words in HOSTILE:
        with pytest.raises(error) as caught:
            await _ingest(app, ctx, album, user, data, name)
        assert words in caught.value.message, name
        assert await ctx.db.media.count_documents({}) == 0, name
        assert not any(ctx.storage.tmp.iterdir()), name
        assert not any(p.is_file() for p in ctx.storage.originals.rglob("*")), name
        usage = await ctx.db.meta.find_one({"_id": "usage"}) or {}
        assert not usage.get("bytes"), name
