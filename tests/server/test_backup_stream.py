"""A backup downloaded as it is made (issue 14, handlers/admin_backup.py BackupStream) from
the real service process: no file written on the server, peak memory flat while 72 MB of
originals stream out (VmHWM from /proc, as tests/server/test_body_limits.py), the archive
whole and restorable, and a client that disconnects mid-stream stops the work: the service
logs it, no original stays open and nothing is left behind."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gallery.archive.restore import prepare
from gallery.ids import new_id
from tests.server.test_body_limits import _peak_rss_kb
from tests.server.test_restore_kill import _empty_gallery
from tests.waiting import until
from tests.service_process import ServiceProcess

MB = 1024 * 1024
FILES, SIZE = 24, 3 * MB  # 72 MB of originals: buffering it would pass the 40 MB bound


async def _big_gallery(services, slug: str) -> int:
    """An installed gallery whose root album holds FILES originals of SIZE random bytes."""
    ctx = await _empty_gallery(services, slug)
    root = await ctx.db.albums.find_one({"parent_id": None})
    owner = (await ctx.db.users.find_one({}))["_id"]
    folder = ctx.storage.originals
    folder.mkdir(parents=True, exist_ok=True)
    docs, block = [], os.urandom(SIZE)
    for i in range(FILES):
        data = block[i:] + block[:i]  # each file its own bytes, without 240 MB of urandom
        (folder / f"f{i}.jpg").write_bytes(data)
        docs.append({
            "_id": new_id(), "album_id": root["_id"], "album_path": [root["_id"]], "kind": "image",
            "state": "ready", "position": i, "private": False, "owner_id": owner, "uploaded_by": owner,
            "title": f"File {i}", "caption": "", "tags": [], "file_name": f"f{i}.jpg",
            "mime": "image/jpeg", "date_added": datetime.now(UTC),
            "original": {"path": f"originals/f{i}.jpg", "size": SIZE,
                         "sha256": hashlib.sha256(data).hexdigest()},
        })
    await ctx.db.media.insert_many(docs)
    return FILES * SIZE


async def _open_stream(service: ServiceProcess, slug: str):
    """Sign in and POST the stream form over a raw connection; returns (reader, writer)."""
    client = service.browser()
    await client.login(f"/g/{slug}", "owner", "Correct-Horse-Battery-9")
    await client.get(f"/g/{slug}/admin/backup")
    xsrf = client.xsrf(f"/g/{slug}/admin/backup")
    body = f"_xsrf={xsrf}&metadata_only=".encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    writer.write((f"POST /g/{slug}/admin/backup/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Cookie: {client._cookie_header(f'/g/{slug}/admin/backup/stream')}\r\n"
                  f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                  f"Connection: close\r\n\r\n").encode() + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"Transfer-Encoding: chunked" in head and b"application/zip" in head
    return reader, writer


async def _read_chunked(reader, out) -> int:
    total = 0
    while True:
        size = int((await reader.readline()).strip(), 16)
        if size == 0:
            await reader.readline()
            return total
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        out.write(data)
        total += size


def _open_originals(pid: int, tenants: Path) -> list[str]:
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(tenants)):
            found.append(target)
    return found


def _files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 0})


async def test_a_streamed_download_keeps_memory_flat_and_a_disconnect_stops_it(config, services, tmp_path):
    total = await _big_gallery(services, "big")
    data_dir = Path(config.paths.data_dir)
    before = _files_under(data_dir)
    service = ServiceProcess(config, **{"jobs.workers": 0})
    await service.start()
    try:
        pid = service.proc.pid
        # Warm up (imports, first requests), then take the baseline.
        await service.browser().get("/g/big/")
        baseline = _peak_rss_kb(pid)
        reader, writer = await _open_stream(service, "big")
        out = tmp_path / "streamed.zip"
        with open(out, "wb") as fh:
            received = await _read_chunked(reader, fh)
        writer.close()
        peak = _peak_rss_kb(pid)
        print(f"\nstreamed {received / MB:.0f} MB: peak RSS {baseline / 1024:.0f} MB before, "
              f"{peak / 1024:.0f} MB after")
        assert received > total
        assert peak - baseline < 40 * 1024, (baseline, peak)  # flat: not the archive's size
        prepared = await asyncio.to_thread(prepare, out)  # whole, and restorable
        assert len(prepared.snapshot.media) == FILES and prepared.total_bytes == total
        with zipfile.ZipFile(out) as zf:
            assert zf.read("originals/f7.jpg") == (data_dir / "tenants/big/originals/f7.jpg").read_bytes()

        # A client that goes away after ~8 MB: the work stops, nothing stays open or behind.
        reader, writer = await _open_stream(service, "big")
        got = 0
        while got < 8 * MB:
            got += len(await reader.read(MB))
        writer.transport.abort()
        await service.wait_for_line("backup download of big stopped after", timeout=30)
        line = next(x for x in service.lines if "backup download of big stopped after" in x)
        sent = int(re.search(r"after (\d+) bytes", line).group(1))
        assert sent < total / 2  # stopped near where the client left, not at the end
        async def closed():
            return not _open_originals(pid, data_dir / "tenants")
        await until(closed, 10)
        assert _files_under(data_dir) - before <= {p for p in _files_under(data_dir) if p.endswith(".log")}
    finally:
        await service.stop()
