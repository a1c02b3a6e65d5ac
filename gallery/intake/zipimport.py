"""ZIP import: folders become albums, files become media objects, hostile entries are refused.

Limits come from the tenant's settings (zip_max_entries, zip_max_total_mb, zip_max_ratio).
They are checked on the central directory before anything is extracted, and again while
extracting: every entry's decompressed bytes are counted, and an entry that produces more
than it declared is stopped. Entries with absolute paths, `..`, drive letters, links or
device files are never extracted. Good entries are kept whatever happens to the others;
the result lists every entry as imported (with its media id), skipped or failed (why).

Every import over HTTP is a `zip.import` job (the request runs small ones itself and
answers with the result; handlers.uploads), so its report can be fetched after a dropped
connection, and a killed import is resumed by the queue. Resuming is idempotent: each
entry is logged in the tenant's `zip_entries` collection (`<job id>:<index>`) with the
media id chosen for it *before* it is ingested and its outcome after, so a re-run skips the
entries done and finds the one a crash interrupted by its media id. The same ZIP sent again
into the same album by the same user (a client retrying after a lost answer) gets the
existing job and its report, not a second import.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import stat
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from gallery import failpoints
from gallery import settings as gallery_settings
from gallery.errors import GalleryError, Invalid, NotFound, QuotaExceeded, TooLarge
from gallery.i18n import Message
from gallery.ids import new_id
from gallery.intake.ingest import ingest_file, upload_limit
from gallery.library.album_paths import album_for_folder
from gallery.media_folder import require_writable
from gallery.people import permissions as gallery_permissions
from gallery.usage import current_usage, megabytes, quota_bytes

log = logging.getLogger("atrium.zipimport")

MB = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
# Ratios are only judged on entries big enough to matter; tiny text files compress well.
RATIO_MIN_BYTES = 1 * MB
_SYSTEM_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
# A ZIP sent again within this time (same content, album and user) gets the earlier
# import's job and report instead of being imported twice.
SAME_IMPORT_WINDOW = timedelta(hours=1)


class EntryRefused(Exception):
    """An entry that is not extracted, with the reason."""


def limits_from(settings: dict) -> dict:
    return {
        "max_entries": int(settings.get("zip_max_entries", 10_000)),
        "max_total": int(settings.get("zip_max_total_mb", 10_240)) * MB,
        "max_ratio": int(settings.get("zip_max_ratio", 100)),
        "max_file": upload_limit(settings),
    }


def entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why an entry must not be extracted, or None when its name and type are safe."""
    name = info.filename
    if "\x00" in name:
        return "the name contains a NUL character"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute paths are not allowed"
    parts = name.replace("\\", "/").split("/")
    if any(p == ".." for p in parts):
        return "paths with .. are not allowed"
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode:  # Unix attributes
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            return "symbolic links are not allowed"
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            return "device files, pipes and sockets are not allowed"
    if info.flag_bits & 0x1:
        return "encrypted entries are not supported"
    return None


def _is_system_file(parts: list[str]) -> bool:
    return (
        any(p == "__MACOSX" for p in parts)
        or parts[-1].lower() in _SYSTEM_NAMES
        or parts[-1].startswith("._")
    )


