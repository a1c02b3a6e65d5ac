"""A checked backup's media documents read again from backup.xml, part by part, while
restore inserts them (gallery/archive/chunked.py checked them; docs/backup-format.md,
"Checking in parts"): never all in memory, and refused if the archive changed since."""

from __future__ import annotations

import copy
import hashlib
import zipfile
from collections.abc import Iterator

from gallery.archive import formats
from gallery.archive.chunked import CHANGED, MEDIA_CHUNK, Checked, Refused, media_elements, skeleton
from gallery.archive.document import read_media


class MediaSource:
    """A checked backup's media documents, read again from the archive part by part (so
    that they are never all in memory): iterable, with len(); batches(n) for the inserts."""

    def __init__(self, path: str, member: str, max_bytes: int, checked: Checked, refuse=Refused):
        self.path = str(path)
        self.sha256 = checked.sha256
        self.refuse = refuse  # the exception raised when backup.xml is no longer the one checked
        self.member = member
        self.max_bytes = max_bytes
        self.version = checked.version
        self.count = checked.media
        self.pending = checked.pending

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict]:
        for batch in self.batches(MEDIA_CHUNK):
            yield from batch

    def batches(self, size: int) -> Iterator[list[dict]]:
        known = formats.versions()
        steps = [v for v in known[known.index(self.version) + 1:] if formats.upgrade_path(v)]
        with zipfile.ZipFile(self.path) as zf:
            info = zf.getinfo(self.member)

            def open_member():
                return zf.open(info)

            skel = None
            if steps:  # an older format: each part is upgraded as it was when checked
                skel, _ = skeleton(open_member, self.max_bytes)
            batch: list = []
            at = None
            digest = hashlib.sha256()
            for where, el in media_elements(open_member, self.max_bytes, digest):
                if where is None:
                    break
                if batch and (where != at or len(batch) >= size):
                    yield [read_media(x) for x in _upgraded(skel, at, batch, steps)]
                    batch = []
                at = where
                batch.append(el)
            # The archive is read again by path: a file changed since the check fails the
            # restore (all or nothing) before its last batch, never restores unchecked data.
            if digest.hexdigest() != self.sha256:
                raise self.refuse(CHANGED)
            if batch:
                yield [read_media(x) for x in _upgraded(skel, at, batch, steps)]


def _upgraded(skel, where, elements, steps):
    if not steps:
        return elements
    root = copy.deepcopy(skel)
    container = root[where]
    for el in elements:
        container.append(el)
    tree = root.getroottree()
    for version in steps:
        tree = formats._transform(version)(tree)
    return list(tree.getroot()[where])
