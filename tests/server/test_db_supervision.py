"""The embedded database child dies; the service does not (issue 11, item 23).

A real service on its own embedded database: its database child is killed with
SIGKILL and its port held by someone else for a while (so the restart has to retry):
meanwhile pages and the API answer 503 with Retry-After, `/_health` says what is going
on, and once the port is free the supervisor's restart brings everything back on the
same files. And SIGTERM ends the service in bounded time with the database dead or hung.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

import psutil
import pytest

from tests.server.own_db_service import OwnDbService, kill_all, survivors, wait_gone

#: What a shutdown may take whatever the database does (server/services.py bounds each step).
SHUTDOWN_BOUND_SECONDS = 30


async def _hold_port(port: int, timeout: float = 10) -> asyncio.Server:
    """Listen on the dead child's port and hang up on everyone, as another program that
    took the port would: the restarted child cannot bind it, and clients fail at once."""

    class HangUp(asyncio.Protocol):
        # Closed in connection_made itself: no task that a closing server could leave
        # unrun, and so no transport left open for the collector to warn about.
        def connection_made(self, transport):
            transport.close()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await loop.create_server(HangUp, "127.0.0.1", port, reuse_address=True)
        except OSError:
            assert loop.time() < deadline, "the database port never came free"
            await asyncio.sleep(0.01)


async def _kill_database(service: OwnDbService) -> tuple[psutil.Process, asyncio.Server]:
    db = psutil.Process(service.db_pid())
    port = service.db_port()
    db.send_signal(signal.SIGKILL)
    return db, await _hold_port(port)


# A connection the killed child or the port holder had open is sometimes collected after
# the test instead of closed by it (seen once in a full run, not reproduced alone): that
# ResourceWarning says nothing about what this test checks, so it is not made an error here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_killed_database_is_restarted_and_requests_answer_503_meanwhile(tmp_path):
    service = OwnDbService(tmp_path / "data")
    await service.prepare("alpha")
    await service.start()
    browser = service.browser()
    held = None
    try:
        assert (await browser.get("/g/alpha/search?q=harbour")).code == 200
        db, held = await _kill_database(service)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while True:  # the supervisor has seen the exit (a ping failing says less)
            health = await service.wait_health(503, timeout=10)
            body = json.loads(health.body)
            if "restarting" in body["checks"]["database"] or loop.time() > deadline:
                break
        assert body["status"] == "error"
        assert body["checks"]["database"].startswith("error: embedded database restarting")
        assert "SIGKILL" in body["checks"]["database"]
        assert health.headers["Retry-After"].isdigit()

        # Reads that need the database: a page, the API, a tenant not yet known.
        page = await browser.get("/g/alpha/search?q=lighthouse")
        assert page.code == 503, page.body[:300]
        assert int(page.headers["Retry-After"]) > 0
        assert b"not reachable" in page.body
        api = await browser.get("/g/alpha/api/v1/search?q=lighthouse")
        assert api.code == 503
        assert int(api.headers["Retry-After"]) > 0
        assert json.loads(api.body)["error"]["code"] == "unavailable"
        unknown = await browser.get("/g/nobody-yet/")
        assert unknown.code == 503 and "Retry-After" in unknown.headers
        # One warning line per refused request: no error report, no traceback from a request.
        assert not any("ERROR atrium.web" in line for line in service.lines), service.log()
        assert sum("database unreachable" in line for line in service.lines) >= 3

        held.close()
        held = None
        await service.wait_health(200, timeout=60)
        assert (await browser.get("/g/alpha/search?q=lighthouse")).code == 200
        assert (await browser.get("/g/alpha/api/v1/albums")).code == 200  # the data is still there
        assert service.db_pid() != db.pid and not survivors([db])
        log = "\n".join(service.lines)
        assert "was killed by SIGKILL; restarting it" in log
        assert "restart failed" in log  # the port was taken: it tried again, later
        assert "embedded database restarted" in log
    finally:
        if held is not None:
            held.close()
        await service.stop()


async def test_sigterm_with_the_database_dead_ends_in_bounded_time(tmp_path):
    service = OwnDbService(tmp_path / "data", **{"jobs.workers": 2})
    await service.prepare("alpha")
    await service.start()
    children = service.descendants()
    _, held = await _kill_database(service)
    try:
        await service.wait_health(503, timeout=10)
        took = await service.stop(timeout=SHUTDOWN_BOUND_SECONDS)
        print(f"shutdown took {took:.1f}s")
        assert took < SHUTDOWN_BOUND_SECONDS, f"{took:.1f}s\n" + service.log()
        assert service.proc.returncode == 0 or service.proc.returncode is None
        assert not await wait_gone(children, 5)
        assert any("shutting down" in line for line in service.lines)
    finally:
        held.close()
        kill_all(children)


async def test_sigterm_with_the_database_hung_ends_in_bounded_time(tmp_path):
    """A database that accepts connections and never answers (stopped with SIGSTOP) is
    the worse case: every call on it waits. Shutdown still ends, and takes the child."""
    service = OwnDbService(tmp_path / "data", **{"jobs.workers": 2})
    await service.prepare("alpha")
    await service.start()
    children = service.descendants()
    db = psutil.Process(service.db_pid())
    db.suspend()
    try:
        # Requests in flight on the hung database while the service is told to stop.
        browser = service.browser()
        pending = [asyncio.ensure_future(browser.get(f"/g/alpha/search?q=x{i}")) for i in range(3)]
        await asyncio.sleep(0.5)
        took = await service.stop(timeout=SHUTDOWN_BOUND_SECONDS)
        print(f"shutdown took {took:.1f}s")
        assert took < SHUTDOWN_BOUND_SECONDS, f"{took:.1f}s\n" + service.log()
        assert not await wait_gone(children, 5), "a child outlived the stopped service"
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        if survivors([db]):
            os.kill(db.pid, signal.SIGCONT)
        kill_all(children)
