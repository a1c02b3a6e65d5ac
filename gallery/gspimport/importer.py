"""Preview and import of a GSP backup into an empty gallery (docs/gsp-import.md).

preview() reads the backup and the media folder and writes nothing; import_backup() does the
same checks, copies the files into staging, then writes and switches (staging.py) and queues
what follows the switch: derivatives (one media.regenerate job) and set-password mails."""

from __future__ import annotations

import asyncio
import logging
import os
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from gallery import failpoints
from gallery import settings as gallery_settings
from gallery.errors import TooLarge
from gallery.gspimport import build, checks, media_files, model, staging
from gallery.gspimport.errors import GalleryNotEmpty, GspRefused
from gallery.gspimport.report import Report
from gallery.ids import new_id
from gallery.intake.zipimport import limits_from
from gallery.library.filenames import clean_file_name
from gallery.library.tagcounts import rebuild_tag_counts
from gallery.media_folder import require_writable
from gallery.people.users import username_key
from gallery.usage import current_usage, quota_bytes
from media.errors import MediaError
from media.office import check_package
from media.sniff import OFFICE_MIMES, UnsupportedMedia, accept, sniff

log = logging.getLogger("atrium.gspimport")
BATCH = 500


async def check_empty(ctx) -> dict:
    """The gallery's root album, or GalleryNotEmpty when it holds more than a fresh install
    (ReadOnlyMedia when its files are in the host's read-only media folder)."""
    require_writable(ctx, "Importing from Gallery Server Pro")
    root = await ctx.db.albums.find_one({"parent_id": None})
    if root is None:
        raise GalleryNotEmpty("The gallery is not installed yet; install it first, then import.")
    if await ctx.db.albums.find_one({"_id": {"$ne": root["_id"]}}, {"_id": 1}) is not None or \
            await ctx.db.media.find_one({}, {"_id": 1}) is not None:
        raise GalleryNotEmpty("This gallery already has albums or media. A GSP backup is imported only "
                              "into an empty gallery, so nothing was changed.")
    return root


def galleries_of(data) -> list[dict]:
    """Non-template galleries with their album and media counts."""
    album_counts = Counter(a["gallery_id"] for a in data.albums.values())
    media_counts: Counter = Counter()
    for album_id, n in data.work.media_per_album().items():
        if album_id in data.albums:
            media_counts[data.albums[album_id]["gallery_id"]] += n
    ids = set(album_counts) | {g for g, row in data.galleries.items() if not row["template"]}
    out = []
    for gid in sorted(i for i in ids if i is not None):
        row = data.galleries.get(gid, {"description": "", "template": False})
        if row["template"]:
            continue
        out.append({"id": gid, "description": row["description"], "albums": album_counts.get(gid, 0),
                    "media": media_counts.get(gid, 0)})
    return out


def choose_gallery(data, gallery_id: int | None) -> int | None:
    listed = galleries_of(data)
    ids = [g["id"] for g in listed]
    if gallery_id is not None:
        if gallery_id not in ids:
            raise GspRefused(f"The backup has no gallery {gallery_id} to import"
                             + (f" (it has {', '.join(map(str, ids))})." if ids else "."))
        return gallery_id
    return ids[0] if len(ids) == 1 else None


class Analysis:
    """Everything read and decided before anything is written."""

    def __init__(self, data, gallery_id, tree, built, report, source):
        self.data, self.gallery_id, self.tree = data, gallery_id, tree
        self.built, self.report, self.source = built, report, source

    def close(self) -> None:
        """Let go of the work file and the media folder (blocking: in a thread). Idempotent."""
        if self.source is not None:
            self.source.close()
        self.data.close()


def analyse(backup_path, media_path, gallery_id, *, root: dict, settings: dict,
            existing_users: set[str], run: str, on_progress=None, work_path=None) -> Analysis:
    """Read, check and map (in a thread: all of it is blocking work); the media part of the
    model and the media documents go to a work file at `work_path` (workfile.py) that the
    caller closes with Analysis.close. Raises GspRefused."""
    data = model.load(backup_path, on_progress=on_progress, work_path=work_path)
    try:
        chosen = choose_gallery(data, gallery_id)
        report = Report(data.gen.as_dict(), chosen)
        if chosen is None:
            return Analysis(data, None, None, None, report, None)
        tree = checks.album_tree(data, chosen)
        built = build.build(data, chosen, tree, root, run=run, settings=settings,
                            existing_user_keys=existing_users, report=report)
        limits = limits_from(settings)
        # GSP's folder holds up to three files per media object (original, zThumb_, zOpt_): the
        # ZIP import's entry limit would refuse a large gallery's folder for its size alone.
        limits["max_entries"] = max(limits["max_entries"], 3 * data.work.file_count() + 1000)
        source = media_files.open_source(media_path, limits)
        if source is not None:
            source.choose_prefix(data.work.sample_parts(500))
    except BaseException:
        data.close()
        raise
    return Analysis(data, chosen, tree, built, report, source)


