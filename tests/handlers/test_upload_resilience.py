"""Uploads cut off mid-way (the client goes away, or the connection is reset): nothing is
half-stored, temp files are removed, nothing already stored is lost, the service keeps
serving, and a tus upload carries on from the offset it had reached."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import struct
from urllib.parse import quote

import pytest

from gallery.intake.uploads import lock_for
from gallery.usage import current_usage
from tests.client import text
from tests.handlers.test_tus import MB, payload, signed_in, wait_until


async def _cut(
    app,
    browser,
    method: str,
    path: str,
    headers: dict,
    length: int,
    part: bytes,
    *,
    reset: bool,
    before_cut=None,
) -> None:
    """Send a request promising `length` body bytes, send only `part`, then go away:
    an orderly close, or a TCP reset (SO_LINGER 0), as a crashed client or a dropped link."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{app.port}",
        f"Content-Length: {length}",
        f"X-XSRFToken: {browser.xsrf()}",
        f"Cookie: {browser._cookie_header(path.split('?')[0])}",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    for i in range(0, len(part), 256 * 1024):
        writer.write(part[i : i + 256 * 1024])
        await writer.drain()
    if before_cut is not None:
        await wait_until(before_cut)
    if reset:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()
        await writer.wait_closed()


def _receiving(ctx, suffix: str):
    """True once the server has a temp file of this kind with some bytes in it."""

    async def check():
        return any(
            p.name.endswith(suffix) and p.stat().st_size > 0 for p in ctx.storage.tmp.iterdir()
        )

    return check


async def _plain_upload(b, gallery, root, body: bytes, name: str):
    """A whole upload into the root album that must succeed (201)."""
    response = await b.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload",
        body=body,
        headers={"X-File-Name": name},
    )
    assert response.code == 201, text(response)
    return response


def _files(root) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("reset", [False, True], ids=["client-closes", "connection-reset"])
async def test_a_plain_upload_cut_off_midway_leaves_nothing_behind(app, make_gallery, reset):
    gallery, tus, root = await signed_in(app, make_gallery)
    ctx, b = gallery["ctx"], tus.browser
    kept = payload(200_000)
    await _plain_upload(b, gallery, root, kept, "kept.txt")
    usage = await current_usage(ctx)
    stored_before = _files(ctx.storage.originals)
    data = payload(8 * MB)
    await _cut(
        app,
        b,
        "POST",
        f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload",
        {"X-File-Name": quote("cut.txt")},
        len(data),
        data[: 5 * MB],
        reset=reset,
        before_cut=_receiving(ctx, ".upload"),
    )

    async def tmp_is_clean():
        return not any(ctx.storage.tmp.iterdir())

    await wait_until(tmp_is_clean)
    assert _files(ctx.storage.originals) == stored_before
    assert await ctx.db.media.count_documents({}) == 1
    assert await current_usage(ctx) == usage
    # The service still serves, and the same upload, sent whole, works.
    await _plain_upload(b, gallery, root, data, "cut.txt")
    assert (
        hashlib.sha256(data).hexdigest()
        == (await ctx.db.media.find_one({"file_name": "cut.txt"}))["original"]["sha256"]
    )


@pytest.mark.parametrize("reset", [False, True], ids=["client-closes", "connection-reset"])
async def test_a_tus_patch_cut_off_midway_resumes_from_its_offset(app, make_gallery, reset):
    gallery, tus, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    data = payload(6 * MB)
    upload_id, _ = await tus.create(root["_id"], len(data), "resumable.txt")
    path = f"{gallery['prefix']}/api/v1/uploads/{upload_id}"
    headers = {
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
    }
    await _cut(
        app,
        tus.browser,
        "PATCH",
        path,
        headers,
        len(data),
        data[: 4 * MB],
        reset=reset,
        before_cut=_receiving(ctx, upload_id),
    )

    reached = {"offset": 0}

    async def settled():
        # The cut request has ended on the server (the upload is not held) and had stored
        # some of its bytes.
        if lock_for(upload_id).locked():
            return False
        head = await tus.call("HEAD", upload_id)
        return head.code == 200 and int(head.headers["Upload-Offset"]) > reached["offset"]

    await wait_until(settled)
    offset = reached["offset"] = await tus.offset(upload_id)
    # Whatever was acknowledged is on disk, exactly; nothing beyond it; no media yet.
    assert 0 < offset <= 4 * MB
    partial = ctx.storage.tmp / f"tus-{upload_id}"
    assert partial.stat().st_size == offset and partial.read_bytes() == data[:offset]
    assert await ctx.db.media.count_documents({}) == 0
    assert _files(ctx.storage.originals) == []
    # A second cut from there, then the rest: it ends as one intact file.
    second_part = min(len(data) - offset, MB)
    headers["Upload-Offset"] = str(offset)
    await _cut(
        app,
        tus.browser,
        "PATCH",
        path,
        headers,
        len(data) - offset,
        data[offset : offset + second_part],
        reset=not reset,
    )
    await wait_until(settled)
    offset = await tus.offset(upload_id)
    done = await tus.patch(upload_id, offset, data[offset:])
    assert done.code == 204, text(done)
    media = await ctx.db.media.find_one({"_id": done.headers["Upload-Media-Id"]})
    assert media["original"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert not any(ctx.storage.tmp.iterdir())


async def test_a_file_replacement_cut_off_midway_keeps_the_old_file(app, make_gallery):
    gallery, tus, root = await signed_in(app, make_gallery)
    ctx, b = gallery["ctx"], tus.browser
    old = payload(100_000)
    first = await _plain_upload(b, gallery, root, old, "notes.txt")
    media = json.loads(first.body)
    data = payload(4 * MB)
    await _cut(
        app,
        b,
        "POST",
        f"{gallery['prefix']}/api/v1/media/{media['_id']}/file",
        {"X-File-Name": "notes.txt"},
        len(data),
        data[: 2 * MB],
        reset=True,
        before_cut=_receiving(ctx, ".replace"),
    )

    async def tmp_is_clean():
        return not any(ctx.storage.tmp.iterdir())

    await wait_until(tmp_is_clean)
    doc = await ctx.db.media.find_one({"_id": media["_id"]})
    assert doc["original"]["sha256"] == hashlib.sha256(old).hexdigest()
    assert ctx.storage.resolve(doc["original"]["path"]).read_bytes() == old
