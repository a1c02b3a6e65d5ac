"""The scanning half of directory synchronization: walk `originals/` without trusting it.

Runs in a thread (never on the event loop). The walk goes through directory file
descriptors, each opened with O_NOFOLLOW relative to its parent's, so a symbolic link
anywhere in the tree, or a directory swapped for a link while we walk, is never followed
out of the storage root. Every entry is looked at with one `stat` (`lstat` semantics);
nothing is opened or read here. Entries that cannot become media or albums are reported
with the reason, never raised: links, FIFOs, devices and sockets, names that are not
valid UTF-8, contain control characters or only dots and spaces (`..`-like), or carry a
backslash (a path separator to Windows tools that unpack our ZIP downloads), and what
lies deeper than MAX_DEPTH. A directory that vanishes or cannot be read is reported and
listed in `unreadable`, so the caller removes nothing that was below it.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field

# Deeper than any real photo library; the bound keeps a hostile tree from costing one
# open descriptor per level without end.
MAX_DEPTH = 64
# Hidden entries are other tools' business (rsync's `.name.XXXXXX` partial files,
# macOS `._` forks, `.DS_Store`); they are passed over without a report line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class ScanResult:
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # rel -> (size, mtime_ns)
    dirs: list[str] = field(default_factory=list)  # rel paths, parents before children
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"}
    unreadable: list[str] = field(default_factory=list)  # rel dirs whose content is unknown
    young: set[str] = field(default_factory=set)  # files left for the next run


class ScanCancelled(Exception):
    pass


def name_problem(name: str) -> str | None:
    """Why a directory entry's name cannot be taken into the gallery, or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode kept undecodable bytes as surrogates
        return "the name is not valid UTF-8"
    if _CONTROL.search(name):
        return "the name contains control characters"
    if not name.strip(" ."):
        return "the name is only dots and spaces (like ..)"
    if "\\" in name:
        return "the name contains a backslash"
    return None


def printable(rel: str) -> str:
    """A path safe to show in a report (undecodable bytes and controls escaped)."""
    text = os.fsencode(rel).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def open_start(originals: str, start: str) -> int:
    """A descriptor on `originals/<start>`, every level opened without following links."""
    fd = os.open(originals, _DIR_FLAGS)
    try:
        for part in [p for p in start.split("/") if p]:
            nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def scan(originals, start: str = "", *, recursive: bool = True, min_age: float = 0.0,
         cancel: threading.Event | None = None, progress=None) -> ScanResult:
    """Walk `originals/<start>`; paths in the result are relative to `originals/`."""
    result = ScanResult()
    now_ns = time.time_ns()
    young_ns = now_ns - int(min_age * 1e9)
    root_fd = open_start(os.fspath(originals), start)
    try:
        _walk(root_fd, start, 0, recursive, result, young_ns, cancel, progress)
    finally:
        os.close(root_fd)
    return result


def _walk(fd: int, rel: str, depth: int, recursive: bool, result: ScanResult, young_ns: int,
          cancel, progress) -> None:
    if cancel is not None and cancel.is_set():
        raise ScanCancelled()
    try:
        entries = list(os.scandir(fd))
    except OSError as exc:
        result.unreadable.append(rel)
        result.skipped.append({"path": printable(rel) or "/", "reason": _why(exc)})
        return
    subdirs = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        path = _join(rel, name)
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:  # removed between the listing and the look
            result.skipped.append({"path": printable(path), "reason": _why(exc)})
            continue
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            result.skipped.append({"path": printable(path),
                                   "reason": "symbolic links are not followed"})
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            result.skipped.append({"path": printable(path),
                                   "reason": "not a regular file (a FIFO, device or socket)"})
            continue
        problem = name_problem(name)
        if problem:
            result.skipped.append({"path": printable(path), "reason": problem})
            continue
        if stat.S_ISDIR(mode):
            if recursive:
                subdirs.append((name, path))
            else:  # listed (a new one becomes an album), not entered
                result.dirs.append(path)
            continue
        result.files[path] = (st.st_size, st.st_mtime_ns)
        if st.st_mtime_ns > young_ns:
            result.young.add(path)
    if progress is not None:
        progress(len(result.dirs), len(result.files))
    for name, path in subdirs:
        if depth + 1 > MAX_DEPTH:
            result.skipped.append({"path": printable(path),
                                   "reason": f"nested deeper than {MAX_DEPTH} levels"})
            continue
        try:
            sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:  # removed, replaced by a link, or not ours to read
            result.unreadable.append(path)
            result.skipped.append({"path": printable(path), "reason": _why(exc)})
            continue
        result.dirs.append(path)
        try:
            _walk(sub, path, depth + 1, recursive, result, young_ns, cancel, progress)
        finally:
            os.close(sub)


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "removed during the scan"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return "replaced by a link or a file during the scan"
    return f"could not be read ({os.strerror(exc.errno or 0)})"


class FileChanged(Exception):
    """The file is not what the scan saw (still being written, replaced or gone)."""


def hash_file(originals, rel: str, seen: tuple[int, int]) -> str:
    return _read(originals, rel, seen, False)[0]


def hash_and_sniff(originals, rel: str, seen: tuple[int, int]):
    """(SHA-256, media.sniff.Sniffed) of one file, both read through the one descriptor
    hash_file checked (libmagic reads the descriptor), so a path swapped for a link after
    the check is never what is typed."""
    return _read(originals, rel, seen, True)


def _read(originals, rel: str, seen: tuple[int, int], sniff_type: bool):
    """SHA-256 of `originals/<rel>`, opened without following links (the last level with
    O_NOFOLLOW, the levels above through descriptors), and only if its size and mtime are
    still those the scan saw, before and after reading: a file still being written, or
    replaced by something else, is left for the next run."""
    import hashlib

    parent, _, name = rel.rpartition("/")
    dir_fd = open_start(os.fspath(originals), parent)
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=dir_fd)
        except OSError as exc:
            raise FileChanged(_why(exc)) from None
    finally:
        os.close(dir_fd)
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or (before.st_size, before.st_mtime_ns) != seen:
            raise FileChanged("changed during the scan (still being written?)")
        digest = hashlib.sha256()
        with os.fdopen(os.dup(fd), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        after = os.fstat(fd)
        if (after.st_size, after.st_mtime_ns) != seen:
            raise FileChanged("changed while it was read (still being written?)")
        sniffed = None
        if sniff_type:
            from media.sniff import sniff_descriptor

            sniffed = sniff_descriptor(fd)
        return digest.hexdigest(), sniffed
    finally:
        os.close(fd)
