"""Who this process is on this host, and whether an earlier holder of some work is gone.

Job leases, tus completions and temp file names carry this process's identity
(`host~pid~start~nonce`), so that a starting process can tell at once that the work of a
process killed on this host (kill -9, a crash, a container restart) is abandoned,
instead of waiting for a lease to run out or a file to age. The process start time (from
/proc) is part of the identity because pids are reused: after a restart in a container
the new service is often pid 1 again, and an unrelated process may hold an old pid.
Holders on another host are never judged here; their leases and files age out. Hence
every machine or container needs its own hostname (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import socket
import uuid

_SEP = "~"
_current: tuple[int, str] | None = None


def _stat(pid: int) -> list[str]:
    """Fields 3… of /proc/<pid>/stat ([] where /proc has none)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return []
    # The command name (field 2) may contain spaces and ")", so split after its last ")".
    return stat.rsplit(")", 1)[-1].split()


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot (field 22; '' when unknown)."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


def host() -> str:
    return socket.gethostname().replace(_SEP, "-")


def current() -> str:
    """This process's identity (recomputed after a fork, so children never pose as it)."""
    global _current
    pid = os.getpid()
    if _current is None or _current[0] != pid:
        _current = (pid, _SEP.join([host(), str(pid), _start_ticks(pid), uuid.uuid4().hex[:8]]))
    return _current[1]


def parse(identity: str) -> tuple[str, int, str] | None:
    """(host, pid, start) of an identity, or None when it is not one."""
    parts = str(identity or "").split(_SEP)
    if len(parts) != 4 or not parts[1].isascii() or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


def on_this_host(identity: str) -> bool:
    parsed = parse(identity)
    return parsed is not None and parsed[0] == host()


def is_gone(identity: str) -> bool:
    """True when `identity` is a process of this host that no longer runs; False when it
    still runs, is this process, or lives on another host (nothing can be known here)."""
    parsed = parse(identity)
    if parsed is None or parsed[0] != host():
        return False
    if identity == current():
        return False
    _host, pid, start = parsed
    if pid == os.getpid():
        return True  # our pid, another identity: an earlier process that had our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, owned by someone else: judged by its start time below
    fields = _stat(pid)
    if fields and fields[0] == "Z":
        return True  # killed, not yet reaped by its parent
    return bool(start) and len(fields) > 19 and fields[19] != start
