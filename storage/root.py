"""A tenant's storage root: its layout on disk, atomic writes and usage accounting.

    <data_dir>/tenants/<slug>/
        originals/    mirrors the album tree, so a provider can drop files in and sync
        derivatives/  <media id>/thumbnail.jpg, optimized.jpg, poster.jpg, web.mp4 ...
        tmp/          every write lands here first and is renamed into place

Temp files are named after the process writing them (`<storage.instance>~<uuid><suffix>`),
so what a killed process left in tmp/ can be told from live work (gallery/intake/tmpsweep.py).

A tenant may have a read-only media folder instead (the host's `media_folder`, an
existing directory elsewhere on the server): then `originals` is that directory, stored
paths `originals/...` resolve inside it, and nothing here writes there
(`check_writable`); derivatives and tmp/ stay under the root.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from storage import instance

LAYOUT = ("originals", "derivatives", "tmp")


class StorageError(Exception):
    """A storage root could not be created, written or resolved safely."""


class ReadOnlyOriginals(StorageError):
    """A write into a read-only media folder."""


class StorageRoot:
    def __init__(self, path: Path, media_folder: str | Path | None = None):
        self.path = Path(path)
        # Resolved when the host set it (tenants/media_folder.py); kept as given here.
        self.media_folder = Path(media_folder) if media_folder else None

    @property
    def read_only_originals(self) -> bool:
        """Are the originals in a read-only media folder (sync is the only way in)?"""
        return self.media_folder is not None

    @property
    def originals(self) -> Path:
        return self.media_folder or self.path / "originals"

    @property
    def derivatives(self) -> Path:
        return self.path / "derivatives"

    @property
    def tmp(self) -> Path:
        return self.path / "tmp"

    def create(self) -> None:
        """Make the layout; fails if the root already exists (a slug is never reused live)."""
        try:
            self.path.mkdir(parents=True, exist_ok=False)
            for name in LAYOUT:
                (self.path / name).mkdir()
        except FileExistsError:
            raise StorageError(f"storage root {self.path} already exists") from None
        except OSError as exc:
            raise StorageError(f"cannot create storage root {self.path}: {exc.strerror}") from None

    def ensure(self) -> None:
        for name in LAYOUT:
            (self.path / name).mkdir(parents=True, exist_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def exists(self) -> bool:
        return self.path.is_dir()

    def temp_path(self, suffix: str = "") -> Path:
        """A fresh path under tmp/ for a write that is renamed into place when complete."""
        return self.tmp / f"{instance.current()}~{uuid.uuid4().hex}{suffix}"

    def resolve(self, relative: str) -> Path:
        """Resolve a stored relative path, refusing anything that escapes the root (for
        `originals/...` with a media folder: that folder)."""
        base = self.path
        if self.media_folder is not None:
            head, _, rest = relative.partition("/")
            if head == "originals":
                base, relative = self.media_folder, rest
        candidate = (base / relative).resolve()
        root = base.resolve()
        if base is self.media_folder and root != base:
            # Stored resolved: a folder since swapped for a link is not followed anywhere.
            raise StorageError(f"the media folder {base} is no longer the directory that was set")
        if candidate != root and root not in candidate.parents:
            raise StorageError(f"path {relative!r} leaves the storage root")
        return candidate

    def check_writable(self, path: Path) -> None:
        """Raise ReadOnlyOriginals if `path` is in the read-only media folder: the last
        guard under every write of the gallery's own (gallery/media_folder.py refuses first)."""
        if self.media_folder is None:
            return
        folder = self.media_folder.resolve()
        target = Path(path).resolve()
        if target == folder or folder in target.parents:
            raise ReadOnlyOriginals(f"{path} is in the read-only media folder")

    def write_atomic(self, relative: str, data: bytes) -> Path:
        target = self.resolve(relative)
        self.check_writable(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.temp_path()
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target

    def is_writable(self) -> bool:
        probe = self.tmp / f".probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
            return True
        except OSError:
            return False

    def usage_bytes(self) -> int:
        """Bytes on disk under the root (run off the event loop: it walks the tree)."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
        return total
