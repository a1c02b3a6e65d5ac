"""ZIP import: folders become albums, hostile entries are refused, bombs stopped early."""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import zipfile

import pytest
from PIL import Image

from gallery.errors import TooLarge
from gallery.intake import zipimport
from gallery.people.permissions import viewer_for
from gallery.settings import get_settings, update_settings

MB = 1024 * 1024


def jpeg_bytes(color=(50, 60, 70)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(out, "JPEG")
    return out.getvalue()


def make_zip(entries) -> bytes:
    """entries: (name or ZipInfo, bytes) pairs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return out.getvalue()


def unix_entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


async def setup(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    admin = await ctx.db.users.find_one({"username": "admin"})
    viewer = await viewer_for(ctx, admin, await get_settings(ctx))
    return ctx, root, admin, viewer


async def run_import(app, ctx, viewer, admin, album, data: bytes) -> dict:
    path = ctx.storage.temp_path(".zip")
    path.write_bytes(data)
    try:
        return await zipimport.import_zip(ctx, app.services, viewer, admin, album, path)
    finally:
        path.unlink()


def by_name(result) -> dict:
    return {e["name"]: e for e in result["entries"]}


async def test_folders_become_albums_and_files_media(app, make_gallery):
    ctx, root, admin, viewer = await setup(app, make_gallery)
    data = make_zip(
        [
            ("top.jpg", jpeg_bytes()),
            ("Trips/", b""),
            ("Trips/Rome/colosseum.jpg", jpeg_bytes((1, 2, 3))),
            ("Trips/notes.txt", b"remember the sun cream\n"),
            ("Empty/", b""),
            ("__MACOSX/Trips/._notes.txt", b"junk"),
        ]
    )
    result = await run_import(app, ctx, viewer, admin, root, data)
    entries = by_name(result)
    assert result["imported"] == 3 and result["failed"] == 0
    assert entries["__MACOSX/Trips/._notes.txt"]["status"] == "skipped"
    trips = await ctx.db.albums.find_one({"parent_id": root["_id"], "title": "Trips"})
    rome = await ctx.db.albums.find_one({"parent_id": trips["_id"], "title": "Rome"})
    assert await ctx.db.albums.find_one({"parent_id": root["_id"], "title": "Empty"})
    assert entries["Trips/Rome/colosseum.jpg"]["album_id"] == rome["_id"]
    media = await ctx.db.media.find_one({"_id": entries["Trips/Rome/colosseum.jpg"]["media_id"]})
    assert media["album_path"] == [root["_id"], trips["_id"], rome["_id"]]
    assert (ctx.storage.path / media["original"]["path"]).is_file()
    assert media["original"]["path"].startswith(f"originals/{rome['dirpath']}/")
    # A second import reuses the same-named albums.
    again = await run_import(
        app, ctx, viewer, admin, root, make_zip([("Trips/more.txt", b"more\n")])
    )
    assert by_name(again)["Trips/more.txt"]["album_id"] == trips["_id"]
    assert await ctx.db.albums.count_documents({"title": "Trips"}) == 1
    assert not any(ctx.storage.tmp.glob("*.zipentry"))


async def test_files_already_in_their_album_are_skipped_and_listed(app, make_gallery):
    """Issue 17, item 9: the same content twice in one folder (or already in the album) is
    skipped by default and says so; in another folder it is another album's photo."""
    ctx, root, admin, viewer = await setup(app, make_gallery)
    photo = jpeg_bytes((4, 5, 6))
    first = await run_import(app, ctx, viewer, admin, root, make_zip([("a.jpg", photo)]))
    assert first["imported"] == 1
    result = await run_import(app, ctx, viewer, admin, root, make_zip(
        [("again.jpg", photo), ("Copies/a.jpg", photo), ("Copies/b.jpg", photo)]))
    entries = by_name(result)
    assert entries["again.jpg"]["status"] == "skipped"
    assert entries["again.jpg"]["reason"].startswith("Already in this album")
    assert entries["Copies/a.jpg"]["status"] == "imported"
    assert entries["Copies/b.jpg"]["status"] == "skipped"
    assert await ctx.db.media.count_documents({}) == 2
    assert not any(ctx.storage.tmp.glob("*.zipentry"))


async def test_traversal_absolute_paths_links_and_devices_are_refused(app, make_gallery):
    ctx, root, admin, viewer = await setup(app, make_gallery)
    data = make_zip(
        [
            ("../../etc/passwd", b"root:x:0:0\n"),
            ("/etc/shadow", b"root:*\n"),
            ("C:/Windows/win.ini", b"[fonts]\n"),
            ("a/../../b.txt", b"b\n"),
            (unix_entry("link.txt", stat.S_IFLNK | 0o777), b"/etc/passwd"),
            (unix_entry("dev.txt", stat.S_IFCHR | 0o644), b"x\n"),
            ("good.txt", b"a good file\n"),
        ]
    )
    result = await run_import(app, ctx, viewer, admin, root, data)
    entries = by_name(result)
    assert entries["good.txt"]["status"] == "imported"
    for name, why in [
        ("../../etc/passwd", ".."),
        ("/etc/shadow", "absolute"),
        ("C:/Windows/win.ini", "absolute"),
        ("a/../../b.txt", ".."),
        ("link.txt", "link"),
        ("dev.txt", "device"),
    ]:
        assert entries[name]["status"] == "skipped" and why in entries[name]["reason"], name
    files = sorted(
        p.relative_to(ctx.storage.originals).as_posix()
        for p in ctx.storage.originals.rglob("*")
        if p.is_file()
    )
    assert files == ["good.txt"]
    assert await ctx.db.media.count_documents({}) == 1


async def test_a_zip_bomb_is_refused_from_the_central_directory(app, make_gallery):
    ctx, root, admin, viewer = await setup(app, make_gallery)
    data = make_zip([("zeros.txt", b"\0" * (50 * MB)), ("fine.txt", b"fine\n")])
    assert len(data) < 200_000
    result = await run_import(app, ctx, viewer, admin, root, data)
    entries = by_name(result)
    assert entries["zeros.txt"]["status"] == "skipped" and "ratio" in entries["zeros.txt"]["reason"]
    assert entries["fine.txt"]["status"] == "imported"
    assert not any(p.stat().st_size > MB for p in ctx.storage.path.rglob("*") if p.is_file())


async def test_total_size_and_entry_count_limits_refuse_the_whole_zip(app, make_gallery):
    ctx, root, admin, viewer = await setup(app, make_gallery)
    await update_settings(ctx, {"zip_max_total_mb": 1, "zip_max_entries": 5})
    with pytest.raises(TooLarge, match="unpacks to 2 MB"):
        await run_import(app, ctx, viewer, admin, root, make_zip([("a.txt", os.urandom(2 * MB))]))
    with pytest.raises(TooLarge, match="6 entries"):
        await run_import(
            app, ctx, viewer, admin, root, make_zip([(f"{i}.txt", b"x\n") for i in range(6)])
        )
    assert await ctx.db.media.count_documents({}) == 0


def _lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """Rewrite an entry's uncompressed size in the local header and central directory."""
    buf = bytearray(data)
    encoded = name.encode()
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        pos = buf.find(sig)
        while pos != -1:
            if buf[pos + name_at : pos + name_at + len(encoded)] == encoded:
                struct.pack_into("<I", buf, pos + size_at, declared)
            pos = buf.find(sig, pos + 4)
    return bytes(buf)


async def test_an_entry_that_unpacks_to_more_than_declared_is_stopped(app, make_gallery):
    ctx, root, admin, viewer = await setup(app, make_gallery)
    text = (b"lorem ipsum dolor sit amet " * 4000)[:100_000]
    data = _lie_about_size(make_zip([("liar.txt", text), ("ok.txt", b"ok\n")]), "liar.txt", 1000)
    result = await run_import(app, ctx, viewer, admin, root, data)
    entries = by_name(result)
    assert entries["liar.txt"]["status"] == "failed"
    assert entries["ok.txt"]["status"] == "imported"
    assert await ctx.db.media.count_documents({}) == 1
    assert not any(ctx.storage.tmp.iterdir())


async def test_zip_upload_over_http_reports_every_entry(app, make_gallery):
    ctx, root, _admin, _viewer = await setup(app, make_gallery)
    browser = app.browser()
    await browser.login("/g/alpha", "admin", "Correct-Horse-Battery-9")
    data = make_zip(
        [
            ("x/photo.jpg", jpeg_bytes()),
            ("bad.jpg", b"<html><body>hi</body></html>\n"),
            ("../evil.txt", b"evil\n"),
        ]
    )
    response = await browser.api(
        "POST", f"/g/alpha/api/v1/albums/{root['_id']}/upload?zip=1&name=a.zip", body=data
    )
    assert response.code == 200, response.body
    result = json.loads(response.body)
    entries = by_name(result)
    assert entries["x/photo.jpg"]["status"] == "imported"
    assert entries["bad.jpg"]["status"] == "skipped" and "text/html" in entries["bad.jpg"]["reason"]
    assert entries["../evil.txt"]["status"] == "skipped"
    assert not any(ctx.storage.tmp.iterdir())