async def _inputs(ctx) -> tuple[dict, dict, set[str], Path | None]:
    """The root album, settings, user names taken, and where the work file goes: the tenant's
    tmp/ under this process's identity (a killed run's file goes with the next sweep)."""
    if ctx is None:
        root = {"_id": new_id(), "title": "", "parent_id": None, "ancestors": [], "dirname": "",
                "dirpath": "", "private": False}
        return root, gallery_settings.defaults(), set(), None
    root = await check_empty(ctx)
    settings = await gallery_settings.get_settings(ctx)
    users = {username_key(u["username"]) async for u in ctx.db.users.find({}, {"username": 1})}
    return root, settings, users, ctx.storage.temp_path(".gsp.sqlite")


_closing: set = set()


async def _analysed(*args, **kwargs) -> Analysis:
    """analyse() in a thread. Cancelled while it runs (a client gone, a job stopped), the
    thread still finishes: its Analysis is closed then, so no work file is left behind."""
    thread = asyncio.ensure_future(asyncio.to_thread(analyse, *args, **kwargs))
    try:
        return await asyncio.shield(thread)
    except asyncio.CancelledError:
        def close(done) -> None:
            if not done.cancelled() and done.exception() is None:
                closing = asyncio.ensure_future(asyncio.to_thread(done.result().close))
                _closing.add(closing)  # the loop keeps only a weak reference to a task
                closing.add_done_callback(_closing.discard)
        thread.add_done_callback(close)
        raise


def _files_found(a: Analysis) -> int:
    return sum(1 for batch in a.built.media.files() for _, _, parts, _ in batch if a.source.find(parts) is not None)


async def preview(ctx, backup_path, media_path=None, gallery_id: int | None = None) -> dict:
    """What an import would do (module docstring of docs: the preview shape in gsp-api)."""
    root, settings, users, work_path = await _inputs(ctx)
    a = await _analysed(backup_path, media_path, gallery_id, root=root, settings=settings,
                        existing_users=users, run="preview", work_path=work_path)
    try:
        return await _preview_of(a)
    finally:
        await asyncio.to_thread(a.close)


async def _preview_of(a: Analysis) -> dict:
    out = {**a.data.gen.as_dict(), "galleries": galleries_of(a.data), "gallery_id": a.gallery_id,
           "needs_gallery_choice": a.gallery_id is None, "counts": None, "media_files": None,
           "skipped": []}
    if a.gallery_id is None:
        return out
    b = a.built
    out["counts"] = {"albums": len(b.albums) + 1, "media": b.media_count, "users": len(b.users),
                     "roles": len([r for r in b.roles if r.get("builtin") != "owner"]),
                     "settings": len(b.settings)}
    if a.source is not None:
        found = await asyncio.to_thread(_files_found, a)
        out["media_files"] = {"found": found, "missing": await asyncio.to_thread(b.media.file_count) - found,
                              "generated_skipped": a.source.generated, "refused": len(a.source.refused)}
        for entry in a.source.refused[:200]:
            a.report.item("files", "skipped", "", entry["name"], entry["reason"])
    out["skipped"] = [i for i in a.report.items if i["status"] in ("skipped", "failed")]
    return out


