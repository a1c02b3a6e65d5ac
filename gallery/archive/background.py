"""The backup job's archive written by a child process at a lower CPU priority.

In the service, a thread writing the archive shared the interpreter lock with the event
loop: hashing, ZIP bookkeeping and backup.xml held it for most of a backup, and every
visitor's request waited for it at each of its awaits (the album pages' p99 rose by half
while a backup ran). The child (`python -m gallery.archive.background`) gets the snapshot
the job took (pickled through its stdin in parts: nothing on disk), runs `nice`d, dies with the
service (setpriv --pdeathsig, media/tools.py), writes the archive through its partial name
exactly as `export_to_file` does, and reports progress as JSON lines on its stdout. A
cancel (or the job's task cancelled) stops it with SIGTERM; it removes its partial file,
and so does the parent once it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import pickle
import signal
import sys
import threading
from collections import deque
from pathlib import Path

from gallery.archive.export import ExportReport, decode_media, partial_path, write_file
from gallery.archive.progress import Cancelled, Progress

#: The child's niceness: the service's requests come first when the CPUs are busy.
NICE = 10
#: Seconds the child rests per second of copying and hashing originals (see PACE's note in
#: docs/backup-format.md, round 7).
PACE = 1.0
#: Seconds between the child's progress lines.
PROGRESS_SECONDS = 0.25
CANCELLED_EXIT = 3
#: Media documents per pickle sent to the child (raw BSON from the job's snapshot: a
#: fraction of a millisecond of the event loop each; decoded, 3-15 ms).
FRAME = 250
_ROOT = Path(__file__).resolve().parents[2]  # where `gallery` is importable from


class BackupFailed(Exception):
    """The child stopped without writing the archive."""


def _apply(progress: Progress, counters: dict) -> None:
    for name in ("total_files", "total_bytes", "files", "bytes"):
        setattr(progress, name, int(counters.get(name) or 0))


async def write_in_child(snap, storage, path, *, metadata_only: bool = False,
                         progress: Progress | None = None) -> ExportReport:
    """Write the archive of `snap` to `path` in a child process; progress.cancel stops it
    (raising Cancelled). No archive is left but a complete one."""
    from media.tools import nice_command

    progress = progress or Progress()
    proc = await asyncio.create_subprocess_exec(
        *nice_command([sys.executable, "-m", "gallery.archive.background"], NICE), cwd=_ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        limit=16 * 1024 * 1024)
    tail: deque[str] = deque(maxlen=20)
    result: dict = {}

    async def feed():
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for frame in _frames(snap, storage, path, metadata_only):
                proc.stdin.write(frame)
                await proc.stdin.drain()  # the loop turns between frames
            proc.stdin.close()

    async def read_stdout():
        while line := await proc.stdout.readline():
            message = json.loads(line)
            if "report" in message:
                result.update(message)
            else:
                _apply(progress, message["progress"])

    async def read_stderr():
        while line := await proc.stderr.readline():
            tail.append(line.decode("utf-8", "replace").rstrip())

    work = asyncio.ensure_future(asyncio.gather(feed(), read_stdout(), read_stderr(), proc.wait()))
    try:
        while not work.done():
            # Checked before each wait too: a cancel that came first stops even a child that
            # would finish within one wait.
            if progress.cancel.is_set() and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)  # the child stops at its next chunk
            await asyncio.wait({work}, timeout=PROGRESS_SECONDS)
        work.result()
    finally:
        if proc.returncode is None:  # cancelled from outside (a stopping service)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        if proc.returncode != 0:
            await asyncio.to_thread(partial_path(path).unlink, missing_ok=True)
    if proc.returncode == CANCELLED_EXIT or (progress.cancel.is_set() and proc.returncode != 0):
        raise Cancelled()
    if proc.returncode != 0 or "report" not in result:
        last = next((line for line in reversed(tail) if line.strip()), "(no error output)")
        raise BackupFailed(f"the backup process failed (exit status {proc.returncode}): {last}")
    _apply(progress, result["progress"])
    return ExportReport(**result["report"])


def _frames(snap, storage, path, metadata_only: bool):
    """The snapshot as pickles for the child's stdin: the job and the snapshot without its
    media, then its media FRAME at a time, then None. Pickled in one piece, a 10,000-object
    snapshot held the event loop (and every visitor's request) for 150-175 ms."""
    media = snap.media
    yield pickle.dumps({"snapshot": dataclasses.replace(snap, media=[]), "storage": storage,
                        "path": str(path), "metadata_only": metadata_only}, protocol=pickle.HIGHEST_PROTOCOL)
    for i in range(0, len(media), FRAME):
        # Raw BSON as the background snapshot left it (take_snapshot): the child decodes it.
        yield pickle.dumps([getattr(m, "raw", m) for m in media[i:i + FRAME]], protocol=pickle.HIGHEST_PROTOCOL)
    yield pickle.dumps(None)


def _read_job(stream) -> dict:
    job = pickle.load(stream)
    while (media := pickle.load(stream)) is not None:
        job["snapshot"].media += [decode_media(m) if isinstance(m, bytes) else m for m in media]
    return job


def main() -> int:
    job = _read_job(sys.stdin.buffer)  # from the service that started us, through a pipe
    progress = Progress(pace=PACE)
    signal.signal(signal.SIGTERM, lambda *_: progress.cancel.set())
    done = threading.Event()
    out_lock = threading.Lock()

    def say(message: dict) -> None:
        with out_lock:
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

    def tell_progress():
        while not done.wait(PROGRESS_SECONDS):
            say({"progress": progress.as_dict()})

    teller = threading.Thread(target=tell_progress, daemon=True)
    teller.start()
    try:
        report = write_file(job["snapshot"], job["storage"], job["path"],
                            metadata_only=job["metadata_only"], progress=progress)
    except Cancelled:
        return CANCELLED_EXIT
    finally:
        done.set()
        teller.join()
    say({"report": report.as_dict(), "progress": progress.as_dict()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
