"""Streamed ZIP downloads: album (with sub-albums) and selection, sizes, permissions,
clean entry names, bad requests, and a writer that stops when the reader goes away."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile

import pytest

from gallery.ids import new_id
from gallery.library import albums
from gallery.library.downloads import Entry, ZipStream, clean_part
from gallery.library.media import add_media_file
from gallery.library.privacy import apply_private
from gallery.people.permissions import viewer_for
from gallery.settings import get_settings, update_settings


async def _admin(ctx):
    user = await ctx.db.users.find_one({"username_key": "admin"})
    return await viewer_for(ctx, user, await get_settings(ctx))


async def _with_optimized(ctx, media: dict, payload: bytes) -> None:
    """Give a media object an optimized copy (what processing would make), on disk."""
    folder = ctx.storage.derivatives / media["_id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "optimized.jpg").write_bytes(payload)
    await ctx.db.media.update_one(
        {"_id": media["_id"]},
        {
            "$set": {
                "derivatives.optimized": {
                    "path": f"derivatives/{media['_id']}/optimized.jpg",
                    "mime": "image/jpeg",
                }
            }
        },
    )


async def _tree(app, make_gallery, make_jpeg, slug="alpha"):
    g = await make_gallery(slug)
    ctx = g["ctx"]
    admin = await _admin(ctx)
    root = await albums.root_album(ctx)
    trips = await albums.create_album(ctx, admin, root["_id"], {"title": "Trips"})
    rome = await albums.create_album(ctx, admin, trips["_id"], {"title": "Rome"})
    secret = await albums.create_album(ctx, admin, trips["_id"], {"title": "Secret"})
    await apply_private(ctx, secret, True)
    secret = await albums.get_album(ctx, secret["_id"])
    made = {
        "a": await add_media_file(ctx, trips, make_jpeg(30, 20), "same.jpg"),
        "b": await add_media_file(ctx, trips, make_jpeg(30, 20), "same.jpg"),
        "c": await add_media_file(ctx, rome, make_jpeg(30, 20), "../../colosseum.jpg"),
        "s": await add_media_file(ctx, secret, make_jpeg(30, 20), "hidden.jpg"),
    }
    # Processed, as the job would leave them (30x20 needs no web-size copy, so their
    # originals are what visitors see); a pending original needs view_original.
    await ctx.db.media.update_many({}, {"$set": {"state": "ready"}})
    await _with_optimized(ctx, made["a"], b"optimized-a")
    return g, ctx, {"root": root, "trips": trips, "rome": rome, "secret": secret}, made


def _zip(response) -> zipfile.ZipFile:
    assert response.code == 200, response.body[:300]
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.body))
    assert archive.testzip() is None
    return archive


async def test_album_zip_with_sub_albums_for_an_admin_and_for_a_visitor(
    app, make_gallery, make_jpeg
):
    g, ctx, tree, made = await _tree(app, make_gallery, make_jpeg)
    admin = app.browser()
    await admin.login(g["prefix"], "admin", g["password"])
    url = f"{g['prefix']}/download/album/{tree['trips']['_id']}"

    archive = _zip(await admin.get(f"{url}?sub=1&size=original"))
    names = sorted(archive.namelist())
    assert names == ["Rome/colosseum.jpg", "Secret/hidden.jpg", "same (2).jpg", "same.jpg"]
    original = ctx.storage.resolve(made["a"]["original"]["path"]).read_bytes()
    assert archive.read("same.jpg") == original  # the admin may view originals
    assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())

    optimized = _zip(await admin.get(f"{url}?size=optimized"))
    assert sorted(optimized.namelist()) == ["same (2).jpg", "same.jpg"]  # no sub-albums
    assert optimized.read("same.jpg") == b"optimized-a"

    visitor = app.browser()
    public = _zip(await visitor.get(f"{url}?sub=1&size=original"))
    assert "Secret/hidden.jpg" not in public.namelist()
    assert not any("hidden" in n for n in public.namelist())
    # No view_original: the visitor gets the optimized copy even when asking for originals.
    assert public.read("same.jpg") == b"optimized-a"
    hidden = await visitor.get(f"{g['prefix']}/download/album/{tree['secret']['_id']}")
    assert hidden.code == 404


async def test_selection_zip_leaves_out_what_the_viewer_cannot_see(app, make_gallery, make_jpeg):
    g, _ctx, _albums, made = await _tree(app, make_gallery, make_jpeg)
    _other, _other_ctx, _, other_made = await _tree(app, make_gallery, make_jpeg, slug="beta")
    ids = [made["c"]["_id"], made["s"]["_id"], other_made["a"]["_id"], new_id(), "../x"]
    visitor = app.browser()
    archive = _zip(await visitor.get(f"{g['prefix']}/download/media?ids={','.join(ids)}"))
    assert archive.namelist() == ["colosseum.jpg"]

    admin = app.browser()
    await admin.login(g["prefix"], "admin", g["password"])
    archive = _zip(await admin.get(f"{g['prefix']}/download/media?ids={','.join(ids)}"))
    assert sorted(archive.namelist()) == ["colosseum.jpg", "hidden.jpg"]  # not beta's item

    for query, status in (
        ("ids=", 400),
        (f"ids={made['s']['_id']}", 404),  # only invisible ids: nothing to download
        (f"ids={other_made['a']['_id']}", 404),
        (f"ids={made['c']['_id']}&size=huge", 400),
        ("ids=%7B%22%24gt%22%3A%22%22%7D", 400),
    ):
        response = await visitor.get(f"{g['prefix']}/download/media?{query}")
        assert response.code == status, query
        assert b"colosseum.jpg" not in response.body and b"hidden.jpg" not in response.body


async def test_too_many_items_is_a_clear_error(app, make_gallery, make_jpeg):
    g, ctx, tree, made = await _tree(app, make_gallery, make_jpeg)
    await update_settings(ctx, {"download_max_items": 2})
    admin = app.browser()
    await admin.login(g["prefix"], "admin", g["password"])
    response = await admin.get(f"{g['prefix']}/download/album/{tree['trips']['_id']}?sub=1")
    assert response.code == 400 and b"at most 2" in response.body
    ids = ",".join(m["_id"] for m in made.values())
    assert (await admin.get(f"{g['prefix']}/download/media?ids={ids}")).code == 400


def test_entry_names_are_single_clean_path_parts():
    assert clean_part("..", "album") == "album"
    assert clean_part("../../etc/passwd", "f") == "_.._etc_passwd"
    assert clean_part("/abs\\path:x", "f") == "_abs_path_x"
    assert clean_part("a\x00b\nc", "f") == "abc"
    assert clean_part("  ", "f") == "f"


async def test_the_writer_streams_large_files_and_stops_when_the_reader_leaves(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096 * 24)  # 24 MB
    entries = [Entry("a/big.bin", str(big), False), Entry("b/big.bin", str(big), False)]

    stream = ZipStream(entries)
    sizes = []
    out = io.BytesIO()
    async for chunk in stream.chunks():
        sizes.append(len(chunk))
        out.write(chunk)
    assert max(sizes) <= 2 * 256 * 1024 and len(sizes) > 100  # many small chunks, not one
    archive = zipfile.ZipFile(out)
    assert archive.getinfo("b/big.bin").file_size == big.stat().st_size
    assert archive.read("a/big.bin") == big.read_bytes()

    stream = ZipStream(entries)
    async for _chunk in stream.chunks():
        break  # the client went away after one chunk
    deadline = time.monotonic() + 10
    while stream.thread.is_alive() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not stream.thread.is_alive()


async def test_a_client_that_disconnects_mid_download_stops_the_writer(
    app, make_gallery, make_jpeg, tmp_path
):
    import threading

    g, ctx, tree, _made = await _tree(app, make_gallery, make_jpeg)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"x" * (40 * 1024 * 1024))
    for i in range(3):
        await add_media_file(ctx, tree["rome"], big, f"big{i}.jpg", copy=True)
    await ctx.db.media.update_many({}, {"$set": {"state": "ready"}})  # as in _tree
    url = f"{app.base}{g['prefix']}/download/album/{tree['rome']['_id']}"
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    path = url.split(str(app.port), 1)[1]
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert b"200" in head.split(b"\r\n")[0]
    await reader.readexactly(64 * 1024)
    writer.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(
        t.name == "zip-download" for t in threading.enumerate()
    ):
        await asyncio.sleep(0.1)
    assert not any(t.name == "zip-download" for t in threading.enumerate())


@pytest.mark.parametrize("size", ["original", "optimized"])
async def test_openapi_describes_the_downloads(app, make_gallery, size):
    g = await make_gallery("alpha")
    doc = (await app.browser().get(f"{g['prefix']}/api/v1/openapi.json")).body.decode()
    assert "/download/album/{album_id}" in doc and "/download/media" in doc and size in doc


async def test_zip_entries_carry_the_local_time_the_photo_was_taken(app, make_gallery, make_jpeg):
    g, ctx, tree, made = await _tree(app, make_gallery, make_jpeg)
    # Taken at 15:47 in New York (20:47 UTC): a ZIP's times are wall-clock times.
    await ctx.db.media.update_one(
        {"_id": made["c"]["_id"]},
        {"$set": {"taken": {"local": "2024-05-01T15:47:00", "offset": "-05:00"}}},
    )
    admin = app.browser()
    await admin.login(g["prefix"], "admin", g["password"])
    archive = _zip(await admin.get(f"{g['prefix']}/download/album/{tree['rome']['_id']}"))
    assert archive.getinfo("colosseum.jpg").date_time == (2024, 5, 1, 15, 47, 0)


async def _derivative(ctx, media: dict, key: str, name: str, payload: bytes, mime: str) -> None:
    folder = ctx.storage.derivatives / media["_id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(payload)
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": {
        f"derivatives.{key}": {"path": f"derivatives/{media['_id']}/{name}", "mime": mime}}})


async def test_zips_hold_videos_audio_and_documents_themselves_in_folders_named_by_title(
    app, make_gallery, tmp_path
):
    """Issue 17, item 12: never a poster still in place of the file; web copies only when
    "web size" is chosen (or all the viewer may have); folders carry album titles."""
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await _admin(ctx)
    root = await albums.root_album(ctx)
    trip = await albums.create_album(ctx, admin, root["_id"], {"title": "Trip"})
    clips = await albums.create_album(ctx, admin, trip["_id"], {"title": "Clips"})
    # Renamed in place: the folder on disk keeps its old name, the ZIP says "Ferry / Boats".
    await ctx.db.albums.update_one({"_id": clips["_id"]}, {"$set": {"title": "Ferry / Boats"}})
    files = {"ferry.mov": b"\x00\x00\x00\x18ftypisom-original-video",
             "horn.mp3": b"ID3-original-audio", "timetable.pdf": b"%PDF-1.4 original"}
    for name, payload in files.items():
        (tmp_path / name).write_bytes(payload)
    video, audio, pdf = [await add_media_file(ctx, clips, tmp_path / n, n) for n in files]
    for doc, kind, mime in ((video, "video", "video/quicktime"), (audio, "audio", "audio/mpeg"),
                            (pdf, "pdf", "application/pdf")):
        transcode = {"state": "ready"} if kind == "video" else {"state": "none"}
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", "kind": kind, "mime": mime, "transcode": transcode}})
        await _derivative(ctx, doc, "optimized", "optimized.jpg", b"poster-still", "image/jpeg")
    await _derivative(ctx, video, "web", "web.mp4", b"web-copy-of-video", "video/mp4")

    browser = app.browser()
    await browser.login(g["prefix"], "admin", g["password"])
    url = f"{g['prefix']}/download/album/{trip['_id']}?sub=1"
    originals = _zip(await browser.get(f"{url}&size=original"))
    assert sorted(originals.namelist()) == [
        "Ferry _ Boats/ferry.mov", "Ferry _ Boats/horn.mp3", "Ferry _ Boats/timetable.pdf"]
    assert originals.read("Ferry _ Boats/ferry.mov").endswith(b"original-video")
    assert originals.read("Ferry _ Boats/timetable.pdf") == b"%PDF-1.4 original"
    web = _zip(await browser.get(f"{url}&size=optimized"))
    assert web.read("Ferry _ Boats/ferry.mp4") == b"web-copy-of-video"
    assert web.read("Ferry _ Boats/horn.mp3") == b"ID3-original-audio"  # plays as it is
    assert all(web.read(n) != b"poster-still" for n in web.namelist())

    # A visitor without view_original: what plays in the page (the web copy, an original
    # that plays as it is); the PDF's original is not theirs, and no still stands in for it.
    visitor = _zip(await app.browser().get(f"{url}&size=original"))
    assert sorted(visitor.namelist()) == ["Ferry _ Boats/ferry.mp4", "Ferry _ Boats/horn.mp3"]
    assert all(visitor.read(n) != b"poster-still" for n in visitor.namelist())
