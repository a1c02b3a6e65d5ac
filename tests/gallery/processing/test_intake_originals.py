"""Originals changed as they come in (issue 18, item 7; GSP's OriginalImageJpegQuality and
DiscardOriginalImageDuringImport), through real uploads of real camera files: off, the bytes
stay as uploaded; re-encoding keeps the metadata and never makes a file larger; discarding
keeps the optimized copy in the original's place, and every route that serves originals,
a backup, remaking derivatives and a synchronization still work with it. Hostile files
(cut-off JPEG, PNG, video) are left alone; two uploads at once each count their own bytes."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import zipfile

import pytest
from lxml import etree
from PIL import Image

from gallery.archive.document import read_backup
from gallery.archive.export import export_to_file
from gallery.errors import Invalid
from gallery.intake.sync import synchronize
from gallery.library import albums
from gallery.library.media import add_media_file, copy_media_record
from gallery.processing.process import _store, process_one
from gallery.settings import update_settings, validate
from media.metadata import read_image_metadata
from tests.handlers.media_api import processed, upload_file
from tests.testdata import shared_data


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 2, "limits.image_workers": 2})


def sample(*parts: str) -> bytes:
    return shared_data("camera-samples", *parts).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _gallery(app, make_gallery, **settings):
    g = await make_gallery("alpha")
    b = app.browser()
    assert (await b.login(g["prefix"], g["username"], g["password"])).code == 302
    if settings:
        await update_settings(g["ctx"], settings)
    root = await albums.root_album(g["ctx"])
    return g, b, root


async def _upload(g, b, root, data: bytes, name: str) -> dict:
    media = await processed(g["ctx"], await upload_file(b, g["prefix"], root["_id"], data, name))
    return media


def _stored(g, media) -> bytes:
    return g["ctx"].storage.resolve(media["original"]["path"]).read_bytes()


async def _usage_matches_files(ctx) -> None:
    """The usage counter is the sum of the records' sizes, which are the files' sizes."""
    total = 0
    for m in await ctx.db.media.find({}, {"original": 1}).to_list():
        assert ctx.storage.resolve(m["original"]["path"]).stat().st_size == m["original"]["size"]
        total += m["original"]["size"]
    assert (await ctx.db.meta.find_one({"_id": "usage"}))["bytes"] == total


def _metadata(path) -> dict:
    found = read_image_metadata(path).to_dict()
    found.pop("format", None)
    return found


def _oriented_jpeg(quality=95) -> bytes:
    """A noisy 600x400 JPEG whose EXIF says "turn 90° clockwise" (orientation 6)."""
    image = Image.frombytes("RGB", (600, 400), os.urandom(600 * 400 * 3)).resize((600, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Atrium Test Camera"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


async def test_reencoding_off_keeps_the_bytes_on_rewrites_smaller_with_all_metadata(
    app, make_gallery, tmp_path
):
    g, b, root = await _gallery(app, make_gallery)
    ctx = g["ctx"]
    gps = sample("jpg", "gps", "DSCN0010.jpg")
    off = await _upload(g, b, root, gps, "gps.jpg")
    assert _stored(g, off) == gps and "reencoded" not in off["original"]  # the default: as uploaded
    assert "prepare" not in off["original"]  # the mark is spent even with nothing to do

    await update_settings(ctx, {"original_jpeg_quality": 60})
    # EXIF + XMP + IPTC + ICC profile + Adobe segment; GPS; a turned photo.
    for name, data in (("blue.jpg", sample("jpg", "xmp", "BlueSquare.jpg")),
                       ("nikon.jpg", sample("jpg", "exif-org", "nikon-e950.jpg")),
                       ("turned.jpg", _oriented_jpeg())):
        (tmp_path / name).write_bytes(data)
        media = await _upload(g, b, root, data, name)
        assert media["state"] == "ready", media.get("failure")
        stored = _stored(g, media)
        assert len(stored) < len(data), name
        assert media["original"]["size"] == len(stored) and media["original"]["sha256"] == sha(stored)
        assert media["content_hash"] == sha(data)  # the content that came in: duplicates find it
        assert media["original"]["reencoded"]["quality"] == 60
        assert media["original"]["reencoded"]["size"] == len(data)
        new = ctx.storage.resolve(media["original"]["path"])
        assert _metadata(new) == _metadata(tmp_path / name), name
        with Image.open(io.BytesIO(data)) as before, Image.open(new) as after:
            assert after.size == before.size and after.getexif() == before.getexif()
            assert after.info.get("icc_profile") == before.info.get("icc_profile")
            assert after.format == "JPEG"
    assert (media["width"], media["height"]) == (400, 600)  # orientation 6 still applies
    await _usage_matches_files(ctx)

    # The same camera file again is still a duplicate, though its stored bytes differ.
    again = await b.api("POST", f"{g['prefix']}/api/v1/albums/{root['_id']}/upload",
                        body=sample("jpg", "xmp", "BlueSquare.jpg"), headers={"X-File-Name": "again.jpg"})
    assert again.code == 409

    # Never larger: a file already lighter than the quality asked for stays as it came.
    await update_settings(ctx, {"original_jpeg_quality": 95})
    light = io.BytesIO()
    Image.open(io.BytesIO(gps)).save(light, "JPEG", quality=40)
    kept = await _upload(g, b, root, light.getvalue(), "light.jpg")
    assert _stored(g, kept) == light.getvalue() and "reencoded" not in kept["original"]
    await _usage_matches_files(ctx)


async def test_hostile_files_are_left_as_they_came(app, make_gallery):
    g, b, root = await _gallery(app, make_gallery, original_jpeg_quality=50, discard_originals=True,
                                optimized_size=400)
    whole = sample("jpg", "exif-org", "nikon-e950.jpg")
    cut = whole[: len(whole) // 2]  # an interrupted copy: the scan data stops early
    media = await _upload(g, b, root, cut, "cut.jpg")
    assert media["state"] == "failed" and _stored(g, media) == cut
    assert "reencoded" not in media["original"] and "discarded" not in media["original"]

    png = io.BytesIO()
    Image.new("RGBA", (300, 200), (10, 200, 30, 128)).save(png, "PNG")
    media = await _upload(g, b, root, png.getvalue(), "small.png")
    assert media["state"] == "ready" and _stored(g, media) == png.getvalue()
    assert media["mime"] == "image/png" and "optimized" not in media["derivatives"]

    # A large transparent PNG gets an optimized copy, but a JPEG copy would lose its
    # transparency: the original stays.
    big = io.BytesIO()
    Image.new("RGBA", (900, 600), (10, 200, 30, 128)).save(big, "PNG")
    media = await _upload(g, b, root, big.getvalue(), "big.png")
    assert media["state"] == "ready" and _stored(g, media) == big.getvalue()
    assert "optimized" in media["derivatives"] and "discarded" not in media["original"]

    from tests.media.av_samples import ffmpeg, testsrc

    clip = g["ctx"].storage.tmp / "clip.mp4"
    await asyncio.to_thread(ffmpeg, *testsrc("160x120"), "-t", "1", "-c:v", "libx264",
                            "-preset", "ultrafast", "-pix_fmt", "yuv420p", clip)
    video = clip.read_bytes()
    clip.unlink()
    media = await _upload(g, b, root, video, "clip.mp4")
    assert media["kind"] == "video" and media["state"] == "ready", media.get("failure")
    assert _stored(g, media) == video and "prepare" not in media["original"]
    await _usage_matches_files(g["ctx"])


async def test_discarded_originals_are_the_optimized_copy_on_every_route(app, make_gallery, tmp_path):
    g, b, root = await _gallery(app, make_gallery, discard_originals=True, optimized_size=400)
    ctx, prefix = g["ctx"], g["prefix"]
    data = sample("jpg", "gps", "DSCN0010.jpg")  # 640x480 with GPS and camera EXIF
    (tmp_path / "gps.jpg").write_bytes(data)
    media = await _upload(g, b, root, data, "gps.jpg")
    assert media["state"] == "ready", media.get("failure")
    kept = _stored(g, media)
    assert len(kept) < len(data)
    assert media["original"]["path"] == "originals/gps.jpg"
    with Image.open(io.BytesIO(kept)) as im:
        assert im.size == (400, 300) and im.format == "JPEG"
    assert (media["width"], media["height"]) == (400, 300)
    assert "optimized" not in media["derivatives"] and media["derivatives"]["thumbnail"]
    discarded = media["original"]["discarded"]
    assert (discarded["size"], discarded["sha256"]) == (len(data), sha(data))
    assert (discarded["width"], discarded["height"]) == (640, 480)
    assert media["original"]["sha256"] == sha(kept) and media["original"]["size"] == len(kept)
    kept_meta, source_meta = _metadata(ctx.storage.resolve(media["original"]["path"])), _metadata(tmp_path / "gps.jpg")
    assert kept_meta["gps"] == source_meta["gps"] and kept_meta["camera"]["model"] == source_meta["camera"]["model"]
    assert not (ctx.storage.derivatives / media["_id"] / "optimized.jpg").exists()
    await _usage_matches_files(ctx)

    # Every route that serves the original serves the copy: view, download, album ZIP.
    for path in (f"/media/{media['_id']}/original", f"/media/{media['_id']}/original?download=1",
                 f"/media/{media['_id']}/optimized"):
        response = await b.get(prefix + path)
        assert response.code == 200 and response.body == kept, path
    response = await b.get(f"{prefix}/download/album/{root['_id']}")
    assert response.code == 200
    with zipfile.ZipFile(io.BytesIO(response.body)) as zf:
        assert kept in [zf.read(n) for n in zf.namelist()]
    shown = json.loads((await b.get(f"{prefix}/api/v1/media/{media['_id']}")).body)["media"]
    assert shown["state"] == "ready"
    page = (await b.get(f"{prefix}/media/{media['_id']}")).body.decode()
    assert "original file (640 × 480 pixels) was discarded" in page  # the media page says so

    # A backup carries it (its size and hash are the record's).
    report = await export_to_file(ctx, tmp_path / "b.zip")
    assert not report.left_out
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        assert kept in [zf.read(n) for n in zf.namelist() if n.startswith("originals/")]
        restored = read_backup(etree.fromstring(zf.read("backup.xml"))).media
    assert [m["original"] for m in restored] == [
        {k: media["original"][k] for k in ("path", "size", "sha256", "discarded")}]  # it says so

    # Remaking derivatives works from the kept copy and never discards again.
    doc = await ctx.db.media.find_one({"_id": media["_id"]})
    assert await _store(ctx, media["_id"], await process_one(ctx, app.services, doc))
    again = await ctx.db.media.find_one({"_id": media["_id"]})
    assert again["state"] == "ready" and again["original"] == doc["original"] and _stored(g, again) == kept
    assert again["metadata"]["gps"] == media["metadata"]["gps"]

    # A HEIC becomes a JPEG beside it; the HEIC goes; a synchronization finds nothing new.
    heic = sample("heic", "IMG_5195.HEIC")
    media = await _upload(g, b, root, heic, "IMG_5195.HEIC")
    assert media["state"] == "ready", media.get("failure")
    assert media["original"]["path"] == "originals/IMG_5195.jpg" and media["file_name"] == "IMG_5195.jpg"
    assert (media["mime"], media["extension"]) == ("image/jpeg", "jpg")
    assert media["original"]["discarded"]["mime"] == "image/heic"
    assert not (ctx.storage.originals / "IMG_5195.HEIC").exists()
    response = await b.get(f"{prefix}/media/{media['_id']}/original?download=1")
    assert response.code == 200 and "IMG_5195.jpg" in response.headers.get("Content-Disposition", "")
    await update_settings(ctx, {"sync_min_age_seconds": 0})
    result = await synchronize(ctx, app.services, None, root)
    assert result["new"] == 0 and result["changed"] == 0 and result["removed"] + result["missing"] == 0
    await _usage_matches_files(ctx)


async def test_a_synchronized_file_is_rewritten_once_and_found_unchanged_after(app, make_gallery):
    g, _b, root = await _gallery(app, make_gallery, original_jpeg_quality=50, sync_min_age_seconds=0)
    ctx = g["ctx"]
    data = sample("jpg", "exif-org", "nikon-e950.jpg")
    target = ctx.storage.originals / "dropped.jpg"
    target.write_bytes(data)
    target.chmod(0o640)
    os.utime(target, (1_600_000_000, 1_600_000_000))
    assert (await synchronize(ctx, app.services, None, root))["new"] == 1
    media = await ctx.db.media.find_one({"file_name": "dropped.jpg"})
    media = await processed(ctx, media["_id"])
    assert media["state"] == "ready" and len(target.read_bytes()) < len(data)
    assert media["original"]["mtime_ns"] == target.stat().st_mtime_ns
    assert target.stat().st_mode & 0o777 == 0o640  # the owner's file keeps its mode
    for _ in range(2):
        result = await synchronize(ctx, app.services, None, root)
        assert (result["new"], result["changed"]) == (0, 0) and result["unchanged"] == 1
    await _usage_matches_files(ctx)

    # The owner puts a new version in its place: a file coming in, rewritten once again.
    newer = sample("jpg", "gps", "DSCN0025.jpg")
    target.write_bytes(newer)
    os.utime(target, (1_600_000_100, 1_600_000_100))
    assert (await synchronize(ctx, app.services, None, root))["changed"] == 1
    async with asyncio.timeout(60):
        while (media := await ctx.db.media.find_one({"_id": media["_id"]}))["original"].get(
                "reencoded", {}).get("sha256") != sha(newer):
            await asyncio.sleep(0.05)
    assert len(target.read_bytes()) < len(newer) and media["content_hash"] == sha(newer)
    result = await synchronize(ctx, app.services, None, root)
    assert (result["new"], result["changed"], result["unchanged"]) == (0, 0, 1)
    await _usage_matches_files(ctx)


async def test_two_uploads_at_once_and_two_processings_of_one_item(app, make_gallery, tmp_path):
    g, b, root = await _gallery(app, make_gallery, original_jpeg_quality=50)
    ctx = g["ctx"]
    files = {"a.jpg": sample("jpg", "exif-org", "nikon-e950.jpg"),
             "b.jpg": sample("jpg", "gps", "DSCN0012.jpg")}
    ids = await asyncio.gather(*(upload_file(b, g["prefix"], root["_id"], d, n) for n, d in files.items()))
    for media_id, (name, data) in zip(ids, files.items(), strict=True):
        media = await processed(ctx, media_id)
        assert media["original"]["reencoded"]["sha256"] == sha(data), name
        assert len(_stored(g, media)) < len(data)
    await _usage_matches_files(ctx)

    # One item processed twice at once (its job and a remake of derivatives): rewritten once.
    source = tmp_path / "c.jpg"
    source.write_bytes(sample("jpg", "gps", "DSCN0021.jpg"))
    doc = await add_media_file(ctx, root, source, "c.jpg", copy=True)
    assert doc["original"]["prepare"] is True
    copied = await copy_media_record(ctx, doc, root, owner_id=None)  # before its processing
    assert "prepare" not in copied["original"]  # a copy is not a file coming in
    updates = await asyncio.gather(*(process_one(ctx, app.services, dict(doc)) for _ in range(2)))
    for update in updates:
        await _store(ctx, doc["_id"], update)
    media = await ctx.db.media.find_one({"_id": doc["_id"]})
    assert media["original"]["reencoded"]["sha256"] == sha(source.read_bytes())
    assert media["original"]["sha256"] == sha(_stored(g, media)) and "prepare" not in media["original"]
    copied = await ctx.db.media.find_one({"_id": copied["_id"]})
    assert _stored(g, copied) == source.read_bytes() and "reencoded" not in copied["original"]
    await _store(ctx, copied["_id"], await process_one(ctx, app.services, copied))  # remade
    assert _stored(g, copied) == source.read_bytes()
    await _usage_matches_files(ctx)


def test_the_settings_refuse_what_they_cannot_mean():
    assert validate({"original_jpeg_quality": "0"}) == {"original_jpeg_quality": 0}
    assert validate({"original_jpeg_quality": 30, "discard_originals": "on"}) == {
        "original_jpeg_quality": 30, "discard_originals": True}
    for hostile in (-1, 1, 29, 101, "80%", 1e9, True, None):
        with pytest.raises(Invalid):
            validate({"original_jpeg_quality": hostile})
    with pytest.raises(Invalid):
        validate({"discard_originals": "perhaps"})


async def test_a_read_only_media_folder_is_never_rewritten(app, make_gallery, tmp_path):
    from tenants.media_folder import set_media_folder
    from tests.handlers.test_read_only_media import listing, make_read_only

    await make_gallery("alpha")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "gps.jpg").write_bytes(sample("jpg", "gps", "DSCN0010.jpg"))
    await set_media_folder(app.services.registry, "alpha", str(folder))
    make_read_only(folder)
    before = listing(folder)
    ctx = await app.services.registry.context_for_slug("alpha")
    await update_settings(ctx, {"original_jpeg_quality": 50, "discard_originals": True,
                                "optimized_size": 400, "sync_min_age_seconds": 0})
    root = await albums.root_album(ctx)
    assert (await synchronize(ctx, app.services, None, root))["new"] == 1
    media = await processed(ctx, (await ctx.db.media.find_one({"file_name": "gps.jpg"}))["_id"])
    assert media["state"] == "ready" and "optimized" in media["derivatives"]  # the usual copy
    assert "discarded" not in media["original"] and "reencoded" not in media["original"]
    assert listing(folder) == before  # bytes, modes and times as they were


async def test_a_zip_import_discards_like_an_upload(app, make_gallery):
    from tests.gallery.intake.test_zipimport import make_zip, run_import, setup

    ctx, root, admin, viewer = await setup(app, make_gallery)
    await update_settings(ctx, {"discard_originals": True, "optimized_size": 400})
    gps, heic = sample("jpg", "gps", "DSCN0010.jpg"), sample("heic", "IMG_5195.HEIC")
    result = await run_import(app, ctx, viewer, admin, root,
                              make_zip([("Trip/gps.jpg", gps), ("Trip/phone.HEIC", heic)]))
    assert result["imported"] == 2, result
    for data, name, was in ((gps, "gps.jpg", "image/jpeg"), (heic, "phone.jpg", "image/heic")):
        # Found by the content that came in, which processing never changes.
        media = await processed(ctx, (await ctx.db.media.find_one({"content_hash": sha(data)}))["_id"])
        assert media["state"] == "ready" and media["original"]["discarded"]["mime"] == was, name
        assert media["file_name"] == name
        assert media["original"]["path"] == f"originals/Trip/{name}" and max(media["width"], media["height"]) == 400
    assert sorted(p.name for p in (ctx.storage.originals / "Trip").iterdir()) == ["gps.jpg", "phone.jpg"]
    await _usage_matches_files(ctx)
