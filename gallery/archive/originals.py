"""The originals copied into a backup archive, each checked against its record (size, then
sha256 as it streams) and left out, never half-listed, when it vanished or changed.

Reading and hashing one chunk while the chunk before it is written (zipfile's CRC and the
write) puts both cores to work: hashlib, zlib and file I/O all release the interpreter lock.
One thread in the loop took 1.6-1.9x as long as `cp -r` of the same originals; the job's
paced child (background.PACE) keeps one thread, so that it never uses more than its share.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

from gallery.archive.progress import CHUNK, Cancelled, Progress
from storage.root import StorageError

CHANGED_SHA256 = "the file changed while the backup ran (sha256 differs from the record)"
#: Chunks read and hashed ahead of the writing (memory: this many CHUNKs).
AHEAD = 4
#: The paced copy's chunk: its work between rests (reading, hashing, writing: largely in
#: the kernel, where a visitor's request cannot take the core back) stays under a millisecond.
PACED_CHUNK = 256 * 1024


class SafePaths:
    """Stored relative paths resolved inside a storage root, each directory once: resolving
    every file (a realpath of each component) took half of a 10,000-file backup. The last
    component is opened with O_NOFOLLOW, so a symlink there cannot lead out either."""

    def __init__(self, storage):
        self.storage = storage
        self.dirs: dict[str, Path] = {}

    def path(self, rel: str) -> Path:
        parent, _, name = str(rel).rpartition("/")
        if name in ("", ".", ".."):
            raise StorageError(f"path {rel!r} names no file")
        folder = self.dirs.get(parent)
        if folder is None:
            folder = self.dirs[parent] = self.storage.resolve(parent)
        return folder / name

    def open_read(self, rel: str):
        fd = os.open(self.path(rel), os.O_RDONLY | os.O_NOFOLLOW)
        return os.fdopen(fd, "rb")


def zip_time(ts: float) -> tuple:
    t = time.gmtime(max(ts, 315532800))  # ZIP cannot say a time before 1980
    return t[:6]


def _reads(paths: SafePaths, records: list[dict], cancel: threading.Event, chunk_size: int) -> Iterator[tuple]:
    """Each record's file as events: ("skip", record, reason) for one that cannot be
    copied; else ("file", record, mtime), its chunks ("chunk", bytes) and ("end", sha256)."""
    for record in records:
        original = record.get("original") or {}
        try:
            fh = paths.open_read(original.get("path"))
        except FileNotFoundError:
            yield "skip", record, "the file vanished while the backup ran"
            continue
        except (OSError, StorageError) as exc:  # a path leaving the root, permissions
            yield "skip", record, f"the file cannot be read: {exc}"
            continue
        with fh:
            st = os.fstat(fh.fileno())
            if st.st_size != original.get("size"):
                yield "skip", record, "the file changed while the backup ran (size differs from the record)"
                continue
            yield "file", record, st.st_mtime
            digest = hashlib.sha256()
            while chunk := fh.read(chunk_size):
                if cancel.is_set():
                    raise Cancelled()
                digest.update(chunk)
                yield "chunk", chunk
            yield "end", digest.hexdigest()


def _ahead(events: Iterator[tuple], cancel: threading.Event) -> Iterator[tuple]:
    """`events` produced by a thread of their own, up to AHEAD chunks before they are taken;
    its exception is raised here, and closing this stops it (and closes its file)."""
    handed: queue.Queue = queue.Queue(AHEAD)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for event in events:
                if not put(event):
                    return
            put(("done",))
        except BaseException as exc:  # noqa: BLE001 (raised again by the consumer)
            put(("error", exc))
        finally:
            events.close()

    thread = threading.Thread(target=produce, name="backup-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            try:
                event = handed.get(timeout=0.1)
            except queue.Empty:
                if cancel.is_set() and not thread.is_alive():
                    raise Cancelled() from None
                continue
            if event[0] == "done":
                return
            if event[0] == "error":
                raise event[1]
            yield event
    finally:
        stop.set()
        thread.join()


def copy_originals(zf: zipfile.ZipFile, paths: SafePaths, records: list[dict], progress: Progress,
                   *, ahead: bool, counted: bool = True) -> list[tuple[dict, str]]:
    """Copy each record's original into the archive under its stored path; the records left
    out, with the reason, as [(record, reason)]. `ahead`: read and hash in a second thread;
    `counted`: each record done counts in progress.files. Raises Cancelled when
    progress.cancel is set."""
    events = _reads(paths, records, progress.cancel, PACED_CHUNK if progress.pace else CHUNK)
    if ahead:
        events = _ahead(events, progress.cancel)
    left_out: list[tuple[dict, str]] = []
    record = out = None
    work = time.perf_counter()
    try:
        for event in events:
            kind = event[0]
            if kind == "chunk":
                if progress.cancel.is_set():
                    raise Cancelled()
                out.write(event[1])
                progress.bytes += len(event[1])
                if progress.pace:  # the read and hash of this chunk are in `work` when inline
                    progress.rest(time.perf_counter() - work)
                    work = time.perf_counter()
            elif kind == "file":
                record = event[1]
                info = zipfile.ZipInfo(record["original"]["path"], date_time=zip_time(event[2]))
                info.compress_type = zipfile.ZIP_STORED  # photos and video are compressed already
                info.external_attr = 0o644 << 16
                out = zf.open(info, "w", force_zip64=True)
            elif kind == "end":
                out.close()
                out = None
                if event[1] != record["original"].get("sha256"):
                    # The bytes are in the archive already (a ZIP cannot take a member back);
                    # the document will not list them, and restore ignores members nothing lists.
                    left_out.append((record, CHANGED_SHA256))
                progress.files += counted
            else:  # "skip"
                left_out.append((event[1], event[2]))
                progress.files += counted
    finally:
        try:
            if out is not None:  # a failure or a cancel inside a member: the ZIP can still close
                out.close()
        finally:  # even when that close fails too (a consumer gone): the reading thread ends
            events.close()
    return left_out


class WriteBehind:
    """A file being written from start to end, whose written part is handed to the disk as
    it grows (every STEP bytes: write-back started, and the part written back since the
    step before dropped from the page cache). The fsync at the end then waits for the last
    steps only instead of the whole archive, and a backup does not fill the page cache with
    gigabytes that no visitor will read. Seeks back (zipfile's local headers) still work."""

    STEP = 32 * 1024 * 1024

    def __init__(self, fh):
        self.fh = fh
        self.fd = fh.fileno()
        self.started = 0   # write-back started up to here
        self.dropped = 0   # and dropped from the cache up to here

    def write(self, data) -> int:
        n = self.fh.write(data)
        end = self.fh.tell()
        if end - self.started >= self.STEP:
            self.fh.flush()
            os.posix_fadvise(self.fd, self.dropped, end - self.dropped, os.POSIX_FADV_DONTNEED)
            self.dropped, self.started = self.started, end
        return n

    def tell(self) -> int:
        return self.fh.tell()

    def seek(self, *args) -> int:
        return self.fh.seek(*args)

    def flush(self) -> None:
        self.fh.flush()
