"""tus 1.0 resumable uploads: create, append, resume after a dropped connection or a restart."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta

from tornado.httpserver import HTTPServer

from gallery.people.users import create_user
from gallery.settings import update_settings
from tests.client import text

MB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def metadata(**pairs) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def payload(size: int) -> bytes:
    """Text content (sniffs as text/plain, allowed by default) that is not all one byte."""
    line = b"".join(b"%08d the quick brown fox jumps over the lazy dog\n" % i for i in range(2000))
    return (line * (size // len(line) + 1))[:size]


class Tus:
    def __init__(self, browser, prefix):
        self.browser, self.prefix = browser, prefix

    async def call(self, method, path="", headers=None, body=None, **kwargs):
        h = dict(TUS)
        h.update(headers or {})
        if method in ("POST", "PATCH", "DELETE"):
            h.setdefault("X-XSRFToken", self.browser.xsrf())
        return await self.browser.request(
            method, f"{self.prefix}/api/v1/uploads/{path}", headers=h, body=body, **kwargs
        )

    async def create(self, album_id, length, filename="big.txt"):
        response = await self.call(
            "POST",
            headers={
                "Upload-Length": str(length),
                "Upload-Metadata": metadata(filename=filename, album_id=album_id),
            },
        )
        assert response.code == 201, text(response)
        return response.headers["Location"].rsplit("/", 1)[-1], response

    async def patch(self, upload_id, offset, data):
        return await self.call(
            "PATCH",
            upload_id,
            body=data,
            headers={
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )

    async def offset(self, upload_id) -> int:
        response = await self.call("HEAD", upload_id)
        assert response.code == 200, response.code
        return int(response.headers["Upload-Offset"])


async def signed_in(app, make_gallery, slug="alpha"):
    gallery = await make_gallery(slug)
    browser = app.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    root = await gallery["ctx"].db.albums.find_one({"parent_id": None})
    return gallery, Tus(browser, gallery["prefix"]), root


def originals(ctx):
    return [p for p in ctx.storage.originals.rglob("*") if p.is_file()]


async def wait_until(condition, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_options_lists_version_extensions_and_max_size(app, make_gallery):
    gallery, tus, _root = await signed_in(app, make_gallery)
    response = await tus.browser.request("OPTIONS", f"{gallery['prefix']}/api/v1/uploads/")
    assert response.code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation",
        "termination",
        "expiration",
    }
    assert int(response.headers["Tus-Max-Size"]) == 2048 * MB


async def test_upload_in_two_patches_becomes_a_media_object(app, make_gallery):
    gallery, tus, root = await signed_in(app, make_gallery)
    data = payload(300_000)
    upload_id, created = await tus.create(root["_id"], len(data), "story.txt")
    assert created.headers["Upload-Expires"].endswith("GMT")
    first = await tus.patch(upload_id, 0, data[:100_000])
    assert first.code == 204 and first.headers["Upload-Offset"] == "100000"
    head = await tus.call("HEAD", upload_id)
    assert head.headers["Upload-Offset"] == "100000" and head.headers["Upload-Length"] == "300000"
    assert head.headers["Cache-Control"] == "no-store"
    last = await tus.patch(upload_id, 100_000, data[100_000:])
    assert last.code == 204, text(last)
    media_id = last.headers["Upload-Media-Id"]
    media = await gallery["ctx"].db.media.find_one({"_id": media_id})
    assert media["file_name"] == "story.txt" and media["state"] == "pending"
    assert media["original"]["sha256"] == hashlib.sha256(data).hexdigest()
    state = json.loads((await tus.call("GET", upload_id)).body)
    assert state["state"] == "done" and state["media_id"] == media_id
    assert not any(gallery["ctx"].storage.tmp.iterdir())


async def test_wrong_version_offset_and_content_type_are_refused(app, make_gallery):
    _gallery, tus, root = await signed_in(app, make_gallery)
    upload_id, _ = await tus.create(root["_id"], 1000)
    wrong = await tus.call("HEAD", upload_id, headers={"Tus-Resumable": "0.2.2"})
    assert wrong.code == 412 and wrong.headers["Tus-Version"] == "1.0.0"
    mismatch = await tus.patch(upload_id, 10, b"x" * 10)
    assert mismatch.code == 409 and mismatch.headers["Tus-Resumable"] == "1.0.0"
    bad_type = await tus.call(
        "PATCH",
        upload_id,
        body=b"x",
        headers={"Upload-Offset": "0", "Content-Type": "application/octet-stream"},
    )
    assert bad_type.code == 415
    too_long = await tus.patch(upload_id, 0, b"x" * 1001)
    assert too_long.code == 413
    assert await tus.offset(upload_id) == 0


async def test_patch_without_xsrf_is_refused(app, make_gallery):
    _gallery, tus, root = await signed_in(app, make_gallery)
    upload_id, _ = await tus.create(root["_id"], 10)
    response = await tus.browser.request(
        "PATCH",
        f"{tus.prefix}/api/v1/uploads/{upload_id}",
        body=b"x" * 10,
        headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        expect_xsrf_refusal=True,
    )
    assert response.code == 403
    assert await tus.offset(upload_id) == 0


async def test_uploads_of_another_user_or_tenant_are_not_found(app, make_gallery):
    gallery, tus, root = await signed_in(app, make_gallery, "alpha")
    upload_id, _ = await tus.create(root["_id"], 10)
    # Another tenant, with its own admin signed in.
    other, other_tus, _ = await signed_in(app, make_gallery, "beta")
    assert (await other_tus.call("HEAD", upload_id)).code == 404
    assert (await other_tus.patch(upload_id, 0, b"x" * 10)).code == 404
    assert (await other_tus.call("DELETE", upload_id)).code == 404
    # Another user of the same tenant.
    ctx = gallery["ctx"]
    admin_role = await ctx.db.roles.find_one({"builtin": "administrators"})
    await create_user(
        ctx, "second", "second@alpha.test", "Another-Long-Pass-42", role_ids=[admin_role["_id"]]
    )
    browser = app.browser()
    await browser.login(gallery["prefix"], "second", "Another-Long-Pass-42")
    second = Tus(browser, gallery["prefix"])
    assert (await second.call("HEAD", upload_id)).code == 404
    assert (await second.call("GET", upload_id)).code == 404
    # And an album of another tenant cannot be the target.
    beta_root = await other["ctx"].db.albums.find_one({"parent_id": None})
    response = await tus.call(
        "POST",
        headers={
            "Upload-Length": "5",
            "Upload-Metadata": metadata(filename="a.txt", album_id=beta_root["_id"]),
        },
    )
    assert response.code == 404
    assert await tus.offset(upload_id) == 0


async def test_terminate_removes_bytes_and_record(app, make_gallery):
    gallery, tus, root = await signed_in(app, make_gallery)
    upload_id, _ = await tus.create(root["_id"], 1000)
    await tus.patch(upload_id, 0, b"a" * 500)
    assert (await tus.call("DELETE", upload_id)).code == 204
    assert (await tus.call("HEAD", upload_id)).code == 404
    assert not any(gallery["ctx"].storage.tmp.iterdir())
    assert await gallery["ctx"].db.uploads.count_documents({}) == 0


async def test_size_and_quota_are_checked_at_creation(app, make_gallery):
    from tenants.provision import update_tenant

    gallery, tus, root = await signed_in(app, make_gallery)
    await update_settings(gallery["ctx"], {"max_upload_mb": 1})
    response = await tus.call(
        "POST",
        headers={
            "Upload-Length": str(2 * MB),
            "Upload-Metadata": metadata(filename="a.txt", album_id=root["_id"]),
        },
    )
    assert response.code == 413
    await update_tenant(app.services.registry, gallery["slug"], quota_bytes=1000)
    response = await tus.call(
        "POST",
        headers={
            "Upload-Length": "2000",
            "Upload-Metadata": metadata(filename="a.txt", album_id=root["_id"]),
        },
    )
    assert response.code == 413 and "quota" in text(response)
    assert await gallery["ctx"].db.uploads.count_documents({}) == 0


async def test_a_completed_upload_of_a_refused_type_fails_and_leaves_nothing(app, make_gallery):
    gallery, tus, root = await signed_in(app, make_gallery)
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"
    upload_id, _ = await tus.create(root["_id"], len(html), "cat.jpg")
    response = await tus.patch(upload_id, 0, html)
    assert response.code == 415 and "text/html" in text(response)
    state = json.loads((await tus.call("GET", upload_id)).body)
    assert state["state"] == "failed" and "text/html" in state["failure"]
    assert not any(gallery["ctx"].storage.tmp.iterdir()) and originals(gallery["ctx"]) == []


async def test_expired_uploads_are_swept_at_the_next_creation(app, make_gallery):
    gallery, tus, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    old_id, _ = await tus.create(root["_id"], 1000)
    await tus.patch(old_id, 0, b"o" * 100)
    await ctx.db.uploads.update_one(
        {"_id": old_id}, {"$set": {"expires": datetime.now(UTC) - timedelta(hours=1)}}
    )
    new_id, _ = await tus.create(root["_id"], 1000)
    assert await ctx.db.uploads.find_one({"_id": old_id}) is None
    assert [p.name for p in ctx.storage.tmp.iterdir()] == [f"tus-{new_id}"]
    assert (await tus.call("HEAD", old_id)).code == 404


async def send_then_drop(app, tus, upload_id, offset, total_remaining, part: bytes) -> None:
    """Start a PATCH promising `total_remaining` bytes, send only `part`, then drop the socket."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    head = (
        f"PATCH {tus.prefix}/api/v1/uploads/{upload_id} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{app.port}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {total_remaining}\r\nX-XSRFToken: {tus.browser.xsrf()}\r\n"
        f"Cookie: {tus.browser._cookie_header(tus.prefix + '/api/')}\r\n\r\n"
    )
    writer.write(head.encode())
    writer.write(part)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_resume_after_the_connection_drops_mid_patch(app, make_gallery):
    gallery, tus, root = await signed_in(app, make_gallery)
    data = payload(6 * MB)
    upload_id, _ = await tus.create(root["_id"], len(data), "resumed.txt")
    sent = int(len(data) * 0.6)
    await send_then_drop(app, tus, upload_id, 0, len(data), data[:sent])

    async def persisted():
        return await tus.offset(upload_id) == sent

    await wait_until(persisted)
    assert originals(gallery["ctx"]) == []
    done = await tus.patch(upload_id, sent, data[sent:])
    assert done.code == 204, text(done)
    media = await gallery["ctx"].db.media.find_one({"_id": done.headers["Upload-Media-Id"]})
    assert media["original"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert (gallery["ctx"].storage.path / media["original"]["path"]).read_bytes() == data


async def test_a_restarted_service_finishes_an_interrupted_upload(app, make_gallery):
    from server.app import make_app
    from server.services import build_services
    from tests.conftest import RunningApp, _free_port

    gallery, tus, root = await signed_in(app, make_gallery)
    data = payload(3 * MB)
    upload_id, _ = await tus.create(root["_id"], len(data), "restart.txt")
    await send_then_drop(app, tus, upload_id, 0, len(data), data[: 2 * MB])

    async def persisted():
        return await tus.offset(upload_id) == 2 * MB

    await wait_until(persisted)
    # Bytes past the stored offset (a request the old process never finished) are cut off.
    partial = gallery["ctx"].storage.tmp / f"tus-{upload_id}"
    partial.write_bytes(partial.read_bytes() + b"garbage that was never acknowledged")
    # A new process: its own services and app on the same data directory and databases.
    services = await build_services(app.services.config)
    server = HTTPServer(make_app(services))
    port = _free_port()
    server.listen(port, address="127.0.0.1")
    try:
        second = RunningApp(services, port).browser()
        second.cookies = dict(tus.browser.cookies)
        resumed = Tus(second, gallery["prefix"])
        assert await resumed.offset(upload_id) == 2 * MB
        assert originals(gallery["ctx"]) == []
        done = await resumed.patch(upload_id, 2 * MB, data[2 * MB :])
        assert done.code == 204, text(done)
        ctx = await services.registry.context_for_slug(gallery["slug"])
        media = await ctx.db.media.find_one({"_id": done.headers["Upload-Media-Id"]})
        assert media["original"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert not any(ctx.storage.tmp.iterdir())
    finally:
        server.stop()
        await server.close_all_connections()
        await services.client.close()
    assert os.path.exists(gallery["ctx"].storage.path / media["original"]["path"])
