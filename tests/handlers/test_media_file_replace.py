"""POST /api/v1/media/<id>/file: a media object's file is replaced (raw body or multipart),
checked like an upload, and re-processed; the record (title, tags, album) stays."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from urllib.parse import quote

import pytest
from PIL import Image

from gallery.settings import update_settings
from gallery.usage import current_usage
from tests.client import text


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def jpeg_bytes(size=(64, 48), color=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png_bytes(size=(80, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 200, 0, 128)).save(out, "PNG")
    return out.getvalue()


async def _wait_ready(ctx, media_id, timeout=60.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        doc = await ctx.db.media.find_one({"_id": media_id})
        if doc["state"] in ("ready", "failed"):
            return doc
        await asyncio.sleep(0.05)
    raise AssertionError("media still pending")


async def _setup(app, make_gallery):
    g = await make_gallery("alpha")
    b = app.browser()
    await b.login(g["prefix"], "admin", g["password"])
    root = await g["ctx"].db.albums.find_one({"parent_id": None})
    uploaded = await b.api(
        "POST",
        f"{g['prefix']}/api/v1/albums/{root['_id']}/upload?title=Harbour&tags=sea",
        body=jpeg_bytes(),
        headers={"X-File-Name": "harbour.jpg"},
    )
    assert uploaded.code == 201, text(uploaded)
    media = json.loads(uploaded.body)
    await _wait_ready(g["ctx"], media["_id"])
    return g, b, media


def _tmp(g) -> list:
    return list(g["ctx"].storage.tmp.iterdir())


async def test_a_raw_body_replaces_the_file_and_it_is_processed_again(app, make_gallery):
    g, b, media = await _setup(app, make_gallery)
    ctx = g["ctx"]
    old_path = ctx.storage.resolve(media["original"]["path"])
    before = await current_usage(ctx)
    new = png_bytes()
    response = await b.api(
        "POST",
        f"{g['prefix']}/api/v1/media/{media['_id']}/file",
        body=new,
        headers={"X-File-Name": quote("new version.jpg"), "Content-Type": "image/png"},
    )
    assert response.code == 202, text(response)
    shown = json.loads(response.body)["media"]
    assert shown["state"] == "pending" and shown["mime"] == "image/png"
    assert shown["title"] == "Harbour" and shown["tags"] == ["sea"]
    # The name keeps what the uploader chose but gets the extension its content has.
    assert shown["file_name"] == "new version.png"
    doc = await _wait_ready(ctx, media["_id"])
    assert doc["state"] == "ready" and (doc["width"], doc["height"]) == (80, 20)
    assert ctx.storage.resolve(doc["original"]["path"]).read_bytes() == new
    assert not old_path.exists()
    thumb = await b.get(f"{g['prefix']}/media/{media['_id']}/thumbnail")
    assert thumb.code == 200 and Image.open(io.BytesIO(thumb.body)).size[0] > 0
    assert await current_usage(ctx) == before - len(jpeg_bytes()) + len(new)
    assert _tmp(g) == []


async def test_a_multipart_form_replaces_the_file(app, make_gallery):
    g, b, media = await _setup(app, make_gallery)
    boundary = uuid.uuid4().hex
    new = jpeg_bytes((90, 30), (250, 10, 10))
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="red.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + new
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await b.api(
        "POST",
        f"{g['prefix']}/api/v1/media/{media['_id']}/file",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.code == 202, text(response)
    assert json.loads(response.body)["media"]["file_name"] == "red.jpg"
    doc = await _wait_ready(g["ctx"], media["_id"])
    assert (doc["width"], doc["height"]) == (90, 30)
    assert g["ctx"].storage.resolve(doc["original"]["path"]).read_bytes() == new
    assert _tmp(g) == []


async def test_bad_replacements_are_refused_and_the_old_file_stays(app, make_gallery):
    g, b, media = await _setup(app, make_gallery)
    ctx = g["ctx"]
    url = f"{g['prefix']}/api/v1/media/{media['_id']}/file"
    original = ctx.storage.resolve(media["original"]["path"])
    kept = original.read_bytes()
    await update_settings(ctx, {"max_upload_mb": 1})
    boundary = "XyZ"
    cases = [
        (b"", {}, 400),
        (b"<html><script>alert(1)</script></html>", {"X-File-Name": "x.jpg"}, 415),
        (b"\x00" * (1024 * 1024 + 10), {"X-File-Name": "big.jpg"}, 413),
        (
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
            + jpeg_bytes(),  # truncated: no closing boundary
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
            400,
        ),
    ]
    for body, headers, status in cases:
        response = await b.api("POST", url, body=body, headers=headers)
        assert response.code == status, (status, text(response))
        assert json.loads(response.body)["error"]["message"]
    doc = await ctx.db.media.find_one({"_id": media["_id"]})
    assert doc["state"] == "ready" and doc["original"]["sha256"] == media["original"]["sha256"]
    assert original.read_bytes() == kept
    assert _tmp(g) == []


async def test_only_those_who_may_edit_the_media_may_replace_its_file(app, make_gallery):
    g, b, media = await _setup(app, make_gallery)
    url = f"{g['prefix']}/api/v1/media/{media['_id']}/file"
    visitor = app.browser()
    await visitor.get(f"{g['prefix']}/login")  # for the XSRF cookie
    anonymous = await visitor.api("POST", url, body=jpeg_bytes())
    assert anonymous.code == 401, text(anonymous)
    viewer = await b.api(
        "POST",
        f"{g['prefix']}/api/v1/users",
        {"username": "vera", "email": "vera@example.org", "password": "Violet-Tuba-Lantern-42"},
    )
    assert viewer.code == 201
    roles = json.loads((await b.get(f"{g['prefix']}/api/v1/roles")).body)["items"]
    authenticated = next(r for r in roles if r["builtin"] == "authenticated")
    await b.api(
        "PATCH",
        f"{g['prefix']}/api/v1/users/{json.loads(viewer.body)['user']['id']}",
        {"role_ids": [authenticated["id"]]},
    )
    vera = app.browser()
    await vera.login(g["prefix"], "vera", "Violet-Tuba-Lantern-42")
    refused = await vera.api("POST", url, body=jpeg_bytes())
    assert refused.code == 403, text(refused)
    other = await make_gallery("beta", "Beta")
    elsewhere = await b.api(
        "POST", f"{other['prefix']}/api/v1/media/{media['_id']}/file", body=jpeg_bytes()
    )
    assert elsewhere.code in (401, 404)
    doc = await g["ctx"].db.media.find_one({"_id": media["_id"]})
    assert doc["original"]["sha256"] == media["original"]["sha256"]
    assert _tmp(g) == []
