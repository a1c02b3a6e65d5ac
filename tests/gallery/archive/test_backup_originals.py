"""The originals copied into a backup archive (gallery/archive/originals.py): read and hashed
a chunk ahead in a second thread or inline (the job's paced child), with the same archive
and the same files left out either way; a cancel stops the reading thread; the archive's
write-behind hands its written part to the disk without breaking zipfile's seeks back."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile

import pytest

from gallery.archive import originals
from gallery.archive.originals import SafePaths, WriteBehind, copy_originals
from gallery.archive.progress import Cancelled, Progress
from storage.root import StorageRoot


def _gallery(tmp_path, sizes):
    """Originals of the given sizes (each different bytes) and their records."""
    storage = StorageRoot(tmp_path / "root")
    records = []
    for i, size in enumerate(sizes):
        rel = f"originals/a{i % 3}/f{i}.bin"
        path = storage.resolve(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = (i.to_bytes(4, "big") + os.urandom(61)) * (size // 65) + b"x" * (size % 65)
        path.write_bytes(data)
        records.append({"_id": f"m{i}", "original": {"path": rel, "size": size,
                                                     "sha256": hashlib.sha256(data).hexdigest()}})
    return storage, records


def _write(storage, records, out_path, *, ahead, progress=None, wrap=lambda fh: fh):
    with open(out_path, "wb") as fh, zipfile.ZipFile(wrap(fh), "w", allowZip64=True) as zf:
        return copy_originals(zf, SafePaths(storage), records, progress or Progress(), ahead=ahead)


def _members(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every member's CRC
        return {info.filename: hashlib.sha256(zf.read(info)).hexdigest() for info in zf.infolist()}


@pytest.mark.parametrize("ahead", [True, False])
def test_both_ways_copy_every_byte_and_leave_out_what_vanished_or_changed(tmp_path, ahead):
    storage, records = _gallery(tmp_path, [0, 1, 5000, 3 * originals.CHUNK + 17, 200_000, 70_000])
    storage.resolve(records[1]["original"]["path"]).unlink()                     # vanished
    storage.resolve(records[4]["original"]["path"]).write_bytes(b"\0" * 200_000)  # same size, other bytes
    storage.resolve(records[5]["original"]["path"]).write_bytes(b"short")       # other size
    records.append({"_id": "out", "original": {"path": "originals/../../etc/passwd", "size": 1,
                                               "sha256": "0" * 64}})              # leaves the root
    progress = Progress()
    left = _write(storage, records, tmp_path / "a.zip", ahead=ahead, progress=progress)
    reasons = {record["_id"]: reason for record, reason in left}
    assert set(reasons) == {"m1", "m4", "m5", "out"}
    assert "vanished" in reasons["m1"] and "sha256 differs" in reasons["m4"]
    assert "size differs" in reasons["m5"] and "cannot be read" in reasons["out"]
    members = _members(tmp_path / "a.zip")
    for record in (records[0], records[2], records[3]):
        assert members[record["original"]["path"]] == record["original"]["sha256"]
    # m4's bytes went in before its hash was known: in the archive, never listed (export prunes).
    assert set(members) == {records[i]["original"]["path"] for i in (0, 2, 3, 4)}
    assert progress.files == len(records)
    assert progress.bytes == sum(records[i]["original"]["size"] for i in (0, 2, 3, 4))


def test_ahead_and_inline_write_the_same_archive(tmp_path):
    storage, records = _gallery(tmp_path, [10, 2 * originals.CHUNK, 123_456, 1])
    _write(storage, records, tmp_path / "ahead.zip", ahead=True)
    _write(storage, records, tmp_path / "inline.zip", ahead=False)
    assert _members(tmp_path / "ahead.zip") == _members(tmp_path / "inline.zip")
    assert len(_members(tmp_path / "ahead.zip")) == 4


def test_a_cancel_stops_the_reading_thread_and_the_zip_still_closes(tmp_path):
    storage, records = _gallery(tmp_path, [3 * originals.CHUNK] * 6)

    class CancelAfterTwoChunks(Progress):
        def __setattr__(self, name, value):
            super().__setattr__(name, value)
            if name == "bytes" and value >= 2 * originals.CHUNK:
                self.cancel.set()

    progress = CancelAfterTwoChunks()
    with pytest.raises(Cancelled):
        _write(storage, records, tmp_path / "a.zip", ahead=True, progress=progress)
    assert not [t for t in threading.enumerate() if t.name == "backup-read-ahead"]
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:  # the member in progress was closed whole
        assert zf.testzip() is None
        assert len(zf.infolist()) == 1


def test_an_error_in_the_reading_thread_is_raised_to_the_writer(tmp_path, monkeypatch):
    storage, records = _gallery(tmp_path, [5000, 5000, 5000])
    real = SafePaths.open_read

    def failing(self, rel):
        if rel.endswith("f1.bin"):
            raise MemoryError("no memory for f1")  # not a file problem: the backup fails
        return real(self, rel)

    monkeypatch.setattr(SafePaths, "open_read", failing)
    with pytest.raises(MemoryError, match="f1"):
        _write(storage, records, tmp_path / "a.zip", ahead=True)
    assert not [t for t in threading.enumerate() if t.name == "backup-read-ahead"]


def test_a_failing_consumer_ends_the_reading_thread(tmp_path):
    """The archive's consumer fails part-way (a client that went away while Download now
    streamed): the error reaches the caller and the reading thread is gone."""
    storage, records = _gallery(tmp_path, [3 * originals.CHUNK] * 4)

    class GoneAfterTwoChunks(io.RawIOBase):
        written = 0

        def writable(self):
            return True

        def write(self, data):
            if self.written > 2 * originals.CHUNK:
                raise ConnectionResetError("the client went away")
            self.written += len(data)
            return len(data)

    with (pytest.raises(ConnectionResetError) as caught,
          zipfile.ZipFile(GoneAfterTwoChunks(), "w", allowZip64=True) as zf):
        copy_originals(zf, SafePaths(storage), records, Progress(), ahead=True)
    # While the error (and its traceback, which holds the copy's frames) is still kept, as a
    # handler logging it does: ended by the copy itself, not by the garbage collector.
    assert not [t for t in threading.enumerate() if t.name == "backup-read-ahead"]
    assert caught.tb is not None


def test_write_behind_hands_the_archive_to_the_disk_in_steps_and_it_stays_whole(tmp_path, monkeypatch):
    """Steps of 64 KB over a 1.5 MB archive: write-back started and the written part dropped
    many times, across members' headers that zipfile seeks back to and rewrites."""
    monkeypatch.setattr(WriteBehind, "STEP", 64 * 1024)
    calls = []
    real = os.posix_fadvise
    monkeypatch.setattr(os, "posix_fadvise", lambda *a: (calls.append(a), real(*a))[1])
    storage, records = _gallery(tmp_path, [100_000 + i for i in range(15)])
    made = []

    def wrap(fh):
        made.append(WriteBehind(fh))
        return made[0]

    assert _write(storage, records, tmp_path / "a.zip", ahead=True, wrap=wrap) == []
    assert len(calls) >= 15 and all(advice == os.POSIX_FADV_DONTNEED for *_, advice in calls)
    assert made[0].started > (tmp_path / "a.zip").stat().st_size - 2 * WriteBehind.STEP
    members = _members(tmp_path / "a.zip")
    assert members == {r["original"]["path"]: r["original"]["sha256"] for r in records}
