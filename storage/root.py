"""A tenant's storage root: its layout on disk, atomic writes and usage accounting.

    <data_dir>/tenants/<slug>/
        originals/    mirrors the album tree, so a provider can drop files in and sync
        derivatives/  <media id>/thumbnail.jpg, optimized.jpg, poster.jpg, web.mp4 ...
        tmp/          every write lands here first and is renamed into place

Temp files are named after the process writing them (`<storage.instance>~<uuid><suffix>`),
so what a killed process left in tmp/ can be told from live work (gallery/intake/tmpsweep.py).
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


class StorageRoot:
    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def originals(self) -> Path:
        return self.path / "originals"

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
        """Resolve a stored relative path, refusing anything that escapes the root."""
        candidate = (self.path / relative).resolve()
        root = self.path.resolve()
        if candidate != root and root not in candidate.parents:
            raise StorageError(f"path {relative!r} leaves the storage root")
        return candidate

    def write_atomic(self, relative: str, data: bytes) -> Path:
        target = self.resolve(relative)
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
