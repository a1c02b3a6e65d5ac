"""Waiting on a condition instead of sleeping a guessed time (shared by tests)."""

from __future__ import annotations

import asyncio


async def until(condition, timeout: float):
    """Await `condition()` until it returns something true (returned), or fail at `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := await condition()):
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
    return result
