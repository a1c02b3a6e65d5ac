"""The backup job's archive is written by a niced child process (gallery/archive/background.py),
so that writing it never holds the service's interpreter lock: it still validates and
restores, a cancel stops the child and leaves nothing, and a child that fails says why."""

from __future__ import annotations

import asyncio
import time
import zipfile

import psutil
import pytest

from gallery.archive.background import NICE, BackupFailed, write_in_child
from gallery.archive.export import take_snapshot
from gallery.archive.progress import Cancelled, Progress
from gallery.archive.restore import prepare
from tests.gallery.archive.test_backup import make_source
from tests.waiting import until


def _writers() -> list[psutil.Process]:
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "gallery.archive.background" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            continue
    return out


async def test_the_archive_is_written_by_a_niced_child_and_restores(app, make_gallery, tmp_path):
    ctx, made = await make_source(make_gallery)
    snap = await take_snapshot(ctx)
    (folder := tmp_path / "out").mkdir()
    out = folder / "alpha.zip"
    progress = Progress()
    task = asyncio.ensure_future(write_in_child(snap, ctx.storage, out, progress=progress))

    async def running():
        return _writers() or task.done()

    seen = await until(running, timeout=30)
    if isinstance(seen, list):  # caught while it ran (the usual case): not this process, niced
        assert seen[0].pid != psutil.Process().pid and seen[0].nice() >= NICE
    report = await task
    assert report.media == 2 and report.files == 2 and report.left_out == []
    assert report.omitted_settings == ["smtp_password"]
    assert progress.files == 2 and progress.bytes == progress.total_bytes > 0
    prepared = await asyncio.to_thread(prepare, out)  # every check of a restore passes
    assert {m["_id"] for m in prepared.snapshot.media} == {made["one"]["_id"], made["two"]["_id"]}
    assert [p.name for p in folder.iterdir()] == ["alpha.zip"]  # no partial left beside it
    assert _writers() == []


async def test_a_cancel_stops_the_child_and_leaves_nothing(app, make_gallery, tmp_path):
    ctx, _ = await make_source(make_gallery)
    snap = await take_snapshot(ctx)
    progress = Progress()
    progress.cancel.set()  # as the job does when its cancel is requested
    (folder := tmp_path / "out").mkdir()
    with pytest.raises(Cancelled):
        await write_in_child(snap, ctx.storage, folder / "cancelled.zip", progress=progress)
    assert list(folder.iterdir()) == [] and _writers() == []


async def test_a_child_that_cannot_write_says_why(app, make_gallery, tmp_path):
    ctx, _ = await make_source(make_gallery)
    snap = await take_snapshot(ctx)
    with pytest.raises(BackupFailed, match="No such file or directory"):
        await write_in_child(snap, ctx.storage, tmp_path / "missing" / "a.zip")
    assert not (tmp_path / "missing").exists() and _writers() == []


