"""Directory synchronization: new, changed and gone files and folders, and hostile trees."""

from __future__ import annotations

import io
import json
import os
import threading

from PIL import Image

from gallery.intake import sync
from gallery.settings import update_settings
from gallery.intake.sync_scan import scan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def jpeg(color=(50, 60, 70), size=16) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), color).save(out, "JPEG")
    return out.getvalue()


async def setup(make_gallery, **settings):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(ctx, {"sync_min_age_seconds": 0, **settings})
    root = await ctx.db.albums.find_one({"parent_id": None})
    admin = await ctx.db.users.find_one({"username": "admin"})
    return ctx, root, admin


async def run(app, ctx, admin, album, **kw) -> dict:
    return await sync.synchronize(ctx, app.services, admin, album, **kw)


def skipped(result) -> dict:
    return {e["path"]: e["reason"] for e in result["skipped_entries"]}


async def test_new_changed_and_gone(app, make_gallery):
    ctx, root, admin = await setup(make_gallery, sync_missing="remove")
    originals = ctx.storage.originals
    (originals / "Trips" / "Rome").mkdir(parents=True)
    (originals / "top.jpg").write_bytes(jpeg())
    (originals / "Trips" / "Rome" / "colosseum.jpg").write_bytes(jpeg((1, 2, 3)))
    (originals / "Trips" / "notes.exe").write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    result = await run(app, ctx, admin, root)
    assert (result["new"], result["new_albums"], result["skipped"]) == (2, 2, 1)
    assert "Trips/notes.exe" in skipped(result)
    rome = await ctx.db.albums.find_one({"title": "Rome"})
    assert rome["dirpath"] == "Trips/Rome"
    media = await ctx.db.media.find_one({"album_id": rome["_id"]})
    # Ingested where it lies: the record names the file, nothing was moved or renamed.
    assert media["original"]["path"] == "originals/Trips/Rome/colosseum.jpg"
    assert media["state"] == "pending" and media["kind"] == "image"
    assert (originals / "Trips" / "Rome" / "colosseum.jpg").read_bytes() == jpeg((1, 2, 3))

    again = await run(app, ctx, admin, root)
    assert (again["new"], again["changed"], again["unchanged"]) == (0, 0, 2)

    (originals / "top.jpg").write_bytes(jpeg((200, 0, 0), size=32))
    os.unlink(originals / "Trips" / "Rome" / "colosseum.jpg")
    os.rmdir(originals / "Trips" / "Rome")
    third = await run(app, ctx, admin, root)
    assert (third["changed"], third["removed"], third["removed_albums"]) == (1, 1, 1)
    top = await ctx.db.media.find_one({"file_name": "top.jpg"})
    assert top["state"] == "pending" and top["original"]["size"] == len(jpeg((200, 0, 0), 32))
    assert await ctx.db.albums.find_one({"title": "Rome"}) is None
    assert await ctx.db.media.find_one({"_id": media["_id"]}) is None


async def test_keep_marks_missing_and_clears_on_return(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)  # sync_missing defaults to keep
    path = ctx.storage.originals / "a.jpg"
    path.write_bytes(jpeg())
    await run(app, ctx, admin, root)
    data = path.read_bytes()
    stat = path.stat()
    path.unlink()
    result = await run(app, ctx, admin, root)
    assert result["missing"] == 1
    assert (await ctx.db.media.find_one({"file_name": "a.jpg"}))["missing"]
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    await run(app, ctx, admin, root)
    assert "missing" not in await ctx.db.media.find_one({"file_name": "a.jpg"})


async def test_uploaded_files_are_not_added_twice(app, make_gallery, make_jpeg):
    from gallery.library.media import add_media_file

    ctx, root, admin = await setup(make_gallery)
    doc = await add_media_file(ctx, root, make_jpeg(), "upload.jpg", copy=True)
    result = await run(app, ctx, admin, root)
    assert (result["new"], result["unchanged"]) == (0, 1)
    assert await ctx.db.media.count_documents({}) == 1
    assert (await ctx.db.media.find_one({"_id": doc["_id"]}))["original"]["mtime_ns"]


