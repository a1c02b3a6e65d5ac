"""What interrupted work leaves in a tenant's tmp/ is removed: at the next start what a
killed service was writing goes at once, files nobody owns go once they are old, live
uploads keep theirs, and leftovers count in the tenant's usage until they go."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time

from gallery.intake import tmpsweep
from gallery.usage import current_usage
from storage import instance
from tests.client import text
from tests.waiting import until as _until
from tests.handlers.test_tus import MB, Tus, payload
from tests.service_process import ServiceProcess


async def _start_upload(service, browser, path: str, length: int, part: bytes):
    """A plain upload that promises `length` bytes and sends only `part`, left open."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    head = "\r\n".join([
        f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{service.port}",
        f"Content-Length: {length}", f"X-XSRFToken: {browser.xsrf()}",
        f"Cookie: {browser._cookie_header(path.split('?')[0])}", "X-File-Name: cut.txt",
    ])
    writer.write((head + "\r\n\r\n").encode() + part)
    await writer.drain()
    return writer


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_a_killed_services_temp_files_go_at_the_next_start(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    tmp = ctx.storage.tmp
    root = await ctx.db.albums.find_one({"parent_id": None})
    service = ServiceProcess(app.services.config)
    await service.start()
    browser = service.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    tus = Tus(browser, gallery["prefix"])
    # A resumable upload that is still live (its client will come back).
    upload_id, _ = await tus.create(root["_id"], 2 * MB, "later.txt")
    assert (await tus.patch(upload_id, 0, payload(MB))).code == 204
    # A plain upload under way when the service is killed.
    connection = await _start_upload(
        service, browser, f"{gallery['prefix']}/api/v1/albums/{root['_id']}/upload",
        8 * MB, payload(3 * MB),
    )

    async def receiving():
        return [p for p in tmp.iterdir() if p.name.endswith(".upload") and p.stat().st_size]

    [cut] = await _until(receiving, timeout=20)
    await service.kill()
    connection.close()
    # Files of unknown writers: one long untouched, one recent; an orphaned tus file.
    old = tmp / "left-by-an-old-version.zipentry"
    old.write_bytes(b"x" * 5000)
    _age(old, tmpsweep.MAX_AGE.total_seconds() + 60)
    recent = tmp / "another-host.part"
    recent.write_bytes(b"y" * 7000)
    orphan = tmp / "tus-0123456789abcdef01234567"
    orphan.write_bytes(b"z" * 3000)
    _age(orphan, tmpsweep.TUS_GRACE.total_seconds() + 60)
    usage = await current_usage(ctx)

    await service.start()
    try:
        async def swept():
            return not cut.exists() and not old.exists() and not orphan.exists()

        await _until(swept, timeout=30)
        assert recent.exists()
        assert (tmp / f"tus-{upload_id}").stat().st_size == MB
        # Until it goes, the leftover counts against the quota; the live upload does not.
        assert await current_usage(ctx) == usage + 7000
        # The live upload carries on and completes on the restarted service.
        browser = service.browser()
        await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
        tus = Tus(browser, gallery["prefix"])
        data = payload(2 * MB)
        done = await tus.patch(upload_id, MB, data[MB:])
        assert done.code == 204, text(done)
        assert done.headers["Upload-Media-Id"]
    finally:
        await service.stop()


async def test_the_sweep_keeps_what_live_work_owns(app, make_gallery):
    """In one process: its own files in progress stay, and stay uncounted."""
    gallery = await make_gallery("beta")
    ctx = gallery["ctx"]
    mine = ctx.storage.temp_path(".upload")
    mine.write_bytes(b"a" * 4000)
    result = await tmpsweep.sweep_tenant(ctx, app.services)
    assert mine.exists() and result["removed"] == 0 and result["unowned_bytes"] == 0
    # The same file untouched for longer than the bound is stale even though we run.
    _age(mine, tmpsweep.MAX_AGE.total_seconds() + 60)
    result = await tmpsweep.sweep_tenant(ctx, app.services)
    assert not mine.exists() and result["removed"] == 1


async def test_a_completion_left_by_a_killed_process_is_settled_by_the_sweep(app, make_gallery):
    """Its client never comes back: the sweep finishes the upload instead of keeping the
    record `completing` and its bytes in tmp/ for ever."""
    gallery = await make_gallery("gamma")
    ctx = gallery["ctx"]
    root = await ctx.db.albums.find_one({"parent_id": None})
    browser = app.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    tus = Tus(browser, gallery["prefix"])
    data = payload(300_000)
    upload_id, _ = await tus.create(root["_id"], len(data), "left.txt")
    assert (await tus.patch(upload_id, 0, data[:-1])).code == 204
    # As a process killed right after the last byte and the start of completion left it.
    partial = ctx.storage.tmp / f"tus-{upload_id}"
    partial.write_bytes(partial.read_bytes() + data[-1:])
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    media_id = "0123456789abcdef01234567"
    await ctx.db.uploads.update_one({"_id": upload_id}, {"$set": {
        "state": "completing", "offset": len(data), "media_id": media_id, "attempt": 1,
        "completing_by": f"{instance.host()}~{dead.pid}~1~deadbeef",
    }})
    await tmpsweep.sweep_tenant(ctx, app.services)
    record = await ctx.db.uploads.find_one({"_id": upload_id})
    assert record["state"] == "done" and record["media_id"] == media_id
    media = await ctx.db.media.find_one({"_id": media_id})
    assert media["original"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert not (ctx.storage.tmp / f"tus-{upload_id}").exists()
    head = await tus.call("HEAD", upload_id)
    assert head.headers["Upload-Media-Id"] == media_id