async def test_restore_stops_extracting_when_the_documents_fail(app, make_gallery, tmp_path):
    """Files are extracted while the documents go in (tenants/staging.py): when the documents
    fail (here: the target is not empty), no extracting thread may still be writing into the
    staging root when the failure reaches the caller, which removes that root."""
    import hashlib
    import threading

    from gallery.archive.export import export_to_file
    from gallery.archive.load import NotEmpty
    from tenants import staging

    ctx, _ = await make_source(make_gallery)
    root = await ctx.db.albums.find_one({"parent_id": None})
    docs = []
    for i in range(20):
        data = i.to_bytes(4, "big") * 2048
        rel = f"originals/many/f{i}.bin"
        path = ctx.storage.resolve(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        docs.append({"_id": f"{i:024x}", "album_id": root["_id"], "album_path": [root["_id"]],
                     "kind": "other", "state": "ready", "title": f"f{i}", "file_name": f"f{i}.bin",
                     "original": {"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
                     "position": i, "private": False, "tags": [], "derivatives": {}, "metadata": {}})
    await ctx.db.media.insert_many(docs)
    out = tmp_path / "many.zip"
    await export_to_file(ctx, out)
    prepared = await asyncio.to_thread(prepare, out)
    target = await make_gallery("beta")  # not empty: its root album is there

    class Slow(Progress):
        """Each extracting thread is held a while after its first file (set from the
        thread), so extraction is surely still running when the documents fail."""

        def __setattr__(self, name, value):
            if name == "files" and value:
                threading.Event().wait(3.0)  # a bounded hold inside the thread, not a wait for a result
            super().__setattr__(name, value)

    with pytest.raises(NotEmpty):
        await staging.fill(target["ctx"], None, prepared, "Beta", progress=Slow())
    assert not [t for t in threading.enumerate() if t.name.startswith("restore-extract")]


async def test_the_snapshot_reads_media_in_pages_and_the_child_gets_them_in_frames(
        app, make_gallery, tmp_path, monkeypatch):
    """Media are read page by page (keyset on _id: short queries) and sent to the child a
    frame at a time; every media object arrives, once, in _id order, and one whose id is
    not a string (out of the keyset's range) is read too."""
    import io

    from bson import ObjectId

    from gallery.archive import background, export

    ctx, made = await make_source(make_gallery)
    extra = [{**made["one"], "_id": f"{i:024x}", "original": None, "kind": "external",
              "title": f"link {i}"} for i in range(5)]
    await ctx.db.media.insert_many(extra)
    monkeypatch.setattr(export, "SNAPSHOT_PAGE", 2)
    pages = [page async for page in export.media_pages(ctx.db)]
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    snap = await take_snapshot(ctx)
    ids = sorted([made["one"]["_id"], made["two"]["_id"], *(m["_id"] for m in extra)])
    assert [m["_id"] for m in snap.media] == ids == [m["_id"] for page in pages for m in page]
    odd = {**extra[0], "_id": ObjectId()}
    await ctx.db.media.insert_one(odd)
    assert sorted(map(str, (m["_id"] for m in (await take_snapshot(ctx)).media))) == sorted(
        [*ids, str(odd["_id"])])

    monkeypatch.setattr(background, "FRAME", 3)
    frames = list(background._frames(snap, ctx.storage, tmp_path / "a.zip", False))
    assert len(frames) == 1 + 3 + 1  # the job, 7 media by 3, the end
    job = background._read_job(io.BytesIO(b"".join(frames)))
    assert job["snapshot"].media == snap.media and job["snapshot"].albums == snap.albums
    assert len(snap.media) == 7  # the service's snapshot is left whole
    report = await write_in_child(snap, ctx.storage, tmp_path / "a.zip")
    assert report.media == 7 and report.files == 2

    # The job's snapshot: small pages left raw (no decoding on the event loop), decoded by
    # the child into exactly what the service's own snapshot holds (times with their zone).
    from bson.raw_bson import RawBSONDocument

    monkeypatch.setattr(export, "BACKGROUND_PAGE", 2)
    raw = await take_snapshot(ctx, background=True)
    assert len(raw.media) == 8 and all(isinstance(m, RawBSONDocument) for m in raw.media)
    job = background._read_job(io.BytesIO(b"".join(background._frames(raw, ctx.storage, tmp_path / "b.zip", False))))
    decoded = {str(m["_id"]): m for m in job["snapshot"].media}
    assert decoded == {str(m["_id"]): m for m in (await take_snapshot(ctx)).media}
    assert decoded[made["one"]["_id"]]["date_added"].tzinfo is not None


def test_the_child_rests_as_long_as_it_worked_in_rests_of_10_ms_or_more():
    """The job's child copies at a pace (background.PACE: visitors keep the cores); a rest
    is owed until it reaches 10 ms, and a cancel ends it (here set, so nothing waits)."""
    from gallery.archive import background

    assert background.PACE > 0 and Progress().pace == 0.0  # the CLI's backups never rest
    progress = Progress(pace=1.0)
    progress.cancel.set()
    progress.rest(0.004)
    progress.rest(0.004)
    assert progress._owed == pytest.approx(0.008)  # too short to sleep yet
    progress.rest(0.004)
    assert progress._owed == 0.0  # rested (cut short by the cancel)


async def test_a_paced_backup_rests_while_it_writes_backup_xml_too(app, make_gallery, tmp_path, monkeypatch):
    """The child's backup.xml (a second of Python for 10,000 media objects) is written at the
    same pace as its files: a step is counted after each media object; the CLI's never."""
    from gallery.archive.export import write_file

    ctx, _ = await make_source(make_gallery)
    snap = await take_snapshot(ctx)
    steps = []
    real = Progress.step_done

    def counted(self):
        steps.append(self.pace)
        real(self)

    monkeypatch.setattr(Progress, "step_done", counted)
    await asyncio.to_thread(write_file, snap, ctx.storage, tmp_path / "paced.zip", progress=Progress(pace=1.0))
    assert steps == [1.0] * len(snap.media) == [1.0, 1.0]
    await asyncio.to_thread(write_file, snap, ctx.storage, tmp_path / "cli.zip", progress=Progress())
    assert len(steps) == 2
    with zipfile.ZipFile(tmp_path / "paced.zip") as paced, zipfile.ZipFile(tmp_path / "cli.zip") as cli:
        assert sorted(paced.namelist()) == sorted(cli.namelist())
        assert paced.read("originals/Trips/beach.jpg") == cli.read("originals/Trips/beach.jpg")


def test_a_step_rests_as_long_as_it_took():
    """Each step's work is what passed since the step before (here its clock is set back
    instead of waiting): owed until it reaches 10 ms, then slept."""
    progress = Progress(pace=1.0)
    progress.step_done()  # starts the clock: nothing owed
    assert progress._owed == 0.0
    progress._since -= 0.004  # a step of 4 ms
    progress.step_done()
    assert 0.004 <= progress._owed < 0.01  # owed, not yet slept (under 10 ms)
    progress._since -= 0.008  # a step of 8 ms
    started = time.perf_counter()
    progress.step_done()
    assert progress._owed == 0.0 and time.perf_counter() - started >= 0.012  # slept what it owed
