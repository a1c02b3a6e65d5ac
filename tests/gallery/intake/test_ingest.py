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
        "prepare": True,  # its first processing applies the intake settings (issue 18, item 7)
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


async def test_duplicates_are_skipped_in_the_album_by_default_or_kept_by_setting(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    data = jpeg_bytes()
    first = await ingest_bytes(ctx, root, admin, data, "a.jpg")
    with pytest.raises(Conflict) as err:  # the default: skip what the album has
        await ingest_bytes(ctx, root, admin, data, "again.jpg")
    message = err.value.message
    assert message.startswith("Already in this album") and "skipped" in message
    assert first["_id"] in message and "a.jpg" in message
    assert await ctx.db.media.count_documents({}) == 1 and tmp_is_empty(ctx)
    assert await ctx.db.content_claims.count_documents({}) == 0  # nothing left claimed
    await update_settings(ctx, {"duplicates": "keep"})
    second = await ingest_bytes(ctx, root, admin, data, "a.jpg")
    assert second["file_name"] == "a (2).jpg"
    assert (ctx.storage.originals / "a.jpg").exists() and (
        ctx.storage.originals / "a (2).jpg"
    ).exists()
    assert await ingest.current_usage(ctx) == 2 * len(data)


async def test_skip_in_gallery_looks_in_every_album(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    other = album_document("Other", root, dirname="other")
    await ctx.db.albums.insert_one(other)
    data = jpeg_bytes(color=(1, 2, 3))
    await ingest_bytes(ctx, root, admin, data, "a.jpg")
    # In-album skipping (the default) lets the same file into another album...
    await ingest_bytes(ctx, other, admin, data, "a.jpg")
    await update_settings(ctx, {"duplicates": "skip_gallery"})
    with pytest.raises(Conflict) as err:  # ...skipping in the gallery does not
        await ingest_bytes(ctx, other, admin, jpeg_bytes(color=(1, 2, 3)), "b.jpg")
    assert err.value.message.startswith("Already in this gallery") and "in the album" in err.value.message
    assert await ctx.db.media.count_documents({}) == 2 and tmp_is_empty(ctx)


async def test_parallel_uploads_of_the_same_file_keep_one_copy(app, make_gallery):
    """Eight uploads of one file at once: the check-then-insert race would keep several."""
    import asyncio

    ctx, root, admin = await setup(make_gallery)
    data = jpeg_bytes(color=(9, 9, 9))
    results = await asyncio.gather(
        *(ingest_bytes(ctx, root, admin, data, f"p{i}.jpg") for i in range(8)),
        return_exceptions=True,
    )
    kept = [r for r in results if isinstance(r, dict)]
    skipped = [r for r in results if isinstance(r, Conflict)]
    assert len(kept) == 1 and len(skipped) == 7, results
    assert await ctx.db.media.count_documents({"content_hash": hashlib.sha256(data).hexdigest()}) == 1
    assert tmp_is_empty(ctx) and await ingest.current_usage(ctx) == len(data)
    assert await ctx.db.content_claims.count_documents({}) == 0


async def test_a_claim_left_by_a_dead_upload_is_taken_over(app, make_gallery):
    from datetime import UTC, datetime, timedelta

    ctx, root, admin = await setup(make_gallery)
    data = jpeg_bytes(color=(7, 7, 7))
    sha = hashlib.sha256(data).hexdigest()
    await ctx.db.content_claims.insert_one(
        {"_id": f"{root['_id']}:{sha}", "created": datetime.now(UTC) - timedelta(hours=1)})
    assert (await ingest_bytes(ctx, root, admin, data, "late.jpg"))["file_name"] == "late.jpg"


async def test_quota_counts_usage_and_refuses_what_does_not_fit(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    data = b"x" * 3000 + b"\n"
    await update_tenant(app.services.registry, ctx.slug, quota_bytes=5000)
    ctx = await app.services.registry.context_for_slug(ctx.slug)
    other = b"y" * 3000 + b"\n"  # another file of the same size (the same would be skipped)
    await ingest_bytes(ctx, root, admin, data, "one.txt")
    with pytest.raises(TooLarge, match="quota"):
        await ingest_bytes(ctx, root, admin, other, "two.txt")
    assert await ingest.current_usage(ctx) == len(data)
    await ingest.add_usage(ctx, -len(data))  # what deleting the media object does
    await ingest_bytes(ctx, root, admin, other, "two.txt")
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
