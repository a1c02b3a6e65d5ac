"""gallery.intake.ingest: content sniffing, clean names, duplicates, quota and the usage counter."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from PIL import Image

from gallery.errors import Conflict, Invalid, TooLarge, Unsupported
from gallery.intake import ingest
from gallery.library.albums import album_document
from gallery.settings import update_settings
from tenants.provision import update_tenant


def jpeg_bytes(color=(200, 30, 30), size=(32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def put_tmp(ctx, data: bytes):
    path = ctx.storage.temp_path(".test")
    path.write_bytes(data)
    return path, len(data), hashlib.sha256(data).hexdigest()


async def setup(make_gallery, slug="alpha"):
    gallery = await make_gallery(slug)
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    admin = await ctx.db.users.find_one({"username": "admin"})
    return ctx, root, admin


async def ingest_bytes(ctx, album, user, data, name, **kwargs):
    path, size, sha = put_tmp(ctx, data)
    return await ingest.ingest_file(
        ctx, None, user, album, path, name, size=size, sha256=sha, **kwargs
    )


def tmp_is_empty(ctx) -> bool:
    return not any(ctx.storage.tmp.iterdir())


async def test_an_image_becomes_a_pending_media_object_in_its_album_directory(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    child = album_document("Trips", root, dirname="Trips")
    child["dirpath"] = "Trips"
    await ctx.db.albums.insert_one(child)
    data = jpeg_bytes()
    doc = await ingest_bytes(ctx, child, admin, data, "beach.JPEG", title="Beach", tags="sea, sun")
    assert doc["state"] == "pending" and doc["kind"] == "image" and doc["mime"] == "image/jpeg"
    assert doc["file_name"] == "beach.JPEG"
    assert doc["original"] == {
        "path": "originals/Trips/beach.JPEG",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert doc["album_path"] == [root["_id"], child["_id"]]
    assert doc["tags"] == ["sea", "sun"] and doc["title"] == "Beach"
    assert (ctx.storage.path / doc["original"]["path"]).read_bytes() == data
    stored = await ctx.db.media.find_one({"_id": doc["_id"]})
    assert stored["uploaded_by"] == admin["_id"] and stored["version"] == ingest.MEDIA_VERSION
    assert await ingest.current_usage(ctx) == len(data)
    assert tmp_is_empty(ctx)
    second = await ingest_bytes(ctx, child, admin, jpeg_bytes((1, 2, 3)), "other.jpg")
    assert second["position"] == doc["position"] + 1


async def test_private_album_makes_private_media(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    private = album_document("Secret", root, dirname="Secret")
    private.update(private=True, dirpath="Secret")
    await ctx.db.albums.insert_one(private)
    doc = await ingest_bytes(ctx, private, admin, b"just some words\n", "notes.txt")
    assert doc["private"] is True and doc["kind"] == "document"


async def test_html_named_jpg_is_refused_naming_text_html(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    html = b"<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script></body></html>\n"
    with pytest.raises(Unsupported) as err:
        await ingest_bytes(ctx, root, admin, html, "cat.jpg")
    assert "text/html" in err.value.message
    assert tmp_is_empty(ctx) and await ctx.db.media.count_documents({}) == 0
    assert await ingest.current_usage(ctx) == 0


async def test_random_bytes_named_jpg_are_refused(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    with pytest.raises(Unsupported) as err:
        await ingest_bytes(ctx, root, admin, os.urandom(4096), "photo.jpg")
    assert "application/octet-stream" in err.value.message
    assert tmp_is_empty(ctx)


async def test_an_empty_file_is_refused(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    with pytest.raises(Invalid, match="empty"):
        await ingest_bytes(ctx, root, admin, b"", "empty.jpg")
    assert tmp_is_empty(ctx)


async def test_duplicates_are_kept_or_skipped_by_setting(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    data = jpeg_bytes()
    first = await ingest_bytes(ctx, root, admin, data, "a.jpg")
    second = await ingest_bytes(ctx, root, admin, data, "a.jpg")
    assert second["file_name"] == "a (2).jpg"
    assert (ctx.storage.originals / "a.jpg").exists() and (
        ctx.storage.originals / "a (2).jpg"
    ).exists()
    await update_settings(ctx, {"duplicates": "skip"})
    with pytest.raises(Conflict) as err:
        await ingest_bytes(ctx, root, admin, data, "again.jpg")
    assert first["_id"] in err.value.message and "a.jpg" in err.value.message
    assert await ctx.db.media.count_documents({}) == 2 and tmp_is_empty(ctx)
    assert await ingest.current_usage(ctx) == 2 * len(data)


async def test_quota_counts_usage_and_refuses_what_does_not_fit(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    data = b"x" * 3000 + b"\n"
    await update_tenant(app.services.registry, ctx.slug, quota_bytes=5000)
    ctx = await app.services.registry.context_for_slug(ctx.slug)
    await ingest_bytes(ctx, root, admin, data, "one.txt")
    with pytest.raises(TooLarge, match="quota"):
        await ingest_bytes(ctx, root, admin, data, "two.txt")
    assert await ingest.current_usage(ctx) == len(data)
    await ingest.add_usage(ctx, -len(data))  # what deleting the media object does
    await ingest_bytes(ctx, root, admin, data, "two.txt")
    assert tmp_is_empty(ctx)


async def test_processing_is_queued_for_workers(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    path, size, sha = put_tmp(ctx, jpeg_bytes())
    doc = await ingest.ingest_file(
        ctx, app.services, admin, root, path, "q.jpg", size=size, sha256=sha
    )
    job = await app.services.host_db.jobs.find_one({"tenant": ctx.slug, "kind": "media.process"})
    assert job["payload"] == {"media_id": doc["_id"]}


@pytest.mark.parametrize(
    ("name", "ext", "expected"),
    [
        ("holiday.jpg", "jpg", "holiday.jpg"),
        ("IMG_1.JPEG", "jpg", "IMG_1.JPEG"),
        ("noext", "png", "noext.png"),
        ("wrong.png", "jpg", "wrong.jpg"),
        ("my.holiday", "jpg", "my.holiday.jpg"),
        ("../../etc/passwd", "txt", "passwd.txt"),
        ("C:\\fakepath\\photo.jpg", "jpg", "photo.jpg"),
        ("bad\x00na\x1bme\x7f\u202e.jpg", "jpg", "badname.jpg"),
        ("...", "jpg", "file.jpg"),
        ("a<b>c:d|e?.txt", "txt", "a_b_c_d_e_.txt"),
        ("", "gif", "file.gif"),
    ],
)
def test_file_names_are_cleaned(name, ext, expected):
    assert ingest.clean_file_name(name, ext) == expected


def test_a_thousand_character_name_is_capped_keeping_the_extension():
    name = ingest.clean_file_name("n" * 1000 + ".jpg", "jpg")
    assert len(name) == 200 and name.endswith(".jpg")
