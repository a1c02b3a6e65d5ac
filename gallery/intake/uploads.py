"""Streaming files to tmp/ while hashing, and the records of resumable (tus) uploads.

`HashingWriter` takes bytes from the event loop and writes + hashes them in a worker thread,
one block at a time, so a multi-GB upload costs two 1 MB buffers of memory and the loop
never blocks on the disk.

A tus upload is a document in the tenant's `uploads` collection:
`_id, version, user_id, album_id, file_name, length, offset, temp_name, state
(uploading|completing|done|failed), media_id, failure, created, updated, expires`.
`offset` is only ever advanced to bytes that have reached the temp file, so after a dropped
connection or a killed process the file is truncated back to it and the upload resumes.

Completion is recoverable: the record turns `completing` with the media id chosen in
advance and the process that completes it (`completing_by`) before the file is ingested,
and `done` after. A record left `completing` by a process that died is settled by the next
request that reads it (`settle_upload`): done if that media object exists, else ingested
again from the temp file, else failed with a reason. So HEAD and a repeated last PATCH
always learn the media id, and a retry never makes a second media object.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gallery import failpoints
from gallery import settings as gallery_settings
from gallery.errors import Conflict, GalleryError, NotFound
from gallery.ids import new_id
from gallery.intake import ingest
from gallery.library import album_paths
from gallery.media_folder import require_writable
from gallery.people import permissions as gallery_permissions
from storage import instance

UPLOAD_VERSION = 1
BLOCK = 1024 * 1024
DEFAULT_EXPIRE_HOURS = 24
# A completion held by a process on another host (whose liveness cannot be seen from
# here) is taken over after this long; ingesting a complete file takes seconds.
COMPLETION_MINUTES = 10
INTERRUPTED = "The upload was interrupted while it was being stored; upload the file again."

# Hash state of uploads this process is receiving: {upload id: (offset, hasher)}. A resume
# on the same process continues the hash; anywhere else it re-reads the prefix once.
_HASHERS: dict[str, tuple[int, object]] = {}
_LOCKS: dict[str, asyncio.Lock] = {}


class StorageFailed(GalleryError):
    status = 507
    code = "insufficient_storage"


class HashingWriter:
    """Append to a file off the event loop, hashing on the way; at most one write in flight."""

    def __init__(self, path: Path, *, hasher=None, offset: int = 0, block: int = BLOCK):
        self.path = Path(path)
        self.hasher = hasher or hashlib.sha256()
        self.block = block
        self.received = offset  # bytes given to write()
        self.written = offset  # bytes that reached the file
        self._buffer = bytearray()
        self._pending: asyncio.Future | None = None
        self._fd: int | None = None

    async def open(self, *, create: bool) -> None:
        flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT | os.O_EXCL if create else 0)
        self._fd = await asyncio.to_thread(os.open, self.path, flags, 0o600)

    def _write(self, data: bytes) -> None:
        self.hasher.update(data)
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self.written += len(data)

    async def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            try:
                await pending
            except OSError as exc:
                raise StorageFailed(f"The file could not be stored ({exc.strerror}).") from None

    async def write(self, data: bytes) -> None:
        self._buffer += data
        self.received += len(data)
        if len(self._buffer) >= self.block:
            await self._submit()

    async def _submit(self) -> None:
        await self._wait()
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            self._pending = asyncio.ensure_future(asyncio.to_thread(self._write, data))

    async def flush(self) -> None:
        """Write everything received so far; afterwards `written == received`."""
        await self._submit()
        await self._wait()

    async def close(self) -> tuple[int, str]:
        """Flush and close; returns (size, sha256 hex)."""
        try:
            await self.flush()
        finally:
            await self._close_fd()
        return self.written, self.hasher.hexdigest()

    async def _close_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            await asyncio.to_thread(os.close, fd)

    async def discard(self) -> None:
        """Stop and delete the file."""
        self._buffer.clear()
        try:
            await self._wait()
        except GalleryError:
            pass
        await self._close_fd()
        await asyncio.to_thread(_unlink, self.path)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- tus upload records -------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


def temp_file(ctx, record: dict) -> Path:
    return ctx.storage.resolve("tmp/" + record["temp_name"])


async def create_upload(
    ctx,
    user: dict,
    album: dict,
    file_name: str,
    length: int,
    expire_hours: int = DEFAULT_EXPIRE_HOURS,
    folder: list[str] | None = None,
) -> dict:
    """Make the record and an empty temp file for a new resumable upload (`folder`: the
    levels of the album below `album` it goes into, gallery.library.album_paths)."""
    require_writable(ctx, "Uploading")
    now = _now()
    upload_id = new_id()
    record = {
        "_id": upload_id,
        "version": UPLOAD_VERSION,
        "user_id": user["_id"],
        "album_id": album["_id"],
        "file_name": file_name,
        "folder": list(folder or []),
        "length": int(length),
        "offset": 0,
        "temp_name": f"tus-{upload_id}",
        "state": "uploading",
        "attempt": 0,
        "media_id": None,
        "failure": None,
        "created": now,
        "updated": now,
        "expires": now + timedelta(hours=expire_hours),
    }
    path = temp_file(ctx, record)
    await asyncio.to_thread(path.touch, 0o600, False)
    try:
        await ctx.db.uploads.insert_one(record)
    except BaseException:
        await asyncio.to_thread(_unlink, path)
        raise
    return record


async def get_upload(ctx, user: dict | None, upload_id: str) -> dict | None:
    """The upload if it belongs to this user (in this tenant) and has not expired."""
    if user is None:
        return None
    record = await ctx.db.uploads.find_one({"_id": upload_id, "user_id": user["_id"]})
    if record is None:
        return None
    if record["state"] == "uploading" and _aware(record["expires"]) < _now():
        await remove_upload(ctx, record)
        return None
    return record


def _aware(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


async def save_offset(
    ctx, record: dict, offset: int, expire_hours: int = DEFAULT_EXPIRE_HOURS
) -> None:
    now = _now()
    await ctx.db.uploads.update_one(
        {"_id": record["_id"], "state": "uploading"},
        {
            "$set": {
                "offset": int(offset),
                "updated": now,
                "expires": now + timedelta(hours=expire_hours),
            }
        },
    )
    record["offset"] = int(offset)


async def finish_upload(
    ctx, record: dict, *, media_id: str | None = None, failure: str | None = None
) -> None:
    state = "done" if media_id else "failed"
    await ctx.db.uploads.update_one(
        {"_id": record["_id"]},
        {"$set": {"state": state, "media_id": media_id, "failure": failure, "updated": _now()}},
    )
    record.update(state=state, media_id=media_id, failure=failure)
    _HASHERS.pop(record["_id"], None)


async def remove_upload(ctx, record: dict) -> None:
    """Terminate: delete the bytes and the record."""
    await asyncio.to_thread(_unlink, temp_file(ctx, record))
    await ctx.db.uploads.delete_one({"_id": record["_id"]})
    _HASHERS.pop(record["_id"], None)


async def expire_uploads(ctx) -> int:
    """Remove unfinished uploads past their expiry (and old finished records); returns how many."""
    now = _now()
    expired = await ctx.db.uploads.find(
        {
            "$or": [
                {"state": "uploading", "expires": {"$lt": now}},
                {"state": {"$in": ["done", "failed"]}, "updated": {"$lt": now - timedelta(days=7)}},
            ]
        }
    ).to_list()
    for record in expired:
        if not lock_for(record["_id"]).locked():
            await remove_upload(ctx, record)
    return len(expired)


def lock_for(upload_id: str) -> asyncio.Lock:
    """One writer per upload in this process (others see the stored offset and get 409)."""
    lock = _LOCKS.get(upload_id)
    if lock is None:
        lock = _LOCKS[upload_id] = asyncio.Lock()
    return lock


def release_lock(upload_id: str) -> None:
    lock = _LOCKS.get(upload_id)
    if lock is not None and lock.locked():
        lock.release()
    if lock is not None and not lock.locked():
        _LOCKS.pop(upload_id, None)


def _truncate_and_hash(path: Path, offset: int):
    """Cut the file back to the persisted offset and hash what stays."""
    hasher = hashlib.sha256()
    with open(path, "r+b") as fh:
        fh.truncate(offset)
        remaining = offset
        while remaining:
            data = fh.read(min(4 * BLOCK, remaining))
            if not data:
                break
            hasher.update(data)
            remaining -= len(data)
    return hasher


async def resume_writer(ctx, record: dict) -> HashingWriter:
    """A writer appending at the record's offset (bytes past it, from a lost request, are cut)."""
    path = temp_file(ctx, record)
    offset = int(record["offset"])
    cached = _HASHERS.pop(record["_id"], None)
    try:
        if cached is not None and cached[0] == offset:
            await asyncio.to_thread(os.truncate, path, offset)
            hasher = cached[1]
        else:
            hasher = await asyncio.to_thread(_truncate_and_hash, path, offset)
    except FileNotFoundError:
        # The bytes are gone (an upload of an older version stranded mid-completion):
        # the upload cannot go on, and the client must be told so, not given a 500.
        await finish_upload(ctx, record, failure=INTERRUPTED)
        raise Conflict(INTERRUPTED) from None
    writer = HashingWriter(path, hasher=hasher, offset=offset)
    await writer.open(create=False)
    return writer


