"""A service's child processes end with it; a starting service stops an earlier one's leftovers.

Each child asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG): ffmpeg
and the other tools through `setpriv` (media/tools.py), the process pool's fork server
and its workers in media/pool.py, the embedded database in server/embedded_db.py. That
covers a `kill -9` of the service; it cannot cover a child that was being started at
the moment the service died, a system without setpriv, or a child of a child.

So a running service also marks every process it starts: `MARKER` in the environment,
which children and their children inherit, holds the service's pid, its start time and
its data directory. A service starting on the same data directory looks for processes
whose mark names a service that no longer runs (same pid and start time), and stops
them before it starts anything of its own. Processes of a live service (a second
process on a shared data directory) are left alone.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import psutil

log = logging.getLogger("atrium")

#: The environment variable that marks a service's descendants (not a config key).
MARKER = "ATRIUM_SERVICE_OWNER"
#: Seconds between SIGTERM and SIGKILL for leftovers.
STOP_GRACE_SECONDS = 3.0


def _mark_value(proc: psutil.Process, data_dir: Path) -> str:
    return f"{proc.pid}:{proc.create_time():.2f}:{Path(data_dir).resolve()}"


def mark_children(data_dir: Path) -> str | None:
    """Mark every process this process starts from now on; return the previous mark."""
    previous = os.environ.get(MARKER)
    os.environ[MARKER] = _mark_value(psutil.Process(), data_dir)
    return previous


def unmark_children(previous: str | None) -> None:
    if previous is None:
        os.environ.pop(MARKER, None)
    else:
        os.environ[MARKER] = previous


def _owner_alive(pid: int, started: float) -> bool:
    try:
        return abs(psutil.Process(pid).create_time() - started) < 0.05
    except psutil.Error:
        return False


def find_leftovers(data_dir: Path) -> list[psutil.Process]:
    """Processes marked by a service on `data_dir` that is no longer running."""
    wanted = str(Path(data_dir).resolve())
    me = os.getpid()
    found = []
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            mark = proc.environ().get(MARKER)
        except psutil.Error:  # another user's process, or gone
            continue
        if not mark:
            continue
        pid, started, directory = mark.split(":", 2)
        try:
            owner, owner_started = int(pid), float(started)
        except ValueError:
            continue
        if directory != wanted or owner == me or _owner_alive(owner, owner_started):
            continue
        found.append(proc)
    return found


def stop_leftovers(data_dir: Path, grace: float = STOP_GRACE_SECONDS) -> list[int]:
    """Stop (SIGTERM, then SIGKILL after `grace`) what earlier services on `data_dir` left
    running; return their pids. Blocking: run it before the event loop is busy."""
    stopped: list[int] = []
    names: list[str] = []
    # A leftover may have started a child of its own just before it was stopped: look again.
    for _ in range(3):
        leftovers = find_leftovers(data_dir)
        if not leftovers:
            break
        for proc in leftovers:
            try:
                names.append(f"{proc.pid} {proc.name()}")
                proc.terminate()
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(leftovers, timeout=grace)
        for proc in alive:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=grace)
        stopped += [p.pid for p in leftovers]
    if stopped:
        log.warning("stopped %d processes left by an earlier service on %s: %s",
                    len(stopped), data_dir, ", ".join(names))
    return stopped