async def test_young_files_wait_for_the_next_run(app, make_gallery):
    ctx, root, admin = await setup(make_gallery, sync_min_age_seconds=60)
    (ctx.storage.originals / "fresh.jpg").write_bytes(jpeg())
    result = await run(app, ctx, admin, root)
    assert result["new"] == 0
    assert "still being written" in skipped(result)["fresh.jpg"]
    await update_settings(ctx, {"sync_min_age_seconds": 0})
    assert (await run(app, ctx, admin, root))["new"] == 1


async def test_hostile_names_links_and_special_files(app, make_gallery, tmp_path):
    ctx, root, admin = await setup(make_gallery, sync_missing="remove")
    originals = ctx.storage.originals
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(jpeg())
    os.symlink(outside, originals / "linkdir")
    os.symlink(outside / "secret.jpg", originals / "link.jpg")
    os.mkfifo(originals / "pipe.jpg")
    os.mknod(originals / "null.jpg", 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 3))
    # A name that is not UTF-8: written through the bytes path, read back as surrogates.
    (originals / os.fsdecode(b"bad-\xff\xfe.jpg")).write_bytes(jpeg())
    (originals / "tab\there.jpg").write_bytes(jpeg())
    (originals / "new\nline").mkdir()
    (originals / "...").mkdir()  # hidden (a leading dot): passed over without a line
    (originals / " ..").mkdir()
    (originals / " . ").write_bytes(jpeg())
    (originals / "a\\..\\..\\evil.jpg").write_bytes(jpeg())
    (originals / "good.jpg").write_bytes(jpeg())
    result = await run(app, ctx, admin, root)
    reasons = skipped(result)
    assert result["new"] == 1 and result["new_albums"] == 0
    assert reasons["linkdir"] == reasons["link.jpg"] == "symbolic links are not followed"
    assert "FIFO" in reasons["pipe.jpg"] and "FIFO" in reasons["null.jpg"]
    assert reasons["bad-\\xff\\xfe.jpg"] == "the name is not valid UTF-8"
    assert "control characters" in reasons["tab\\x09here.jpg"]
    assert "control characters" in reasons["new\\x0aline"]
    assert "dots" in reasons[" .."] and "dots" in reasons[" . "] and "..." not in reasons
    assert "backslash" in reasons["a\\..\\..\\evil.jpg"]
    names = [m["original"]["path"] for m in await ctx.db.media.find({}).to_list()]
    assert names == ["originals/good.jpg"]
    # Nothing outside was touched.
    assert (outside / "secret.jpg").read_bytes() == jpeg()


