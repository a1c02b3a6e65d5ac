"""Directory synchronization: the gallery catches up with files put into `originals/`.

A hosting provider or the owner drops files into a gallery's `originals/` tree (SFTP,
rsync, a mounted disk); a `gallery.sync` job makes the database match it below an album:
- new directories become albums (the title is the directory name, the album keeps the
  directory as its own `dirname`, so the tree stays mirrored);
- new files become media objects through the checks of every other way in (type by
  content and the allowed types, the size limit, the storage quota, duplicates), but stay
  where they are: the file is never moved, renamed or written (unless the intake settings
  re-encode or discard originals: gallery/processing/originals.py);
- a file whose size or mtime differs from its record is hashed again; if its content
  changed it is processed again;
- files and directories that are gone take their records with them, or (setting
  `sync_missing` = keep) leave them marked `missing` until they come back;
- an unchanged file costs the one `stat` of the scan (gallery/sync_scan.py) and nothing
  else: the records of a directory whose listing is unchanged are not even loaded
  (gallery/sync_state.py), and a file is read only when it is new or changed.
Files younger than `sync_min_age_seconds`, or whose size or mtime change between the scan
and the read, are left for the next run. One sync per gallery at a time (gallery/sync_lock.py);
progress and cancel go through the job, the result is written to the event log.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time

from gallery.people import permissions as gallery_permissions
from gallery import settings as gallery_settings
from gallery.intake import sync_state
from gallery.library import tagcounts
from gallery.library.albums import MAX_TITLE, album_document, contains, default_sort, dirpath_of
from gallery.errors import GalleryError, Invalid, TooLarge, Unsupported
from gallery.i18n import Message
from gallery.intake.filetypes import accepted_type
from gallery.notices.events import record_event
from gallery.intake.ingest import check_size, job_queue
from gallery.library.media import media_document, next_position, safe_filename
from gallery.intake.sync_lock import DEDUPE, KIND, LOCK_ID, lock_fresh, start_sync
from gallery.intake.sync_scan import FileChanged, ScanCancelled, hash_and_sniff, hash_file, printable, scan
from gallery.usage import add_usage, reserve
from media.errors import MediaError

log = logging.getLogger("atrium.sync")

REPORT_SKIPPED = 500  # skipped entries listed in a result (all are counted)
BATCH = 200  # new files written to the database together
READERS = 4  # new files hashed and typed at once (threads; the disk likes a short queue)


def _parent(rel: str) -> str:
    return rel.rpartition("/")[0]


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def _under(rel: str, dirs: list[str]) -> bool:
    return any(d == "" or rel == d or rel.startswith(d + "/") for d in dirs)


class Sync:
    """One run below one album; `counts` and `skipped` make its report."""

    def __init__(self, ctx, services, user: dict | None, album: dict, *, recursive=True,
                 report=None, cancel: threading.Event | None = None, thorough=False):
        self.ctx, self.services, self.user, self.album = ctx, services, user, album
        self.recursive = recursive
        self.thorough = thorough  # look at every directory, recorded listing or not
        self.known: dict[str, str | None] = {}
        self.report = report
        self.cancel = cancel or threading.Event()
        self.counts = {"directories": 0, "files": 0, "new": 0, "changed": 0, "unchanged": 0,
                       "removed": 0, "missing": 0, "skipped": 0, "new_albums": 0,
                       "removed_albums": 0}
        self.skipped: list[dict] = []
        self.positions: dict[str, int] = {}  # album id -> next position for a new file
        self.started = time.monotonic()

    def skip(self, path: str, reason: str) -> None:
        self.counts["skipped"] += 1
        if len(self.skipped) < REPORT_SKIPPED:
            self.skipped.append({"path": path, "reason": reason})

    async def progress(self, fraction: float, done: int = 0, total: int = 0) -> None:
        if self.cancel.is_set():
            raise ScanCancelled()
        if self.report is None:
            return
        c = self.counts
        text = (f"{c['directories']} directories, {c['files']} files: {c['new']} new, "
                f"{c['changed']} changed, {c['removed'] + c['missing']} removed, "
                f"{c['skipped']} skipped")
        if total and done:
            rate = done / max(time.monotonic() - self._work_started, 1e-3)
            text += f"; about {int((total - done) / rate) + 1} s left"
        await self.report(fraction, text)

    async def run(self) -> dict:
        ctx = self.ctx
        settings = await gallery_settings.get_settings(ctx)
        self.settings = settings
        start = dirpath_of(self.album)

        def scanned(dirs: int, files: int) -> None:
            self.counts["directories"], self.counts["files"] = dirs, files

        try:
            found = await asyncio.to_thread(
                scan, ctx.storage.originals, start, recursive=self.recursive,
                min_age=float(settings.get("sync_min_age_seconds", 5)), cancel=self.cancel,
                progress=scanned)
        except OSError as exc:
            raise Invalid(f"The album's directory cannot be read ({exc.strerror}).") from None
        self.counts["directories"], self.counts["files"] = len(found.dirs), len(found.files)
        for entry in found.skipped:
            self.skip(entry["path"], entry["reason"])
        await self.progress(0.1)
        albums = await self._albums_in_scope()
        await self._directories(found, albums)
        # Directories whose listing is what the last sync recorded are done here: their
        # records are not even loaded (gallery/sync_state.py).
        look = [start] + (found.dirs if self.recursive else [])
        look = [d for d in look if d in albums and not _under(d, found.unreadable)]
        by_dir: dict[str, dict[str, tuple[int, int]]] = {d: {} for d in look}
        for rel, seen in found.files.items():
            by_dir.setdefault(_parent(rel), {})[rel.rpartition("/")[2]] = seen
        states = await sync_state.load(ctx, [albums[d]["_id"] for d in look])
        dirty = []
        for d in look:
            state = states.get(albums[d]["_id"])
            if not self.thorough and sync_state.unchanged(state, d, by_dir[d]):
                self.counts["unchanged"] += sync_state.media_count(state)
            else:
                dirty.append(d)
        seen_dirs = set(found.dirs) | {start}
        gone_albums = [a for rel, a in albums.items()
                       if rel and rel not in seen_dirs and a["_id"] != self.album["_id"]
                       and not _under(rel, found.unreadable)]
        records = await self._records_of(
            [albums[d]["_id"] for d in dirty] + [a["_id"] for a in gone_albums])
        self.known = {}  # rel -> media id (or None: settled as not media) for the states
        new, changed = [], []
        dirty_set = set(dirty)
        for rel, seen in found.files.items():
            if _parent(rel) not in dirty_set:
                continue
            record = records.get("originals/" + rel)
            if rel in found.young:
                self.skip(printable(rel), "still being written (too new); left for the next run")
                continue
            if record is None:
                new.append((rel, seen))
                continue
            original = record.get("original") or {}
            if (original.get("size"), original.get("mtime_ns")) == seen:
                self.counts["unchanged"] += 1
                self.known[rel] = record["_id"]
                if record.get("missing"):
                    await ctx.db.media.update_one({"_id": record["_id"]},
                                                  {"$unset": {"missing": ""}})
            elif original.get("mtime_ns") is None and original.get("size") == seen[0]:
                # Uploaded through Atrium, which placed this very file: remember its mtime.
                self.counts["unchanged"] += 1
                self.known[rel] = record["_id"]
                await ctx.db.media.update_one(
                    {"_id": record["_id"]}, {"$set": {"original.mtime_ns": seen[1]},
                                             "$unset": {"missing": ""}})
            else:
                changed.append((rel, seen, record))
        total = len(new) + len(changed)
        self._work_started = time.monotonic()
        await self._add_all(new, albums, 0, total)
        done = len(new)
        for rel, seen, record in changed:
            await self.progress(0.1 + 0.85 * done / max(total, 1), done, total)
            await self._update(rel, seen, record)
            done += 1
        await self._gone(found, records, gone_albums)
        for d in dirty:
            files = [[name, *seen, self.known[_join(d, name)]]
                     for name, seen in by_dir[d].items() if _join(d, name) in self.known]
            await sync_state.store(ctx, albums[d]["_id"], d, files)
        await sync_state.forget(ctx, [a["_id"] for a in gone_albums])
        return {"album_id": self.album["_id"], "recursive": self.recursive, **self.counts,
                "skipped_entries": self.skipped,
                "seconds": round(time.monotonic() - self.started, 3)}

    # -- albums ------------------------------------------------------------------------------
    async def _albums_in_scope(self) -> dict[str, dict]:
        query = (contains("ancestors", self.album["_id"]) if self.recursive
                 else {"parent_id": self.album["_id"]})
        albums = {dirpath_of(a): a for a in await self.ctx.db.albums.find(query).to_list()}
        albums[dirpath_of(self.album)] = self.album
        return albums

    async def _directories(self, found, albums: dict[str, dict]) -> None:
        for rel in found.dirs:  # parents come before their children
            album = albums.get(rel)
            if album is not None:
                if album.get("missing"):
                    await self.ctx.db.albums.update_one({"_id": album["_id"]},
                                                        {"$unset": {"missing": ""}})
                continue
            parent = albums.get(_parent(rel))
            if parent is None:
                continue
            name = rel.rpartition("/")[2]
            title = " ".join(name.split())[:MAX_TITLE] or "Untitled"
            doc = album_document(title, parent, owner_id=(self.user or {}).get("_id"),
                                 dirname=name)
            doc["position"] = await next_album_position(self.ctx, parent["_id"])
            doc.update(default_sort(self.settings))
            await self.ctx.db.albums.insert_one(doc)
            albums[rel] = doc
            self.counts["new_albums"] += 1

    # -- files ---------------------------------------------------------------------------------
    async def _records_of(self, album_ids: list[str]) -> dict[str, dict]:
        """The media records of these albums (not their subtrees), by original path."""
        fields = {"original": 1, "album_id": 1, "missing": 1, "tags": 1, "album_path": 1,
                  "private": 1, "content_hash": 1, "kind": 1}
        records: dict[str, dict] = {}
        for i in range(0, len(album_ids), 500):
            query = {"album_id": {"$in": album_ids[i:i + 500]}}
            for m in await self.ctx.db.media.find(query, fields).to_list():
                records[(m.get("original") or {}).get("path")] = m
        return records

    async def _add_all(self, new: list, albums: dict[str, dict], done: int, total: int) -> None:
        """New files, BATCH at a time: each file is read (hash, type) on a thread, a few at
        once, and a batch's records, processing jobs and usage are written together."""
        gate = asyncio.Semaphore(READERS)
        for i in range(0, len(new), BATCH):
            await self.progress(0.1 + 0.85 * (done + i) / max(total, 1), done + i, total)
            batch = new[i:i + BATCH]

            async def read(rel, seen):
                async with gate:
                    return await self._prepare(rel, seen, albums)

            ready = [r for r in await asyncio.gather(*(read(r, s) for r, s in batch)) if r]
            await self._store(ready)

    async def _prepare(self, rel: str, seen: tuple[int, int], albums: dict[str, dict]):
        """(album, media document) for a new file, or None when it is skipped (reported)."""
        ctx = self.ctx
        album = albums.get(_parent(rel))
        if album is None:
            self.skip(printable(rel), "its directory could not be made an album")
            return None
        size = seen[0]
        try:
            if size == 0:
                raise Invalid("This file is empty.")
            check_size(self.settings, size)
            try:
                sha256, sniffed = await asyncio.to_thread(
                    hash_and_sniff, ctx.storage.originals, rel, seen)
            except MediaError as exc:
                raise Invalid(exc.reason) from None
            try:  # by content, the name agreeing (media.sniff.accept), Office ZIPs checked
                sniffed = await accepted_type(
                    sniffed, ctx.storage.originals / rel, rel, self.settings
                )
            except (Unsupported, TooLarge) as exc:
                raise Invalid(exc.message) from None
            # A synchronization runs alone in its gallery (sync_lock): no claim is needed.
            policy = self.settings.get("duplicates") or "skip"
            if policy in ("skip", "skip_gallery") and await ctx.db.media.find_one(
                {"content_hash": sha256, **({"album_id": album["_id"]} if policy == "skip" else {})},
                {"_id": 1},
            ):
                where = "album" if policy == "skip" else "gallery"
                raise Invalid(f"the same content is already in the {where} (duplicates are skipped)")
        except FileChanged as exc:
            self.skip(printable(rel), f"{exc}; left for the next run")
            return None
        except GalleryError as exc:
            self.skip(printable(rel), exc.message)
            if not isinstance(exc, TooLarge):  # not media (type, empty): settled until it changes
                self.known[rel] = None
            return None
        name = rel.rpartition("/")[2]
        doc = media_document(
            album, kind=sniffed.kind, mime=sniffed.mime, extension=sniffed.extension,
            file_name=safe_filename(name), original_path="originals/" + rel, size=size,
            sha256=sha256, owner_id=(self.user or {}).get("_id"),
            title=name.rsplit(".", 1)[0][:500] or name, fresh=True,
        )
        doc["original"]["mtime_ns"] = seen[1]
        return album, doc

    async def _store(self, ready: list) -> None:
        """Insert a batch: usage reserved against the quota (file by file once the batch as
        a whole does not fit, so what fits still comes in), processing jobs enqueued held
        before the records and released after (as gallery.ingest does for one file)."""
        ctx = self.ctx
        if not ready:
            return
        try:
            await reserve(ctx, sum(doc["original"]["size"] for _a, doc in ready))
        except TooLarge:
            kept = []
            for album, doc in ready:
                try:
                    await reserve(ctx, doc["original"]["size"])
                    kept.append((album, doc))
                except TooLarge as exc:
                    self.skip(printable(doc["original"]["path"][10:]), exc.message)
            ready = kept
            if not ready:
                return
        for album, doc in ready:
            if album["_id"] not in self.positions:
                self.positions[album["_id"]] = await next_position(ctx, album["_id"])
            doc["position"] = self.positions[album["_id"]]
            self.positions[album["_id"]] += 1
        docs = [doc for _a, doc in ready]
        queue = job_queue(self.services) if self.services is not None else None
        job_ids = []
        try:
            if queue is not None:
                job_ids = await queue.enqueue_many(
                    ctx.slug, "media.process", [{"media_id": d["_id"]} for d in docs],
                    dedupes=[f"media.process:{d['_id']}" for d in docs], hold=True)
            await ctx.db.media.insert_many(docs)
        except BaseException:
            await add_usage(ctx, -sum(d["original"]["size"] for d in docs))
            if job_ids:
                await queue.jobs.delete_many({"_id": {"$in": job_ids}, "state": "queued"})
            raise
        if queue is not None:
            await queue.release_many(job_ids)
        for doc in docs:
            self.known[doc["original"]["path"][len("originals/"):]] = doc["_id"]
        self.counts["new"] += len(docs)

    async def _update(self, rel: str, seen: tuple[int, int], record: dict) -> None:
        ctx = self.ctx
        try:
            check_size(self.settings, seen[0])
            sha256 = await asyncio.to_thread(hash_file, ctx.storage.originals, rel, seen)
        except FileChanged as exc:
            self.skip(printable(rel), f"{exc}; left for the next run")
            return
        except GalleryError as exc:
            self.skip(printable(rel), exc.message)
            return
        original = record.get("original") or {}
        update = {"original.size": seen[0], "original.mtime_ns": seen[1]}
        if sha256 == original.get("sha256"):
            await ctx.db.media.update_one({"_id": record["_id"]},
                                          {"$set": update, "$unset": {"missing": ""}})
            self.counts["unchanged"] += 1
            self.known[rel] = record["_id"]
            return
        update.update({"original.sha256": sha256, "content_hash": sha256, "state": "pending"})
        if record.get("kind") == "image":  # a new file: the intake settings apply to it
            update["original.prepare"] = True
        await add_usage(ctx, seen[0] - int(original.get("size") or 0))
        await ctx.db.media.update_one({"_id": record["_id"]},
                                      {"$set": update, "$unset": {"missing": ""}})
        if self.services is not None:
            await job_queue(self.services).enqueue(
                ctx.slug, "media.process", {"media_id": record["_id"]},
                dedupe=f"media.process:{record['_id']}")
        self.counts["changed"] += 1
        self.known[rel] = record["_id"]

    # -- what is gone --------------------------------------------------------------------------
    async def _gone(self, found, records: dict[str, dict], gone_albums: list[dict]) -> None:
        ctx = self.ctx
        keep = self.settings.get("sync_missing", "keep") == "keep"
        gone = [m for path, m in records.items()
                if path and path.startswith("originals/") and path[10:] not in found.files
                and not _under(_parent(path[10:]), found.unreadable)]
        if keep:
            for m in gone:
                if not m.get("missing"):
                    await ctx.db.media.update_one({"_id": m["_id"]}, {"$set": {"missing": True}})
                self.counts["missing"] += 1
            for a in gone_albums:
                await ctx.db.albums.update_one({"_id": a["_id"]}, {"$set": {"missing": True}})
            return
        for m in gone:
            if (await ctx.db.media.delete_one({"_id": m["_id"]})).deleted_count:
                await tagcounts.media_removed(ctx, m)
                await add_usage(ctx, -int((m.get("original") or {}).get("size") or 0))
                await ctx.db.albums.update_many({"cover_id": m["_id"]},
                                                {"$set": {"cover_id": None}})
                await asyncio.to_thread(shutil.rmtree, ctx.storage.derivatives / m["_id"], True)
            self.counts["removed"] += 1
        for a in sorted(gone_albums, key=lambda a: -len(a.get("ancestors", []))):
            await tagcounts.album_deleted(ctx, a["_id"])
            await ctx.db.albums.delete_one({"_id": a["_id"]})
            self.counts["removed_albums"] += 1