def remember_hash(record: dict, writer: HashingWriter) -> None:
    _HASHERS[record["_id"]] = (writer.written, writer.hasher)


# -- completion ----------------------------------------------------------------------------
async def complete_upload(ctx, services, user: dict, record: dict, path: Path, *,
                          size: int, sha256: str) -> dict:
    """Turn the complete temp file into the upload's media object; returns it. The caller
    holds `lock_for(record)`. Raises GalleryError (the record is then `failed`)."""
    media_id = record.get("media_id") or new_id()
    claimed = await ctx.db.uploads.update_one(
        {"_id": record["_id"], "state": record["state"],
         # whoever moves `attempt` first completes it (records made before it existed
         # have none)
         "attempt": record.get("attempt", {"$exists": False})},
        {"$set": {"state": "completing", "media_id": media_id,
                  "completing_by": instance.current(), "updated": _now()},
         "$inc": {"attempt": 1}},
    )
    if claimed.modified_count != 1:
        raise Conflict("This upload is being completed by another request; ask HEAD for its state.")
    record.update(state="completing", media_id=media_id, attempt=record.get("attempt", 0) + 1)
    try:
        album = await ctx.db.albums.find_one({"_id": record["album_id"]})
        if album is None:
            raise NotFound("The album of this upload no longer exists.")
        if record.get("folder"):
            settings = await gallery_settings.get_settings(ctx)
            viewer = await gallery_permissions.viewer_for(ctx, user, settings)
            album = await album_paths.album_for_folder(ctx, viewer, album, record["folder"])
        media = await ingest.ingest_file(
            ctx, services, user, album, path, record["file_name"],
            size=size, sha256=sha256, media_id=media_id,
        )
    except GalleryError as exc:
        await finish_upload(ctx, record, failure=exc.message)
        raise
    await failpoints.reached("tus.ingested")
    await finish_upload(ctx, record, media_id=media["_id"])
    return media


