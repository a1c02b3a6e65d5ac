"""The old server's media folder: a directory (host CLI only) or a ZIP of it, indexed by path
so a media object's file is found by its album's directory path and OriginalFilename
(case-insensitively, as on the Windows server GSP ran on). GSP's own thumbnails and
optimized copies (zThumb_, zOpt_) are never imported: Atrium makes its own.

A ZIP is read with the ZIP import's rules (gallery/intake/zipimport.py): entries that are
links, absolute or climb with `..` are refused and listed, an entry that inflates beyond the
ratio limit is a bomb, and extraction counts real bytes against what the entry declared.
A directory is walked without following links, and files are opened without following them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
from pathlib import Path

from gallery.errors import Invalid, TooLarge
from gallery.gspimport.errors import GspRefused
from gallery.intake import zipimport

SKIPPED_PREFIXES = ("zthumb_", "zopt_")
MB = 1024 * 1024


def _key(parts) -> str:
    return "/".join(parts).casefold()


class MediaSource:
    """An index `path key -> handle` over the folder's files, and a way to copy one out."""

    kind = "none"

    def __init__(self) -> None:
        self.index: dict[str, object] = {}
        self.refused: list[dict] = []           # {"name", "reason"}
        self.generated = 0                      # zThumb_/zOpt_ files passed over
        self.prefix: tuple[str, ...] = ()

    def _add(self, parts: list[str], handle) -> None:
        if parts and parts[-1].casefold().startswith(SKIPPED_PREFIXES):
            self.generated += 1
            return
        self.index.setdefault(_key(parts), handle)

    def choose_prefix(self, expected: list[list[str]]) -> None:
        """The folder may be zipped with its own name (or more) on top: pick the leading
        components under which most expected files are found."""
        candidates = {()}
        for key in list(self.index)[:5000]:
            parts = key.split("/")
            for n in (1, 2, 3):
                if len(parts) > n:
                    candidates.add(tuple(parts[:n]))
        sample = expected[:500]
        best, hits = (), -1
        for prefix in sorted(candidates, key=len):
            found = sum(1 for parts in sample if _key([*prefix, *parts]) in self.index)
            if found > hits:
                best, hits = prefix, found
        self.prefix = best

    def find(self, parts: list[str]):
        return self.index.get(_key([*self.prefix, *parts]))

    def size(self, handle) -> int:
        raise NotImplementedError

    def copy(self, handle, dest: Path, budget: int) -> tuple[int, str]:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what copying kept open."""


class DirectorySource(MediaSource):
    kind = "directory"

    def __init__(self, root: Path):
        super().__init__()
        self.root = root
        for folder, dirs, files in os.walk(root, followlinks=False):
            rel = Path(folder).relative_to(root).parts
            for name in files:
                full = os.path.join(folder, name)  # a str, not a Path: half the memory per file indexed
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.refused.append({"name": "/".join([*rel, name]), "reason": "not a regular file (a link?)"})
                    continue
                self._add([*rel, name], (full, st.st_size))

    def size(self, handle) -> int:
        return handle[1]

    def copy(self, handle, dest: Path, budget: int) -> tuple[int, str]:
        full, _ = handle
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "rb") as src, open(dest, "xb") as out:
            for block in iter(lambda: src.read(MB), b""):
                size += len(block)
                if size > budget:
                    raise TooLarge("the media folder holds more than the gallery's quota allows")
                digest.update(block)
                out.write(block)
        return size, digest.hexdigest()


class ZipSource(MediaSource):
    kind = "zip"

    def __init__(self, path: Path, limits: dict):
        super().__init__()
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        try:
            good, refused = zipimport.plan(path, limits)
        except TooLarge as exc:
            raise GspRefused(f"The media ZIP is refused: {exc.message}") from None
        except Invalid as exc:  # not a readable ZIP
            raise GspRefused(f"The media ZIP is refused: {exc.message}") from None
        self.refused = [{"name": r["name"], "reason": r["reason"]} for r in refused]
        for info in good:
            if info.is_dir():
                continue
            parts = [p for p in info.filename.split("/") if p and p != "."]
            if parts:
                self._add(parts, info)

    def size(self, handle) -> int:
        return handle.file_size

    def copy(self, handle, dest: Path, budget: int) -> tuple[int, str]:
        """zipimport.extract_entry's rules (real bytes counted against what the entry declares
        and the budget) on one ZipFile kept open: opening a 10,000-entry ZIP again for every
        entry read its central directory 10,000 times (~0.3 s each)."""
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.path)
        digest, size = hashlib.sha256(), 0
        limit = min(handle.file_size, budget)
        try:
            with self._zip.open(handle) as src, open(dest, "xb") as out:
                for block in iter(lambda: src.read(MB), b""):
                    size += len(block)
                    if size > handle.file_size:
                        raise GspRefused(f"{handle.filename}: the entry unpacks to more than it declared")
                    if size > limit:
                        raise TooLarge("the media folder holds more than the gallery's quota allows")
                    digest.update(block)
                    out.write(block)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


def open_source(path, limits: dict) -> MediaSource | None:
    """The media folder at `path` (a directory or a ZIP), or None without one."""
    if path is None or str(path) == "":
        return None
    path = Path(path)
    if path.is_dir():
        return DirectorySource(path)
    if not path.is_file():
        raise GspRefused(f"The media folder {path.name!r} does not exist.")
    if not zipfile.is_zipfile(path):
        raise GspRefused("The media file is not a ZIP (upload the media folder as one ZIP file).")
    return ZipSource(path, limits)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
