"""The one way media code runs external tools (ffmpeg, ffprobe, pdftoppm).

Argument lists only (never a shell), a time limit on every run, stderr drained
concurrently into a short tail (so a chatty tool never blocks on a full pipe and a
hostile file cannot make us buffer megabytes of warnings), the process killed on
timeout, cancellation or error, and typed errors from `media.errors`.

Output files are written next to their destination and renamed into place only
when the tool succeeded (`partial_output`), so nothing half-written is ever visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from media.errors import Cancelled, ToolFailed, ToolTimedOut

#: Seconds between SIGTERM and SIGKILL. ffmpeg stops within milliseconds on SIGTERM
#: unless it is blocked in a system call (a FIFO that never opens), hence the KILL.
KILL_GRACE_SECONDS = 1.0
#: How many of the tool's last stderr lines go into an error's reason.
STDERR_TAIL_LINES = 10
#: ffprobe's JSON for a sane file is a few kilobytes; a hostile one must not fill memory.
DEFAULT_MAX_STDOUT = 16 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Preview:
    """A JPEG standing in for a non-image media object: a video frame, cover art, a PDF page."""

    path: Path
    width: int
    height: int
    #: "frame", "cover_art" or "pdf_page"
    source: str
    #: where in the media the frame was taken (video frames only)
    at_seconds: float | None = None


@contextlib.contextmanager
def partial_output(dest: str | os.PathLike[str], suffix: str) -> Iterator[Path]:
    """Yield a temporary path next to `dest`; rename it onto `dest` only if the block succeeds.

    `suffix` keeps the temporary name's extension meaningful to the tool (ffmpeg picks
    a muxer from it), e.g. ``".part.mp4"``. On any exception, including task
    cancellation, the temporary file is removed and `dest` is left untouched. The name
    is fixed, not random, so a retried job overwrites what a killed worker left behind.
    """
    dest = Path(dest)
    tmp = dest.with_name(dest.name + suffix)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


#: util-linux's setpriv sets the parent-death signal and execs the tool: a service
#: killed with SIGKILL takes its ffmpeg along instead of leaving it transcoding for
#: nobody. (prctl in preexec_fn would do the same, but preexec_fn is unsafe in a process
#: with threads.) The signal follows the thread that spawned the tool: the event loop's.
SETPRIV = shutil.which("setpriv")


def _command(args: list[str], nice: int | None) -> list[str]:
    # `nice -n N tool` rather than os.setpriority in preexec_fn: preexec_fn is unsafe
    # when the process has threads (the job runner does), and nice execs the tool, so
    # the pid we hold is the tool's own and killing it needs no process group.
    if not args:
        raise ValueError("empty argument list")
    command = ["nice", "-n", str(nice), *args] if nice is not None else list(args)
    if SETPRIV:
        command = [SETPRIV, "--pdeathsig", "KILL", *command]
    return command


def nice_command(args: list[str], nice: int | None) -> list[str]:
    """`args` run at niceness `nice` and ended with this process (for other children than
    the tools below: gallery/archive/background.py)."""
    return _command(args, nice)


def _tool_name(args: list[str]) -> str:
    return os.path.basename(args[0])


async def _spawn(args: list[str], nice: int | None) -> asyncio.subprocess.Process:
    if SETPRIV and shutil.which(args[0]) is None:
        # Behind setpriv a missing tool would be setpriv's exit status 127: say it plainly.
        raise ToolFailed(f"{_tool_name(args)} could not be started: No such file or directory")
    try:
        return await asyncio.create_subprocess_exec(
            *_command(args, nice),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise ToolFailed(f"{_tool_name(args)} could not be started: {exc.strerror}") from exc


async def _read_lines(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
    # Reads chunks rather than readline(): a line longer than the stream limit would
    # otherwise raise and stop the draining.
    pending = b""
    while chunk := await stream.read(_CHUNK):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            on_line(line.decode("utf-8", "replace").rstrip("\r"))
        if len(pending) > _CHUNK:  # a "line" with no end: keep only its tail
            pending = pending[-_CHUNK:]
    if pending:
        on_line(pending.decode("utf-8", "replace").rstrip("\r"))


async def _read_all(stream: asyncio.StreamReader, out: bytearray, limit: int, name: str) -> None:
    while chunk := await stream.read(_CHUNK):
        out += chunk
        if len(out) > limit:
            raise ToolFailed(f"{name} wrote more than {limit} bytes of output")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after a short grace; always reaps the process."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), KILL_GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def _finish(tasks: list[asyncio.Future]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _tail_text(args: list[str], tail: deque[str]) -> str:
    detail = "\n".join(line for line in tail if line.strip())
    # Reasons are shown to people: name files, but do not reveal where storage lives.
    for arg in sorted({a for a in args[1:] if os.path.isabs(a)}, key=len, reverse=True):
        detail = detail.replace(arg, os.path.basename(arg))
    return detail


def _failure(args: list[str], returncode: int, tail: deque[str]) -> ToolFailed:
    status = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    detail = _tail_text(args, tail) or "(no error output)"
    return ToolFailed(f"{_tool_name(args)} failed ({status}): {detail}")


async def _supervise(
    proc: asyncio.subprocess.Process,
    work: list[asyncio.Future],
    *,
    name: str,
    timeout: float,
    cancel: asyncio.Event | None,
) -> None:
    """Wait for `work` (the pipe readers and proc.wait()); stop the process on any way out."""
    all_work = asyncio.ensure_future(asyncio.gather(*work))
    waiters: set[asyncio.Future] = {all_work}
    cancel_wait = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    if cancel_wait is not None:
        waiters.add(cancel_wait)
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if all_work in done:
            all_work.result()  # re-raises a reader's error (output too large, callback error)
            return
        if cancel_wait is not None and cancel_wait in done:
            raise Cancelled(f"{name} was cancelled")
        raise ToolTimedOut(f"{name} took longer than {timeout:g} s and was stopped")
    finally:
        await _stop(proc)
        # The tool is gone, so its pipes reach end-of-file: let the readers get there
        # (asyncio closes the transports then); a grandchild still holding a pipe
        # cannot hold us up for long.
        await asyncio.wait([all_work], timeout=KILL_GRACE_SECONDS)
        await _finish([all_work, *work] + ([cancel_wait] if cancel_wait else []))


async def run_tool(
    args: list[str],
    *,
    timeout: float,
    nice: int | None = None,
    max_stdout: int = DEFAULT_MAX_STDOUT,
) -> bytes:
    """Run `args`, return its stdout; raise ToolFailed (non-zero exit) or ToolTimedOut."""
    name = _tool_name(args)
    proc = await _spawn(args, nice)
    out = bytearray()
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    assert proc.stdout is not None and proc.stderr is not None
    work = [
        asyncio.ensure_future(_read_all(proc.stdout, out, max_stdout, name)),
        asyncio.ensure_future(_read_lines(proc.stderr, tail.append)),
        asyncio.ensure_future(proc.wait()),
    ]
    await _supervise(proc, work, name=name, timeout=timeout, cancel=None)
    if proc.returncode != 0:
        raise _failure(args, proc.returncode, tail)
    return bytes(out)


async def run_tool_with_progress(
    args: list[str],
    *,
    timeout: float,
    on_stdout_line: Callable[[str], None],
    nice: int | None = None,
    cancel: asyncio.Event | None = None,
) -> None:
    """Run `args`, handing each stdout line to `on_stdout_line` as it arrives.

    For ffmpeg's ``-progress pipe:1``. Raises ToolFailed, ToolTimedOut, or Cancelled
    when `cancel` is set before the tool finishes; in every case the process is gone
    when this returns or raises. An exception from `on_stdout_line` stops the tool too.
    """
    name = _tool_name(args)
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{name} was cancelled before it started")
    proc = await _spawn(args, nice)
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    assert proc.stdout is not None and proc.stderr is not None
    work = [
        asyncio.ensure_future(_read_lines(proc.stdout, on_stdout_line)),
        asyncio.ensure_future(_read_lines(proc.stderr, tail.append)),
        asyncio.ensure_future(proc.wait()),
    ]
    try:
        await _supervise(proc, work, name=name, timeout=timeout, cancel=cancel)
    except ToolTimedOut as exc:
        # What the tool said before it hung is often why (a stalled input, a bad stream).
        said = _tail_text(args, tail)
        if not said:
            raise
        raise ToolTimedOut(f"{exc.reason}; its last output: {said}") from None
    if proc.returncode != 0:
        raise _failure(args, proc.returncode, tail)