def _abandoned(record: dict) -> bool:
    """Whether the process completing this upload stopped before it finished."""
    holder = record.get("completing_by", "")
    if holder == instance.current():
        return not lock_for(record["_id"]).locked()  # ours, and no request is on it
    if instance.is_gone(holder):
        return True
    return _aware(record["updated"]) < _now() - timedelta(minutes=COMPLETION_MINUTES)


async def settle_upload(ctx, services, record: dict) -> dict:
    """Finish what a stopped process left `completing` (see the module's docstring)."""
    if record["state"] != "completing" or not _abandoned(record):
        return record
    lock = lock_for(record["_id"])
    if lock.locked():
        return record
    async with lock:
        try:
            if await ctx.db.media.find_one({"_id": record["media_id"]}, {"_id": 1}):
                # The media object (and its job: gallery.intake.ingest) were made; only the
                # record's last step was lost.
                await finish_upload(ctx, record, media_id=record["media_id"])
                return record
            path = temp_file(ctx, record)
            size = await asyncio.to_thread(_size, path)
            user = await ctx.db.users.find_one({"_id": record["user_id"]})
            if size != record["length"] or user is None:
                await finish_upload(ctx, record, failure=INTERRUPTED)
                return record
            hasher = await asyncio.to_thread(_truncate_and_hash, path, size)
            await complete_upload(ctx, services, user, record, path,
                                  size=size, sha256=hasher.hexdigest())
        except GalleryError:
            pass  # recorded on the upload as its failure
    return record


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return -1


async def run_expire_job(job) -> dict:
    """Job `uploads.expire`: sweep one tenant's expired uploads (creation also sweeps lazily)."""
    return {"removed": await expire_uploads(job.tenant)}


def _register() -> None:
    from jobs.queue import register

    register("uploads.expire", run_expire_job)


_register()
