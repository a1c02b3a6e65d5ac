"""Processing jobs on real workers and a real process pool: pending images become ready
with derivatives and metadata; broken files end failed with a reason; nothing stays pending."""

import asyncio
import shutil

import pytest
from PIL import Image

from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing, rotate_media
from media.sniff import Sniffed

CANON = "/work/shared/testdata/camera-samples/jpg/Canon_40D.jpg"
JPEG = Sniffed(mime="image/jpeg", kind="image", extension="jpg", description="JPEG image data")


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _wait_for(ctx, media_id, states=("ready", "failed"), timeout=60.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        doc = await ctx.db.media.find_one({"_id": media_id})
        if doc and doc["state"] in states:
            return doc
        await asyncio.sleep(0.05)
    raise AssertionError(f"media {media_id} still {doc and doc['state']}")


async def _setup(app, make_gallery, viewer_of):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Photos"})
    return ctx, admin, album, app.services.jobs.queue


async def test_a_pending_image_becomes_ready_with_thumbnail_and_metadata(
    app, make_gallery, viewer_of, tmp_path
):
    ctx, _, album, queue = await _setup(app, make_gallery, viewer_of)
    src = tmp_path / "canon.jpg"
    shutil.copyfile(CANON, src)
    media = await add_media_file(ctx, album, src, "canon.jpg", title="canon")
    assert media["state"] == "pending"
    job_id = await enqueue_processing(ctx, queue, media["_id"])
    done = await _wait_for(ctx, media["_id"])
    assert done["state"] == "ready", done.get("failure")
    thumb = done["derivatives"]["thumbnail"]
    assert (
        thumb["path"].startswith(f"derivatives/{media['_id']}/") and thumb["mime"] == "image/jpeg"
    )
    with Image.open(ctx.storage.resolve(thumb["path"])) as im:
        assert max(im.size) <= 320
    assert (done["width"], done["height"]) == (100, 68)
    assert done["metadata"]["camera"]["model"] == "Canon EOS 40D"
    assert done["date_taken"].year == 2008 and done["date_taken"].month == 5
    job = await queue.get("alpha", job_id)
    for _ in range(100):
        if job["state"] == "done":
            break
        await asyncio.sleep(0.05)
        job = await queue.get("alpha", job_id)
    assert job["state"] == "done"


async def test_metadata_fills_title_caption_and_tags_only_when_the_uploader_gave_none(
    app, make_gallery, viewer_of, tmp_path
):
    ctx, _, album, queue = await _setup(app, make_gallery, viewer_of)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dawn</rdf:li></rdf:Alt></dc:title>'
        b'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Boats</rdf:li></rdf:Alt></dc:description>'
        b"<dc:subject><rdf:Bag><rdf:li>Sea</rdf:li><rdf:li>Boats</rdf:li></rdf:Bag></dc:subject>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    paths = []
    for name in ("a.jpg", "b.jpg"):
        path = tmp_path / name
        Image.new("RGB", (400, 300), (10, 90, 160)).save(path, "JPEG", xmp=xmp)
        paths.append(path)
    bare = await add_media_file(ctx, album, paths[0], "a.jpg", sniffed=JPEG)
    given = await add_media_file(
        ctx, album, paths[1], "b.jpg", title="Mine", tags=["Own"], sniffed=JPEG
    )
    for m in (bare, given):
        await enqueue_processing(ctx, queue, m["_id"])
    bare, given = await _wait_for(ctx, bare["_id"]), await _wait_for(ctx, given["_id"])
    assert bare["title"] == "Harbour at dawn" and bare["caption"] == "Boats"
    assert bare["tags"] == ["Sea", "Boats"] and bare["tag_keys"] == ["sea", "boats"]
    assert given["title"] == "Mine" and given["tags"] == ["Own"]


async def test_a_corrupt_image_ends_failed_with_a_reason_and_the_worker_goes_on(
    app, make_gallery, viewer_of, tmp_path, make_jpeg
):
    ctx, _, album, queue = await _setup(app, make_gallery, viewer_of)
    broken = tmp_path / "broken.jpg"
    good = make_jpeg(800, 600)
    broken.write_bytes(good.read_bytes()[:600] + b"\x00garbage" * 50)
    bad = await add_media_file(ctx, album, broken, "broken.jpg", sniffed=JPEG)
    fine = await add_media_file(ctx, album, good, "fine.jpg")
    bad_job = await enqueue_processing(ctx, queue, bad["_id"])
    await enqueue_processing(ctx, queue, fine["_id"])
    bad = await _wait_for(ctx, bad["_id"])
    assert bad["state"] == "failed" and bad["failure"]
    assert (await _wait_for(ctx, fine["_id"]))["state"] == "ready"
    job = await queue.get("alpha", bad_job)
    assert job["state"] == "failed" and job["attempts"] == 1


async def test_a_missing_original_marks_the_media_failed(app, make_gallery, viewer_of, make_jpeg):
    ctx, _, album, queue = await _setup(app, make_gallery, viewer_of)
    media = await add_media_file(ctx, album, make_jpeg(), "gone.jpg")
    ctx.storage.resolve(media["original"]["path"]).unlink()
    await enqueue_processing(ctx, queue, media["_id"])
    failed = await _wait_for(ctx, media["_id"])
    assert failed["state"] == "failed" and "missing" in failed["failure"]


async def test_rotating_remakes_the_derivatives_turned(app, make_gallery, viewer_of, make_jpeg):
    ctx, admin, album, queue = await _setup(app, make_gallery, viewer_of)
    media = await add_media_file(ctx, album, make_jpeg(640, 480), "wide.jpg")
    await enqueue_processing(ctx, queue, media["_id"])
    ready = await _wait_for(ctx, media["_id"])
    assert (
        ready["derivatives"]["thumbnail"]["width"],
        ready["derivatives"]["thumbnail"]["height"],
    ) == (320, 240)
    await rotate_media(ctx, admin, media["_id"], queue, rotate=90)
    turned = await _wait_for(ctx, media["_id"])
    assert turned["state"] == "ready" and turned["transform"] == {"rotate": 90, "mirror": False}
    assert (
        turned["derivatives"]["thumbnail"]["width"],
        turned["derivatives"]["thumbnail"]["height"],
    ) == (240, 320)
    assert "optimized" in turned["derivatives"]  # a rotated image is never served as the original


async def test_regenerating_an_album_reports_progress(app, make_gallery, viewer_of, make_jpeg):
    ctx, _, album, queue = await _setup(app, make_gallery, viewer_of)
    ids = [
        (await add_media_file(ctx, album, make_jpeg(200, 150), f"{i}.jpg"))["_id"] for i in range(3)
    ]
    job_id = await queue.enqueue("alpha", "media.regenerate", {"album_id": album["_id"]})
    job = None
    for _ in range(600):
        job = await queue.get("alpha", job_id)
        if job["state"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    assert job["state"] == "done" and job["result"] == {"processed": 3, "failed": 0}
    assert job["progress"] == 1.0
    for media_id in ids:
        assert (await ctx.db.media.find_one({"_id": media_id}))["state"] == "ready"


async def test_a_document_gets_an_icon_thumbnail_and_is_ready(
    app, make_gallery, viewer_of, tmp_path
):
    ctx, _, album, queue = await _setup(app, make_gallery, viewer_of)
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 20)
    media = await add_media_file(ctx, album, path, "notes.txt")
    assert media["kind"] == "document"
    await enqueue_processing(ctx, queue, media["_id"])
    ready = await _wait_for(ctx, media["_id"])
    assert ready["state"] == "ready"
    with Image.open(ctx.storage.resolve(ready["derivatives"]["thumbnail"]["path"])) as im:
        assert im.format == "PNG" and im.size == (320, 320)
