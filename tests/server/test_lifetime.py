"""server/lifetime.py and services.bounded: the end of the service's loop is bounded even
when a task ignores its cancel and a thread never returns (what a hung database does to
pymongo's calls), where `asyncio.run` and `asyncio.wait_for` would wait forever."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from server.services import bounded

ROOT = Path(__file__).resolve().parents[2]

STUBBORN = textwrap.dedent("""
    import asyncio, logging, threading, time
    from server.lifetime import run_to_the_end

    logging.basicConfig(level=logging.INFO)

    async def stubborn():
        while True:  # swallows every cancel, as a retrying client may
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass

    async def main():
        asyncio.get_running_loop().create_task(stubborn(), name="stubborn")
        threading.Thread(target=time.sleep, args=(3600,), name="stuck-socket").start()
        asyncio.get_running_loop().run_in_executor(None, time.sleep, 3600)
        await asyncio.sleep(0.2)
        print("main done", flush=True)

    run_to_the_end(main())
""")


def test_a_stubborn_task_and_a_stuck_thread_do_not_hold_the_end():
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", STUBBORN], cwd=ROOT, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    assert "main done" in done.stdout, done.stderr
    assert took < 30, f"{took:.1f}s"  # asyncio.run here never ends (the timeout above would fire)
    assert "ignored their cancel (stubborn)" in done.stderr, done.stderr
    assert "still stuck (stuck-socket, asyncio_0)" in done.stderr, done.stderr  # to_thread's too
    assert done.returncode == 0, done.stderr


def test_a_main_that_fails_ends_with_an_error_code_even_when_threads_are_stuck():
    script = STUBBORN.replace('print("main done", flush=True)', 'print("main done", flush=True); raise SystemExit(3)')
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "main done" in done.stdout and done.returncode != 0, (done.returncode, done.stderr)


async def test_bounded_leaves_behind_a_step_that_ignores_its_cancel(caplog):
    cancels = 0
    released = asyncio.Event()

    async def step():
        nonlocal cancels
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                cancels += 1  # and on it goes, as a retrying client may

    started = time.monotonic()
    await bounded("wait on a hung database", step(), seconds=0.3)
    took = time.monotonic() - started
    released.set()  # let the step left behind end before the test's loop does
    await asyncio.sleep(0)
    assert cancels == 1
    assert took < 10, f"{took:.1f}s"  # asyncio.wait_for would never return here
    assert "could not wait on a hung database within 0.3s" in caplog.text


async def test_bounded_reports_a_failing_step_and_goes_on(caplog):
    async def step():
        raise OSError("socket gone")

    await bounded("close the client", step(), seconds=1)
    assert "could not close the client" in caplog.text and "socket gone" in caplog.text