def _copy_one(source, handle, dest: Path, budget: int, allowed) -> tuple[int, str, object]:
    """Copy one file into staging and sniff it; returns (size, sha256, sniffed)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    size, sha = source.copy(handle, dest, budget)
    try:
        # By content, the name agreeing (a NEF is a TIFF to libmagic: its name says which).
        sniffed = accept(sniff(dest), dest.name, allowed)
        if sniffed.mime in OFFICE_MIMES:  # a ZIP every downloader unpacks: no bombs
            try:
                check_package(dest, sniffed.extension, **OFFICE_LIMITS)
            except MediaError as exc:
                raise UnsupportedMedia(exc.reason) from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size, sha, sniffed


#: An imported Office file's ZIP limits: the defaults of the ZIP import settings.
OFFICE_LIMITS = {"max_entries": 10_000, "max_total": 10_240 << 20, "max_ratio": 100}

#: Files copied (and typed) at once: copying and libmagic leave the GIL, so two cores overlap.
COPIES_AT_ONCE = 3


def _plan(a: Analysis) -> tuple[int, int]:
    """Give every file found its place in staging, names decided in order (a second "a.jpg"
    in an album becomes "a (2).jpg"), and mark the others missing; returns (files, bytes
    they declare). Reads the work file by folder, so only one folder's names are held."""
    report, work = a.report, a.built.media
    planned = declared = 0
    current, names = None, set()
    for batch in work.files():
        changes = []
        for seq, folder, parts, doc in batch:
            handle = a.source.find(parts) if a.source is not None else None
            if handle is None:
                build._missing(doc, report, doc["gsp"]["id"], parts[-1],
                               "not in the media folder" if a.source is not None else "no media folder was given")
                changes.append((seq, doc, None))
                continue
            if folder != current:
                current, names = folder, set()
            name = clean_file_name(parts[-1])
            stem, dot, ext = name.rpartition(".")
            k = 2
            while name.casefold() in names:
                name = f"{stem} ({k}).{ext}" if dot else f"{name} ({k})"
                k += 1
            names.add(name.casefold())
            changes.append((seq, doc, f"{folder}/{name}"))
            planned += 1
            declared += a.source.size(handle)
        work.update(changes)
    return planned, declared


async def _stage_files(ctx, a: Analysis, stage: Path, settings: dict, progress) -> tuple[int, int]:
    """Copy every found file into staging, a work-file batch at a time; returns (bytes, files)."""
    b, report, work = a.built, a.report, a.built.media
    planned, declared = await asyncio.to_thread(_plan, a)
    budget = (quota_bytes(ctx) - await current_usage(ctx)) if quota_bytes(ctx) else 1 << 62
    if declared > budget:  # refused before a byte is copied
        raise GspRefused(f"The media do not fit in the gallery's quota: they take {declared} bytes, "
                         f"{max(budget, 0)} are free.")
    slack = budget - declared
    allowed = settings.get("allowed_extensions") or ()
    covers = {album.get("cover_id") for album in [*b.albums, b.root_update]} - {None}
    dropped_covers: set[str] = set()
    done = total = staged = 0
    gate = asyncio.Semaphore(COPIES_AT_ONCE)

    async def one(handle, rel: str):
        nonlocal done
        async with gate:
            # Each file may take what it declares plus the free room: counted again below.
            limit = a.source.size(handle) + slack
            try:
                return await asyncio.to_thread(_copy_one, a.source, handle, stage / rel, limit, allowed)
            except (UnsupportedMedia, TooLarge, GspRefused, OSError, EOFError, zipfile.BadZipFile) as exc:
                return exc
            finally:
                done += 1
                if progress is not None and done % 20 == 0:
                    await progress(0.3 + 0.5 * done / max(planned, 1), f"files: {done} of {planned}")

    if progress is not None:
        await progress(0.3, f"files: 0 of {planned}")
    batches = work.planned()
    while (batch := await asyncio.to_thread(next, batches, None)) is not None:
        tasks = [asyncio.ensure_future(one(a.source.find(parts), rel)) for _, rel, parts, _ in batch]
        try:
            results = await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        changes, drops = [], []
        for (seq, rel, parts, doc), outcome in zip(batch, results, strict=True):
            if isinstance(outcome, TooLarge):
                raise GspRefused(f"The media do not fit in the gallery's quota: {outcome.message}")
            if isinstance(outcome, UnsupportedMedia):
                report.item("media", "skipped", doc["gsp"]["id"], parts[-1], f"disallowed type: {outcome.reason}")
                drops.append(seq)
                if doc["_id"] in covers:
                    dropped_covers.add(doc["_id"])
                continue
            if isinstance(outcome, BaseException):
                build._missing(doc, report, doc["gsp"]["id"], parts[-1], f"the file could not be read ({outcome})")
                changes.append((seq, doc, None))
                continue
            size, sha, sniffed = outcome
            total += size
            staged += 1
            doc.update(file_name=rel.rsplit("/", 1)[-1], kind=sniffed.kind, mime=sniffed.mime,
                       extension=sniffed.extension, original={"path": rel, "size": size, "sha256": sha},
                       content_hash=sha, state="pending")
            changes.append((seq, doc, rel))
            report.count("files")
        await asyncio.to_thread(work.update, changes)
        await asyncio.to_thread(work.drop, drops)
        b.media_count -= len(drops)
    if total > budget:
        raise GspRefused(f"The media do not fit in the gallery's quota: they took {total} bytes, "
                         f"{max(budget, 0)} were free.")
    for album in [*b.albums, b.root_update]:
        if album.get("cover_id") in dropped_covers:
            album["cover_id"] = None
    return total, staged


