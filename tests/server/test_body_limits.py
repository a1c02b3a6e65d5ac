"""Bodies sent to handlers that buffer them are refused with 413 before they are read
(server/body_limits.py); the streaming upload routes keep their large limit.

The memory test runs the real service as a subprocess (`python -m server run`) and reads
its peak resident size (`VmHWM`) from /proc: 200 MB posted to each route class that
buffers must leave it within 50 MB of where it was.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client import text
from tests.handlers.test_tus import Tus, payload
from tests.handlers.test_uploads import signed_in, upload

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


async def _post_big(
    port: int,
    path: str,
    size: int,
    host: str = "127.0.0.1",
    chunked: bool = False,
    content_type: str = "application/x-www-form-urlencoded",
    stop_on_answer: bool = True,
) -> bytes:
    """Post `size` bytes the way a hostile client would (no XSRF token, no cookie) and return
    everything the server answered before it closed the connection. Like curl, the client
    stops sending once an answer has come, unless `stop_on_answer` is false."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        f"Content-Type: {content_type}\r\n{framing}\r\n\r\n".encode()
    )
    answer = bytearray()

    async def read_all():
        while chunk := await reader.read(65536):
            answer.extend(chunk)

    reading = asyncio.create_task(read_all())
    block = b"a=" + b"x" * (MB - 2)
    sent = 0
    try:
        while sent < size and not (stop_on_answer and answer):
            piece = block[: min(MB, size - sent)]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
            sent += len(piece)
        if chunked and sent == size:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass  # the server closed the connection after answering: what it said is read below
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    # The answer says how long it is: a client that stopped sending need not wait for the
    # server to give up on the rest of the body.
    while not reading.done() and not (stop_on_answer and _complete(answer)):
        assert loop.time() < deadline, f"no complete answer: {bytes(answer[:300])!r}"
        await asyncio.wait([reading], timeout=0.05)
    reading.cancel()
    writer.close()
    return bytes(answer)


def _complete(answer: bytearray) -> bool:
    head, found, body = bytes(answer).partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if found and line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


@pytest.fixture
def service(services, tmp_path):
    """The real service process on the test's data directory and database."""
    config = services.config
    port = _free_port()
    env = dict(
        os.environ,
        ATRIUM_PATHS_DATA_DIR=str(config.paths.data_dir),
        ATRIUM_DATABASE_URI=config.database.uri,
        ATRIUM_DATABASE_PREFIX=config.database.prefix,
        ATRIUM_SECURITY_HOST_SECRET=config.security.host_secret,
        ATRIUM_SERVER_BASE_DOMAIN=config.server.base_domain,
        ATRIUM_SERVER_PORT=str(port),
        ATRIUM_JOBS_WORKERS="0",
        ATRIUM_LOGGING_ACCESS_LOG="false",
    )
    with open(tmp_path / "service.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        yield process, port
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _wait_listening(process, port: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        assert process.poll() is None, "the service exited at start-up"
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            assert loop.time() < deadline, "the service never listened"
            await asyncio.sleep(0.1)


async def test_200_mb_to_each_buffering_route_class_is_refused_without_growing_the_process(
    service, services
):
    from tenants.provision import create_tenant

    await create_tenant(services.registry, "alpha", "Alpha", ["photos.example"], "a@alpha.test")
    process, port = service
    await _wait_listening(process, port)
    # Warm up every route once with a small body, so the baseline includes what a first
    # request of each kind loads (templates, tenant context).
    targets = [
        ("/g/alpha/login", "127.0.0.1", "application/x-www-form-urlencoded"),  # tenant form
        ("/g/alpha/api/v1/albums", "127.0.0.1", "application/json"),  # tenant JSON API
        ("/_host/login", "127.0.0.1", "application/x-www-form-urlencoded"),  # host console
        ("/login", "alpha.atrium.test", "application/x-www-form-urlencoded"),  # host mode
        ("/login", "photos.example", "application/x-www-form-urlencoded"),  # custom hostname
        ("/no/such/page", "127.0.0.1", "application/x-www-form-urlencoded"),  # 404 route
    ]
    for path, host, kind in targets:
        small = await _post_big(port, path, 10, host=host, content_type=kind)
        assert small.startswith(b"HTTP/1.1 "), small[:200]
        assert not small.startswith(b"HTTP/1.1 413"), small[:200]
    before = _peak_rss_kb(process.pid)

    # Every route class with a declared length and chunked; the first one also sends the
    # whole body after the answer (the refused body is discarded as it arrives).
    cases = [(*target, chunked, True) for target in targets for chunked in (False, True)]
    cases[0] = (*targets[0], False, False)
    for path, host, kind, chunked, stop in cases:
        answer = await _post_big(
            port, path, 200 * MB, host=host, chunked=chunked, content_type=kind, stop_on_answer=stop
        )
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), (path, host, chunked, answer[:300])
        assert b"larger than 1024 KB" in body
        if "/api/" in path:
            assert json.loads(body)["error"]["code"] == "too_large"
    grown_mb = (_peak_rss_kb(process.pid) - before) / 1024
    assert grown_mb < 50, f"peak RSS grew by {grown_mb:.0f} MB"
    assert process.poll() is None


async def test_a_client_that_expects_100_continue_gets_413_and_sends_nothing(app, make_gallery):
    """curl sends `Expect: 100-continue` for large bodies and waits: the 413 comes instead
    of the 100, and nothing else follows it on the connection."""
    await make_gallery("alpha")
    reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
    writer.write(
        b"POST /g/alpha/login HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
        % (200 * MB)
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)  # to EOF: the server closes
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"100 Continue" not in answer and b"(Continue)" not in answer
    assert _complete(bytearray(answer))
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    assert len(body) == length


@pytest.fixture
def config(make_config):
    # A small form limit, so files just over it show the upload routes do not use it.
    return make_config(limits__max_form_kb=64)


async def test_streaming_uploads_keep_their_large_limit_while_json_is_refused(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    data = payload(300_000)  # well over the 64 KB form limit

    plain = await upload(browser, gallery, root["_id"], data, "plain.txt")
    assert plain.code == 201, text(plain)
    media_id = json.loads(plain.body)["_id"]

    tus = Tus(browser, gallery["prefix"])
    other = payload(300_001)  # another file: the same content again would be a skipped duplicate
    upload_id, _ = await tus.create(root["_id"], len(other), "tus.txt")
    patched = await tus.patch(upload_id, 0, other)
    assert patched.code == 204, text(patched)

    replaced = await browser.api(
        "POST",
        f"{gallery['prefix']}/api/v1/media/{media_id}/file",
        body=payload(200_000),
        headers={"X-File-Name": "again.txt"},
    )
    assert replaced.code == 202, text(replaced)

    big_json = await browser.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums",
        json_body={"title": "x" * 100_000, "parent_id": root["_id"]},
    )
    assert big_json.code == 413, text(big_json)
    assert json.loads(big_json.body)["error"] == {
        "code": "too_large",
        "message": "The request body is larger than 64 KB.",
    }
    small_json = await browser.api(
        "POST",
        f"{gallery['prefix']}/api/v1/albums",
        json_body={"title": "Small", "parent_id": root["_id"]},
    )
    assert small_json.code == 201, text(small_json)
