"""Named points where a test may freeze the service, to kill it (SIGKILL) at that moment.

`ATRIUM_FAILPOINT=name` (or `name@N`: the N-th time it is reached) makes `await reached(name)`
log "failpoint NAME reached" and never return, so a test that starts the real service can
kill -9 it at the worst moment (between a record and its job, midway through a ZIP) and
prove the restart recovers. Unset (always, outside such tests), a point costs one lookup.
"""

from __future__ import annotations

import asyncio
import os
import sys

_hits: dict[str, int] = {}


def _armed() -> tuple[str, int] | None:
    raw = os.environ.get("ATRIUM_FAILPOINT", "")
    if not raw:
        return None
    name, _, nth = raw.partition("@")
    return name, int(nth) if nth.isdigit() else 1


async def reached(name: str) -> None:
    armed = _armed()
    if armed is None or armed[0] != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] != armed[1]:
        return
    # Straight to stderr as well as the log: the test waits for this line, whatever the
    # logging configuration.
    print(f"failpoint {name} reached", file=sys.stderr, flush=True)
    await asyncio.Event().wait()