async def import_backup(ctx, registry, backup_path, media_path=None, gallery_id: int | None = None, *,
                        progress=None, queue=None, urls=None, user: dict | None = None) -> dict:
    """Import into the empty gallery `ctx`; returns the report (dict). All or nothing."""
    from gallery.gspimport import after

    root, settings, users, work_path = await _inputs(ctx)
    run = new_id()
    loop = asyncio.get_running_loop()

    def reading(done: int, total: int) -> None:
        if progress is not None and total:
            asyncio.run_coroutine_threadsafe(
                progress(0.3 * min(done / total, 1.0), f"reading the backup: {done // 1048576} MB"), loop)

    a = await _analysed(backup_path, media_path, gallery_id, root=root, settings=settings,
                        existing_users=users, run=run, on_progress=reading, work_path=work_path)
    try:
        await _import(ctx, registry, a, backup_path, settings, run, progress, queue)
    finally:
        await asyncio.to_thread(a.close)
    ctx.settings_cache = None
    await after.finish(ctx, a, queue=queue, urls=urls, user=user)
    return a.report.as_dict()


async def _import(ctx, registry, a: Analysis, backup_path, settings, run, progress, queue) -> None:
    """Stage, write and switch (staging.py), or undo all of it."""
    if a.gallery_id is None:
        ids = ", ".join(str(g["id"]) for g in galleries_of(a.data))
        raise GspRefused(f"The backup holds several galleries ({ids}); choose the one to import.")
    mark = await staging.claim(registry, ctx, run)
    stage = staging_dir = staging.staging_dir(ctx.storage, run)
    job_ids: list[str] = []
    try:
        await asyncio.to_thread(stage.mkdir, parents=True, exist_ok=True)
        try:
            total, staged = await _stage_files(ctx, a, stage, settings, progress)
        finally:
            if a.source is not None:
                a.source.close()
        await failpoints.reached("gsp_import.staged")
        await staging.take_offline(registry, ctx.slug, run)
        # The gallery stayed open while the files were copied: what was added meanwhile
        # (an upload, an album) makes it non-empty, and the import stops here, undone.
        await check_empty(ctx)
        await _write(ctx, a, total, progress)
        await asyncio.to_thread(staging.move_into_place, Path(ctx.storage.path), staging_dir,
                                a.built.media.staged_paths())
        if queue is not None and staged:
            job_ids.append(await queue.enqueue(ctx.slug, "media.regenerate", {"gsp_run": run, "pending_only": True},
                                                  hold=True))
        await failpoints.reached("gsp_import.before_switch")
        a.report.finished = datetime.now(UTC)
        await staging.switch(registry, ctx.slug, run, {"run": run, "finished": a.report.finished,
                                                       "source": os.path.basename(str(backup_path)),
                                                       "generation": a.data.gen.name})
    except BaseException:
        log.warning("GSP import into %s failed; undoing it", ctx.slug)
        await asyncio.shield(staging.undo(registry, ctx, mark))
        raise
    for job_id in job_ids:
        await queue.release(job_id)


async def _write(ctx, a: Analysis, total_bytes: int, progress) -> None:
    b = a.built
    db = ctx.db
    count, written = len(b.albums) + len(b.roles) + len(b.users) + b.media_count, 0

    async def insert(name: str, items: list) -> None:
        nonlocal written
        for i in range(0, len(items), BATCH):
            await db[name].insert_many(items[i:i + BATCH], ordered=True)
            written += len(items[i:i + BATCH])
            if progress is not None:
                await progress(0.8 + 0.15 * written / max(count, 1), f"writing: {written} of {count} documents")

    for name, items in (("albums", b.albums), ("roles", b.roles), ("users", b.users)):
        await insert(name, items)
    media = b.media.documents()  # from the work file, a batch at a time
    while (batch := await asyncio.to_thread(next, media, None)) is not None:
        await insert("media", batch)
    a.report.count("media", n=b.media_count)
    await db.albums.update_one({"parent_id": None}, {"$set": b.root_update})
    if b.settings:
        await gallery_settings.update_settings(ctx, b.settings)
    await db.meta.update_one({"_id": "usage"}, {"$inc": {"bytes": int(total_bytes)}, "$set": {"version": 1}},
                             upsert=True)
    await rebuild_tag_counts(ctx)