async def test_ten_thousand_files_in_one_directory_and_thirty_levels(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    flat = ctx.storage.originals / "flat"
    flat.mkdir()
    for i in range(10_000):
        (flat / f"f{i:05d}.txt").write_bytes(b"x")
    deep = ctx.storage.originals
    for level in range(30):
        deep = deep / f"level{level}"
    deep.mkdir(parents=True)
    (deep / "bottom.jpg").write_bytes(jpeg())
    found = scan(ctx.storage.originals)
    assert len(found.files) == 10_001 and found.skipped == []
    # The walk itself: a non-recursive sync of the root only makes the two top albums.
    top = await run(app, ctx, admin, root, recursive=False)
    assert top["new_albums"] == 2 and top["new"] == 0
    level29 = "/".join(f"level{n}" for n in range(30))
    album = None
    result = await run(app, ctx, admin, await ctx.db.albums.find_one({"dirpath": "level0"}))
    assert result["new"] == 1 and result["new_albums"] == 29
    album = await ctx.db.albums.find_one({"dirpath": level29})
    assert len(album["ancestors"]) == 30
    assert await ctx.db.media.find_one({"album_id": album["_id"]})


def test_file_replaced_and_directory_removed_during_the_scan(tmp_path):
    originals = tmp_path / "originals"
    (originals / "a" / "b").mkdir(parents=True)
    (originals / "gone").mkdir()
    (originals / "a" / "one.jpg").write_bytes(b"1")
    (originals / "z.jpg").write_bytes(b"z")
    calls = []

    def meddle(dirs, files):
        # Called once the root is listed, before its subdirectories are opened: one is
        # removed, the other swapped for a link to a directory outside.
        calls.append(1)
        if len(calls) == 1:
            os.rmdir(originals / "gone")
            os.rename(originals / "a", tmp_path / "a-moved")
            os.symlink(tmp_path / "a-moved", originals / "a")

    found = scan(originals, progress=meddle)
    reasons = {e["path"]: e["reason"] for e in found.skipped}
    assert reasons["gone"] == "removed during the scan"
    assert "link" in reasons["a"]
    assert sorted(found.unreadable) == ["a", "gone"]
    assert "a/one.jpg" not in found.files  # the link was not followed
    # A file changed between the scan and its read is left for the next run.
    from gallery.intake.sync_scan import FileChanged, hash_file

    seen = found.files["z.jpg"]
    (originals / "z.jpg").write_bytes(b"zz")
    try:
        hash_file(originals, "z.jpg", seen)
    except FileChanged as exc:
        assert "still being written" in str(exc)
    else:
        raise AssertionError("a changed file was hashed")
    os.unlink(originals / "z.jpg")
    os.mkfifo(originals / "z.jpg")
    try:  # replaced by a FIFO: refused without blocking on the open
        hash_file(originals, "z.jpg", seen)
    except FileChanged:
        pass
    else:
        raise AssertionError("a FIFO was read")


def test_permission_denied_on_a_subtree():
    """Root reads every directory, so the denial is real only for another user: the scan
    runs as `nobody` in a child process, in a tree under /tmp whose `closed` has mode 000."""
    import shutil
    import tempfile

    base = tempfile.mkdtemp(prefix="atrium-sync-perm-")
    try:
        os.chmod(base, 0o755)
        originals = os.path.join(base, "originals")
        os.makedirs(os.path.join(originals, "open"))
        os.makedirs(os.path.join(originals, "closed"))
        with open(os.path.join(originals, "closed", "x.jpg"), "wb") as fh:
            fh.write(jpeg())
        for d in (originals, os.path.join(originals, "open")):
            os.chmod(d, 0o755)
        os.chmod(os.path.join(originals, "closed"), 0o000)
        # A forked child (the interpreter under /root is not nobody's to start) that drops
        # to nobody and scans; it only writes its result to the pipe and exits.
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            try:
                os.close(read_end)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                r = scan(originals)
                os.write(write_end, json.dumps({"skipped": r.skipped, "unreadable": r.unreadable,
                                                "dirs": r.dirs}).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as fh:
            data = fh.read()
        os.waitpid(pid, 0)
        assert data, "the child scanning as nobody reported nothing"
        out = json.loads(data)
        assert out["unreadable"] == ["closed"]
        assert out["skipped"] == [{"path": "closed", "reason": "permission denied"}]
        assert "open" in out["dirs"]
    finally:
        os.chmod(os.path.join(base, "originals", "closed"), 0o755)
        shutil.rmtree(base)


async def test_gone_is_not_decided_below_an_unreadable_directory(app, make_gallery):
    """Records below a directory the scan could not read stay (sync.Sync._gone)."""
    ctx, root, admin = await setup(make_gallery, sync_missing="remove")
    sub = ctx.storage.originals / "sub"
    sub.mkdir()
    (sub / "x.jpg").write_bytes(jpeg())
    await run(app, ctx, admin, root)
    assert await ctx.db.media.count_documents({}) == 1
    found = scan(ctx.storage.originals)
    found.files.clear()
    found.dirs.clear()
    found.unreadable.append("sub")
    job = sync.Sync(ctx, app.services, admin, root)
    from gallery.settings import get_settings

    job.settings = await get_settings(ctx)
    albums = await job._albums_in_scope()
    await job._gone(found, await job._records_of([a["_id"] for a in albums.values()]), [])
    assert await ctx.db.media.count_documents({}) == 1
    assert await ctx.db.albums.count_documents({}) == 2


async def test_cancel_stops_the_scan(app, make_gallery):
    ctx, root, admin = await setup(make_gallery)
    (ctx.storage.originals / "a").mkdir()
    cancel = threading.Event()
    cancel.set()
    try:
        await run(app, ctx, admin, root, cancel=cancel)
    except sync.ScanCancelled:
        pass
    else:
        raise AssertionError("a cancelled sync ran")
    assert await ctx.db.albums.count_documents({}) == 1


async def test_unchanged_directories_are_skipped_but_lost_records_come_back(app, make_gallery,
                                                                             viewer_of):
    from gallery.library.albums import delete_album

    ctx, root, admin = await setup(make_gallery)
    (ctx.storage.originals / "Kept").mkdir()
    (ctx.storage.originals / "Kept" / "k.jpg").write_bytes(jpeg())
    (ctx.storage.originals / "Kept" / "notes.exe").write_bytes(b"MZ\x90\x00" + b"\x00" * 99)
    first = await run(app, ctx, admin, root)
    assert first["new"] == 1 and first["skipped"] == 1
    # The unsupported file is settled too: the directory is skipped as a whole next time.
    second = await run(app, ctx, admin, root)
    assert (second["unchanged"], second["skipped"], second["new"]) == (1, 0, 0)
    album = await ctx.db.albums.find_one({"dirpath": "Kept"})
    await delete_album(ctx, await viewer_of(ctx), album["_id"], delete_files=False)
    assert (ctx.storage.originals / "Kept" / "k.jpg").exists()
    third = await run(app, ctx, admin, root)
    assert third["new"] == 1 and third["new_albums"] == 1
    assert await ctx.db.media.count_documents({}) == 1


async def test_a_sync_lock_being_taken_is_answered_and_a_stale_one_replaced(app, make_gallery):
    """Two requests at once: the second may see the first's lock before its job exists."""
    from datetime import UTC, datetime, timedelta

    from gallery.intake.ingest import job_queue

    ctx, root, admin = await setup(make_gallery)
    queue = job_queue(app.services)
    pending = "a" * 24
    await ctx.db.meta.insert_one({"_id": "sync_job", "job_id": pending,
                                  "taken": datetime.now(UTC)})
    assert await sync.start_sync(ctx, queue, admin, root) == (pending, True)
    await ctx.db.meta.update_one({"_id": "sync_job"},
                                 {"$set": {"taken": datetime.now(UTC) - timedelta(minutes=5)}})
    job_id, running = await sync.start_sync(ctx, queue, admin, root)
    assert not running and job_id != pending
    assert (await queue.jobs.find_one({"_id": job_id}))["kind"] == "gallery.sync"


def test_a_file_is_typed_through_the_descriptor_that_was_checked(tmp_path):
    """hash_and_sniff reads and types one open file: a link put in its place after the
    open is never what libmagic sees, and the hash's reading to the end does not matter."""
    from gallery.intake.sync_scan import hash_and_sniff
    from media.sniff import sniff_descriptor

    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg())
    (tmp_path / "other.txt").write_text("plain text\n" * 50)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.read(fd, 1 << 20)  # at the end, as after hashing
        os.unlink(path)
        os.symlink(tmp_path / "other.txt", path)
        assert sniff_descriptor(fd).mime == "image/jpeg"
    finally:
        os.close(fd)
    os.unlink(path)
    path.write_bytes(jpeg())
    st = path.stat()
    digest, sniffed = hash_and_sniff(tmp_path, "photo.jpg", (st.st_size, st.st_mtime_ns))
    assert sniffed.kind == "image" and len(digest) == 64