async def next_album_position(ctx, parent_id: str) -> int:
    last = await ctx.db.albums.find({"parent_id": parent_id}, {"position": 1}).sort(
        "position", -1).limit(1).to_list()
    return (last[0].get("position", 0) + 1) if last else 0


async def synchronize(ctx, services, user, album, *, recursive: bool = True, report=None,
                      cancel: threading.Event | None = None) -> dict:
    """Synchronize the database with `originals/` below `album`; returns the report."""
    return await Sync(ctx, services, user, album, recursive=recursive, report=report,
                      cancel=cancel).run()


# -- the job ------------------------------------------------------------------------------------
async def run_sync_job(job) -> dict:
    from jobs.queue import JobCancelled, JobFailed

    ctx = job.tenant
    payload = job.payload
    album = await ctx.db.albums.find_one({"_id": payload.get("album_id")})
    if album is None:
        raise JobFailed("The album no longer exists.")
    user = await ctx.db.users.find_one({"_id": payload["user_id"]}) if payload.get(
        "user_id") else None
    if user is not None:  # a user's sync still needs the permission when it runs
        viewer = await gallery_permissions.viewer_for(
            ctx, user, await gallery_settings.get_settings(ctx))
        if not gallery_permissions.can(viewer, "synchronize", album):
            raise JobFailed("The user who asked no longer has the synchronize permission.")
    cancel = threading.Event()

    async def watch_cancel() -> None:
        await job.cancelled.wait()
        cancel.set()

    watcher = asyncio.create_task(watch_cancel())
    try:
        result = await synchronize(ctx, job.services, user, album,
                                   recursive=payload.get("recursive", True), report=job.report,
                                   cancel=cancel)
    except ScanCancelled:
        raise JobCancelled() from None
    except GalleryError as exc:
        raise JobFailed(exc.message) from None
    finally:
        watcher.cancel()
    if payload.get("rebuild"):
        result["regenerate_job"] = await job.queue.enqueue(
            ctx.slug, "media.regenerate",
            {"album_id": album["_id"] if album.get("parent_id") else None},
            dedupe=f"regenerate:{album['_id']}")
    c = result
    await record_event(
        ctx, "sync",
        Message("Synchronization of /%(folder)s: %(new)s new, %(changed)s changed, %(removed)s removed, "
                "%(skipped)s skipped, %(unchanged)s unchanged (%(seconds)s s)",
                folder=dirpath_of(album), new=c["new"], changed=c["changed"],
                removed=c["removed"] + c["missing"], skipped=c["skipped"], unchanged=c["unchanged"],
                seconds=c["seconds"]),
        user=user,
        details={k: v for k, v in result.items() if k != "skipped_entries"}
        | {"skipped_entries": result["skipped_entries"][:50], "job_id": job.job["_id"]},
    )
    await job.report(1.0, "done", force=True)
    return result


def _register() -> None:
    from jobs.queue import register

    register(KIND, run_sync_job)


_register()
