"""The backup job's archive is written by a niced child process (gallery/archive/background.py),
so that writing it never holds the service's interpreter lock: it still validates and
restores, a cancel stops the child and leaves nothing, and a child that fails says why."""

from __future__ import annotations

import asyncio

import psutil
import pytest

from gallery.archive.background import NICE, BackupFailed, write_in_child
from gallery.archive.export import Cancelled, Progress, take_snapshot
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