def plan(path: Path, limits: dict) -> tuple[list[zipfile.ZipInfo], list[dict]]:
    """Read the central directory: (entries to extract, refused entries). Raises for bombs."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Invalid(f"This is not a readable ZIP file ({exc}).") from None
    with zf:
        infos = zf.infolist()
    if len(infos) > limits["max_entries"]:
        raise TooLarge(
            f"The ZIP has {len(infos)} entries; at most {limits['max_entries']} are allowed."
        )
    total = sum(i.file_size for i in infos if not i.is_dir())
    if total > limits["max_total"]:
        raise TooLarge(
            f"The ZIP unpacks to {total // MB} MB; at most {limits['max_total'] // MB} MB are allowed."
        )
    good, refused = [], []
    for info in infos:
        problem = entry_problem(info)
        if problem is None and not info.is_dir():
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_MIN_BYTES and ratio > limits["max_ratio"]:
                problem = (
                    f"compression ratio {ratio:.0f}:1 is above the limit of "
                    f"{limits['max_ratio']}:1 (a ZIP bomb?)"
                )
            elif info.file_size > limits["max_file"]:
                problem = (
                    f"the file is larger than the upload limit of {limits['max_file'] // MB} MB"
                )
        if problem:
            refused.append({"name": info.filename, "status": "skipped", "reason": problem})
        else:
            good.append(info)
    return good, refused


def extract_entry(path: Path, info: zipfile.ZipInfo, dest: Path, budget: int) -> tuple[int, str]:
    """Extract one entry to `dest`, counting real bytes; returns (size, sha256)."""
    hasher = hashlib.sha256()
    size = 0
    limit = min(info.file_size, budget)
    try:
        with zipfile.ZipFile(path) as zf, zf.open(info) as src, open(dest, "xb") as out:
            while True:
                block = src.read(MB)
                if not block:
                    break
                size += len(block)
                if size > limit:
                    if size > info.file_size:
                        raise EntryRefused("the entry unpacks to more than it declared")
                    raise EntryRefused("the ZIP unpacks to more than the allowed total")
                hasher.update(block)
                out.write(block)
    except BaseException:
        try:
            os.unlink(dest)
        except FileNotFoundError:
            pass
        raise
    return size, hasher.hexdigest()


def _declared_bytes(good: list[zipfile.ZipInfo]) -> int:
    """What the entries that would be stored say they unpack to (system files excluded)."""
    total = 0
    for info in good:
        parts = [p for p in info.filename.replace("\\", "/").split("/") if p and p != "."]
        if not info.is_dir() and parts and not _is_system_file(parts):
            total += info.file_size
    return total


async def check_archive(ctx, zip_path) -> tuple[list[zipfile.ZipInfo], list[dict], dict]:
    """Read the central directory and refuse the whole ZIP before anything is extracted:
    unreadable, a bomb, over the limits, or more than the storage quota has room for
    (judged on the sizes the archive declares; extraction counts real bytes again)."""
    require_writable(ctx, "Importing a ZIP")
    settings = await gallery_settings.get_settings(ctx)
    limits = limits_from(settings)
    good, refused = await asyncio.to_thread(plan, Path(zip_path), limits)
    quota = quota_bytes(ctx)
    if quota:
        declared = _declared_bytes(good)
        free = max(0, quota - await current_usage(ctx))
        if declared > free:
            raise QuotaExceeded(Message(
                "The ZIP unpacks to %(size)s, but only %(free)s of this gallery's storage quota "
                "(%(quota)s) is free; nothing was imported.",
                size=megabytes(declared), free=megabytes(free), quota=megabytes(quota),
            ))
    return good, refused, limits


class EntryLog:
    """What a `zip.import` job did with each entry, kept so that a re-run continues."""

    def __init__(self, ctx, job_id: str):
        self.ctx, self.job_id = ctx, job_id
        self.done: dict[int, dict] = {}

    async def load(self) -> None:
        docs = await self.ctx.db.zip_entries.find({"job_id": self.job_id}).to_list()
        self.done = {d["index"]: d for d in docs}

    async def begin(self, index: int, media_id: str) -> None:
        await self.ctx.db.zip_entries.update_one(
            {"_id": f"{self.job_id}:{index}"},
            {"$set": {"job_id": self.job_id, "index": index, "media_id": media_id,
                      "created": datetime.now(UTC), "version": 1}},
            upsert=True,
        )

    async def end(self, index: int, entry: dict, size: int) -> None:
        await self.ctx.db.zip_entries.update_one(
            {"_id": f"{self.job_id}:{index}"}, {"$set": {"entry": entry, "size": size}}
        )


async def _already_done(ctx, log: EntryLog | None, index: int) -> tuple[dict | None, str]:
    """(the logged outcome of entry `index`, the media id it has or is to get)."""
    logged = log.done.get(index) if log is not None else None
    if logged is None:
        return None, new_id()
    if "entry" in logged:
        return logged["entry"], logged["media_id"]
    # Interrupted: if its media object was made, only the log's last step was lost.
    media = await ctx.db.media.find_one({"_id": logged["media_id"]}, {"album_id": 1})
    if media is not None:
        return {"status": "imported", "media_id": media["_id"], "album_id": media["album_id"]}, ""
    return None, logged["media_id"]


async def import_zip(ctx, services, viewer, user, album: dict, zip_path, *, report=None,
                     log: EntryLog | None = None) -> dict:
    """Import a ZIP into `album`; returns {"album_id", "imported", "skipped", "failed", "entries"}.
    With `log`, entries already done are skipped (a resumed job)."""
    zip_path = Path(zip_path)
    good, refused, limits = await check_archive(ctx, zip_path)
    entries: list[dict] = list(refused)
    cache: dict = {}
    budget = limits["max_total"]
    if log is not None:
        await log.load()
        budget -= sum(int(d.get("size") or 0) for d in log.done.values())
    files = [i for i in good if not i.is_dir()]
    for info in good:  # folders first, so empty folders become albums too
        if info.is_dir():
            parts = [p for p in info.filename.replace("\\", "/").split("/") if p and p != "."]
            if parts and not _is_system_file(parts):
                try:
                    await album_for_folder(ctx, viewer, album, parts, cache)
                except GalleryError as exc:
                    entries.append(
                        {"name": info.filename, "status": "skipped", "reason": exc.message}
                    )
    for index, info in enumerate(files):
        parts = [p for p in info.filename.replace("\\", "/").split("/") if p and p != "."]
        entry = {"name": info.filename}
        entries.append(entry)
        if report is not None:
            await report(index / max(len(files), 1), f"{index} of {len(files)} files")
        if not parts or _is_system_file(parts):
            entry.update(status="skipped", reason="system or metadata file")
            continue
        done, media_id = await _already_done(ctx, log, index)
        if done is not None:
            entry.update(done)
            continue
        size = 0
        try:
            target = await album_for_folder(ctx, viewer, album, parts[:-1], cache)
            gallery_permissions.require(viewer, "add_media", target, hide=False)
            tmp = ctx.storage.temp_path(".zipentry")
            size, sha256 = await asyncio.to_thread(extract_entry, zip_path, info, tmp, budget)
            budget -= size
            if log is not None:
                await log.begin(index, media_id)
            media = await ingest_file(
                ctx,
                services,
                user,
                target,
                tmp,
                PurePosixPath(parts[-1]).name,
                size=size,
                sha256=sha256,
                media_id=media_id,
            )
        except EntryRefused as exc:
            entry.update(status="failed", reason=str(exc))
        except GalleryError as exc:
            status = "skipped" if exc.status in (409, 415) else "failed"
            entry.update(status=status, reason=exc.message)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            entry.update(status="failed", reason=f"the entry could not be read ({exc})")
        else:
            entry.update(status="imported", media_id=media["_id"], album_id=target["_id"])
        if log is not None:
            await log.end(index, {k: v for k, v in entry.items() if k != "name"}, size)
            await failpoints.reached("zipimport.entry")
    counts = {
        s: sum(1 for e in entries if e["status"] == s) for s in ("imported", "skipped", "failed")
    }
    return {"album_id": album["_id"], **counts, "entries": entries}


async def enqueue_import(ctx, queue, user: dict, album: dict, zip_path, *, sha256: str,
                         name: str = "", hold: bool = False) -> str:
    """Hand a stored ZIP (in tmp/) to the `zip.import` job; returns the job id. The ZIP is
    checked first (limits, bombs, quota), so a refusal is immediate; the job removes it.
    The same ZIP again (see the module's docstring) returns the earlier job, and this copy
    is removed. `hold`: the caller runs the job itself (JobRunner.run_now)."""
    zip_path = Path(zip_path)
    earlier = await queue.jobs.find_one({
        "tenant": ctx.slug, "kind": "zip.import", "payload.zip_sha256": sha256,
        "payload.album_id": album["_id"], "payload.user_id": user["_id"],
        "state": {"$in": ["queued", "running", "done"]},
        "created": {"$gte": datetime.now(UTC) - SAME_IMPORT_WINDOW},
    })
    if earlier is not None:
        await asyncio.to_thread(_unlink, zip_path)
        return earlier["_id"]
    await check_archive(ctx, zip_path)
    temp_name = zip_path.relative_to(ctx.storage.tmp).as_posix()
    return await queue.enqueue(
        ctx.slug,
        "zip.import",
        {
            "album_id": album["_id"],
            "user_id": user["_id"],
            "requested_by": user["_id"],
            "temp_name": temp_name,
            "zip_sha256": sha256,
            "file_name": name[:500],
        },
        hold=hold,
    )


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except (FileNotFoundError, IsADirectoryError):
        pass


async def run_import_job(job) -> dict:
    """Job `zip.import` {album_id, user_id, temp_name}: the ZIP lies in tmp/ and is removed after."""
    from jobs.queue import JobFailed

    ctx = job.tenant
    payload = job.payload
    path = ctx.storage.resolve("tmp/" + str(payload.get("temp_name", "")))
    user = await ctx.db.users.find_one({"_id": payload.get("user_id")})
    album = await ctx.db.albums.find_one({"_id": payload.get("album_id")})
    try:
        if album is None or user is None:
            raise JobFailed("The album or the user no longer exists.")
        if not await asyncio.to_thread(path.is_file):
            if job.job.get("result"):  # killed after the import, before the job's end
                return job.job["result"]
            raise JobFailed("The ZIP file is gone (its import was interrupted too often).")
        settings = await gallery_settings.get_settings(ctx)
        viewer = await gallery_permissions.viewer_for(ctx, user, settings)
        try:
            gallery_permissions.require(viewer, "add_media", album)
            result = await import_zip(ctx, job.services, viewer, user, album, path,
                                      report=job.report, log=EntryLog(ctx, job.job["_id"]))
        except (GalleryError, NotFound) as exc:
            raise JobFailed(exc.message) from None
    except JobFailed:
        await asyncio.to_thread(_unlink, path)
        raise
    # Kept on any other error: the queue retries the job, which continues from its log
    # (the tmp/ sweep removes the ZIP once no queued or running job names it). The report
    # is stored before the ZIP goes, so a re-run after a kill right here still has it.
    await job.queue.jobs.update_one({"_id": job.job["_id"]}, {"$set": {"result": result}})
    await asyncio.to_thread(_unlink, path)
    await failpoints.reached("zipimport.finished")
    return result


def _register() -> None:
    try:
        from jobs.queue import register
    except ImportError:  # pragma: no cover
        return
    register("zip.import", run_import_job)


_register()
