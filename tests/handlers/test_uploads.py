"""POST /api/v1/albums/<id>/upload (streamed raw body) and /external (embed code)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
from urllib.parse import quote

from PIL import Image
from tornado.httpclient import AsyncHTTPClient

from gallery.intake import ingest
from gallery.settings import update_settings
from handlers.linger import LingeringClose
from tenants.provision import update_tenant
from tests.client import text

MB = 1024 * 1024


def jpeg_bytes(color=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "JPEG")
    return out.getvalue()


async def signed_in(app, make_gallery, slug="alpha"):
    gallery = await make_gallery(slug)
    browser = app.browser()
    response = await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    assert response.code == 302
    root = await gallery["ctx"].db.albums.find_one({"parent_id": None})
    return gallery, browser, root


async def upload(browser, gallery, album_id, data, name, query="", **kwargs):
    headers = kwargs.pop("headers", {})
    headers.setdefault("X-File-Name", quote(name))
    return await browser.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums/{album_id}/upload{query}",
        body=data,
        headers=headers,
        **kwargs,
    )


def tmp_files(gallery) -> list:
    return list(gallery["ctx"].storage.tmp.iterdir())


def originals(gallery) -> list:
    return [p for p in gallery["ctx"].storage.originals.rglob("*") if p.is_file()]


async def test_upload_streams_a_file_into_the_album_and_returns_the_pending_media(
    app, make_gallery
):
    gallery, browser, root = await signed_in(app, make_gallery)
    data = jpeg_bytes()
    response = await upload(
        browser, gallery, root["_id"], data, "Ünïcode photo.jpg", query="?title=Sunset&tags=a,b"
    )
    assert response.code == 201, text(response)
    media = json.loads(response.body)
    assert media["state"] == "pending" and media["kind"] == "image"
    assert media["file_name"] == "Ünïcode photo.jpg" and media["title"] == "Sunset"
    assert media["original"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert (gallery["ctx"].storage.path / media["original"]["path"]).read_bytes() == data
    assert response.headers["Location"].endswith(f"/api/v1/media/{media['_id']}")
    assert tmp_files(gallery) == []


async def test_name_may_come_in_the_query(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    response = await browser.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload?name=notes.txt",
        body=b"hello there\n",
    )
    assert response.code == 201, text(response)
    assert json.loads(response.body)["file_name"] == "notes.txt"


async def test_upload_without_xsrf_header_is_refused(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    response = await browser.request(
        "POST",
        f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload?name=a.txt",
        body=b"hello\n",
        expect_xsrf_refusal=True,
    )
    assert response.code == 403
    assert "xsrf" in json.loads(response.body)["error"]["message"].lower()
    assert tmp_files(gallery) == [] and originals(gallery) == []


async def test_anonymous_upload_is_refused(app, make_gallery):
    gallery, _browser, root = await signed_in(app, make_gallery)
    anonymous = app.browser()
    await anonymous.get(f"{gallery['prefix']}/login")  # for the XSRF cookie
    response = await upload(anonymous, gallery, root["_id"], b"hi\n", "a.txt")
    assert response.code == 401
    assert tmp_files(gallery) == []


async def test_album_of_another_tenant_is_not_found(app, make_gallery):
    gallery, browser, _root = await signed_in(app, make_gallery, "alpha")
    other = await make_gallery("beta")
    other_root = await other["ctx"].db.albums.find_one({"parent_id": None})
    response = await upload(browser, gallery, other_root["_id"], b"hi\n", "a.txt")
    assert response.code == 404
    response = await upload(browser, gallery, "0" * 24, b"hi\n", "a.txt")
    assert response.code == 404
    assert await other["ctx"].db.media.count_documents({}) == 0


async def test_html_named_jpg_is_refused_with_its_real_type(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    html = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
    response = await upload(browser, gallery, root["_id"], html, "kitten.jpg")
    assert response.code == 415
    assert "text/html" in json.loads(response.body)["error"]["message"]
    assert tmp_files(gallery) == [] and originals(gallery) == []


async def test_random_bytes_and_empty_files_are_refused(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    response = await upload(browser, gallery, root["_id"], os.urandom(10_000), "photo.jpg")
    assert response.code == 415, text(response)
    response = await upload(browser, gallery, root["_id"], b"", "empty.jpg")
    assert response.code == 400
    assert "empty" in json.loads(response.body)["error"]["message"]
    assert tmp_files(gallery) == [] and originals(gallery) == []


async def test_control_characters_and_a_thousand_character_name_are_cleaned(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    response = await upload(
        browser, gallery, root["_id"], b"one\n", "evil\x00\x1b[31m\nname/../x.txt"
    )
    assert response.code == 201, text(response)
    assert json.loads(response.body)["file_name"] == "x.txt"
    response = await upload(browser, gallery, root["_id"], b"two\n", "é" * 1000 + ".txt")
    assert response.code == 201, text(response)
    name = json.loads(response.body)["file_name"]
    assert name == "é" * 118 + ".txt" and len(name.encode()) <= 240


async def test_same_file_twice_is_skipped_or_kept_by_setting(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    data = jpeg_bytes()
    first = await upload(browser, gallery, root["_id"], data, "same.jpg")
    again = await upload(browser, gallery, root["_id"], data, "same.jpg")
    assert (first.code, again.code) == (201, 409)  # skipped in the album by default
    message = json.loads(again.body)["error"]["message"]
    assert message.startswith("Already in this album") and json.loads(first.body)["_id"] in message
    assert len(originals(gallery)) == 1 and tmp_files(gallery) == []
    await update_settings(gallery["ctx"], {"duplicates": "keep"})
    second = await upload(browser, gallery, root["_id"], data, "same.jpg")
    assert second.code == 201 and json.loads(second.body)["file_name"] == "same (2).jpg"
    assert len(originals(gallery)) == 2 and tmp_files(gallery) == []


async def test_over_the_limit_is_refused_before_the_body_is_stored(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    await update_settings(gallery["ctx"], {"max_upload_mb": 1})
    big = b"a" * (3 * MB)
    response = await upload(browser, gallery, root["_id"], big, "big.txt", expect_100_continue=True)
    assert response.code == 413, text(response)
    assert "1 MB" in json.loads(response.body)["error"]["message"]
    assert tmp_files(gallery) == [] and originals(gallery) == []


async def test_chunked_body_over_the_limit_is_cut_off_and_deleted(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    await update_settings(gallery["ctx"], {"max_upload_mb": 1})
    sent = []

    async def producer(write):
        for _ in range(40):  # 5 MB in 128 KB pieces, no Content-Length
            sent.append(1)
            await write(b"b" * (128 * 1024))

    response = await AsyncHTTPClient().fetch(
        f"{app.base}{gallery['prefix']}/api/v1/albums/{root['_id']}/upload?name=big.txt",
        method="POST",
        body_producer=producer,
        raise_error=False,
        headers={
            "X-XSRFToken": browser.xsrf(),
            "Cookie": browser._cookie_header(gallery["prefix"] + "/"),
        },
    )
    # The answer goes out at once and the rest of the body is read and dropped, so the
    # client reads the 413 instead of a reset connection (handlers/linger.py).
    assert response.code == 413, text(response)
    assert response.headers["Connection"] == "close"
    assert "1 MB" in json.loads(response.body)["error"]["message"]
    ctx = gallery["ctx"]
    assert originals(gallery) == [] and await ctx.db.media.count_documents({}) == 0
    await wait_until(lambda: tmp_files(gallery) == [])


async def test_a_body_refused_before_it_comes_is_answered_at_once_and_the_linger_ends(app, make_gallery, monkeypatch):
    """A browser sends no `Expect: 100-continue`: its body comes even when the declared
    length is refused. The 413 must reach it while it is still sending, and a client that
    then stalls is cut off after the linger, not held forever."""
    gallery, browser, root = await signed_in(app, make_gallery)
    await update_settings(gallery["ctx"], {"max_upload_mb": 1})
    monkeypatch.setattr(LingeringClose, "LINGER_SECONDS", 1.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    path = f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload?name=big.txt"
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\nContent-Length: {5 * 1024 * 1024}\r\n"
        f"X-XSRFToken: {browser.xsrf()}\r\nCookie: {browser._cookie_header(gallery['prefix'] + '/')}\r\n\r\n".encode()
        + b"b" * (256 * 1024)  # a first piece; then the client stalls
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"Connection: close" in head
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    assert "1 MB" in json.loads(await reader.readexactly(length))["error"]["message"]
    loop = asyncio.get_running_loop()
    waited = loop.time()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # the server ended the connection
    assert 0.5 < loop.time() - waited < 4
    writer.close()
    assert tmp_files(gallery) == [] and originals(gallery) == []


async def test_a_client_that_leaves_during_the_linger_ends_it_quietly(app, make_gallery, caplog):
    gallery, browser, root = await signed_in(app, make_gallery)
    await update_settings(gallery["ctx"], {"max_upload_mb": 1})
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    path = f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload?name=big.txt"
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\nTransfer-Encoding: chunked\r\n"
        f"X-XSRFToken: {browser.xsrf()}\r\nCookie: {browser._cookie_header(gallery['prefix'] + '/')}\r\n\r\n".encode()
    )
    for _ in range(12):  # 1.5 MB in chunks: over the limit part-way
        writer.write(b"20000\r\n" + b"c" * 0x20000 + b"\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 413"), head
    writer.close()  # gone before the body's end and before the linger's
    await asyncio.sleep(0.3)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text
    await wait_until(lambda: tmp_files(gallery) == [])
    # The service goes on answering.
    assert (await browser.get(f"{gallery['prefix']}/")).code == 200


async def wait_until(condition, timeout=5.0):

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_quota_exceeded_is_refused_up_front(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    await update_tenant(app.services.registry, gallery["slug"], quota_bytes=100_000)
    ok = await upload(browser, gallery, root["_id"], b"z" * 60_000 + b"\n", "a.txt")
    assert ok.code == 201, text(ok)
    response = await upload(
        browser, gallery, root["_id"], b"y" * 60_000 + b"\n", "b.txt", expect_100_continue=True
    )
    assert response.code == 413
    assert "quota" in json.loads(response.body)["error"]["message"]
    ctx = await app.services.registry.context_for_slug(gallery["slug"])
    assert await ingest.current_usage(ctx) == 60_001
    assert tmp_files(gallery) == [] and len(originals(gallery)) == 1


async def test_external_media_keeps_only_an_allowlisted_iframe(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    html = (
        '<script>alert(1)</script><iframe src="https://www.youtube-nocookie.com/embed/abc" '
        'width="560" height="315" onload="alert(2)" style="x" title="My clip" '
        'allow="autoplay; encrypted-media" allowfullscreen></iframe><p>hi</p>'
    )
    response = await browser.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums/{root['_id']}/external",
        json_body={"html": html, "title": "Clip"},
    )
    assert response.code == 201, text(response)
    media = json.loads(response.body)
    assert media["kind"] == "external" and media["state"] == "ready" and media["title"] == "Clip"
    stored = media["embed_html"]
    assert (
        stored.startswith("<iframe")
        and 'src="https://www.youtube-nocookie.com/embed/abc"' in stored
    )
    assert "script" not in stored and "onload" not in stored and "style" not in stored
    assert 'title="My clip"' in stored and "allowfullscreen" in stored


async def test_external_media_refuses_other_hosts_and_schemes(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    url = f"{gallery['prefix']}/api/v1/albums/{root['_id']}/external"
    for html in (
        '<iframe src="http://www.youtube.com/embed/x"></iframe>',
        '<iframe src="javascript:alert(1)"></iframe>',
        '<iframe src="https://evil.example/embed"></iframe>',
        '<iframe src="https://www.youtube.com@evil.example/"></iframe>',
        '<script src="https://www.youtube.com/x.js"></script>',
        '<img src="https://www.youtube.com/x.png" onerror="alert(1)">',
    ):
        response = await browser.api("POST", url, json_body={"html": html})
        assert response.code == 400, html
    assert await gallery["ctx"].db.media.count_documents({}) == 0
