"""Getting a file into an album: type by content, limits, a clean name, an atomic move, a record.

Every way in (browser upload, tus, ZIP import, synchronization) ends here with a complete
file under `tmp/` and its size and SHA-256. `ingest_file` either moves that file into
`originals/<album dirpath>/` and inserts a pending media object, or deletes it and raises:
the temp file is always consumed, so callers never leak bytes in `tmp/`.

The media object and its `media.process` job are made together: the job is enqueued held
before the record is inserted and released after, so a process killed in between leaves a
job that still runs (when the hold lapses, or at once when the service restarts on this
host), never a pending media object that nobody will process.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gallery import failpoints, i18n
from gallery import settings as gallery_settings
from gallery.errors import Invalid, TooLarge, Unsupported
from gallery.i18n import Message
from gallery.ids import new_id
from gallery.intake.duplicates import claim_content, release_claim
from gallery.intake.filetypes import accepted_type
from gallery.library import tagcounts
from gallery.library.albums import album_dir
from gallery.library.filenames import clean_file_name, place_file
from gallery.library.media import MEDIA_VERSION, media_document, next_position
from gallery.library.tags import clean_tags
from gallery.media_folder import require_writable
from gallery.usage import add_usage, check_quota, current_usage, megabytes, quota_bytes, reserve
from jobs.queue import JobQueue
from media.errors import MediaError
from media.sniff import Sniffed, sniff

# Re-exported: callers and tests reach the quota and naming rules through ingest.
__all__ = [
    "MEDIA_VERSION",
    "add_usage",
    "check_quota",
    "clean_file_name",
    "current_usage",
    "ingest_file",
    "quota_bytes",
]

log = logging.getLogger("atrium.ingest")


def upload_limit(settings: dict) -> int:
    """The largest file one upload may carry, in bytes."""
    return int(settings.get("max_upload_mb", 2048)) * 1024 * 1024


def check_size(settings: dict, size: int) -> None:
    limit = upload_limit(settings)
    if size > limit:
        raise TooLarge(Message(
            "The file is %(size)s; this gallery accepts files of at most %(limit)s.",
            size=megabytes(size), limit=megabytes(limit),
        ))


def job_queue(services) -> JobQueue:
    """The job queue; a web-only process (no workers here) still queues jobs for others."""
    if services.jobs is not None:
        return services.jobs.queue
    config = services.config
    return JobQueue(services.host_db, config.jobs.lease_seconds, config.jobs.max_attempts)


async def hold_processing(ctx, queue: JobQueue, media_id: str) -> str:
    """A held `media.process` job for a media object about to be inserted (see above); one
    per media id, so a re-run of an interrupted import reuses the one it left."""
    return await queue.enqueue(
        ctx.slug, "media.process", {"media_id": media_id},
        dedupe=f"media.process:{media_id}", hold=True,
    )


# A media object pending this long with no unfinished job was stranded (below).
STRANDED_AFTER = timedelta(hours=1)


async def requeue_stranded(ctx, queue: JobQueue, *, older_than: timedelta = STRANDED_AFTER) -> int:
    """Queue processing for media left `pending` with no queued or running job: made by a
    version that queued the job after inserting the record, or a rotate or file replace
    whose process died between its update and its job. Returns how many were queued.
    Part of the periodic upkeep (server/maintenance.py)."""
    cutoff = datetime.now(UTC) - older_than
    queued = 0
    for media in await ctx.db.media.find(
        {"state": "pending", "updated": {"$lt": cutoff}}, {"_id": 1}
    ).to_list():
        busy = await queue.jobs.find_one(
            {"tenant": ctx.slug, "state": {"$in": ["queued", "running"]},
             "kind": "media.process", "payload.media_id": media["_id"]},
            {"_id": 1},
        )
        if busy is None:
            await queue.enqueue(ctx.slug, "media.process", {"media_id": media["_id"]},
                                dedupe=f"media.process:{media['_id']}")
            log.warning("media %s was pending with no processing job; queued it", media["_id"])
            queued += 1
    return queued


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- ingest -------------------------------------------------------------------------------
async def sniff_file(path) -> Sniffed:
    try:
        return await asyncio.to_thread(sniff, path)
    except MediaError as exc:
        raise Unsupported(i18n.reason(exc)) from None


async def ingest_file(
    ctx,
    services,
    viewer_user,
    album,
    tmp_path,
    original_name,
    *,
    size,
    sha256,
    title=None,
    caption=None,
    tags=None,
    media_id=None,
) -> dict:
    """Turn a complete temp file into a pending media object of `album`; returns its document.

    `media_id` is the id to give it, chosen (and recorded) beforehand by callers that must
    find the result after a crash (tus completion, ZIP entries). The caller has checked
    permissions. Raises Invalid (empty), Unsupported (type not
    allowed; the message names the detected type), TooLarge (size or quota) or Conflict
    (the same content is in the album, or the gallery, by the `duplicates` setting:
    gallery.intake.duplicates). The temp file is consumed.
    """
    tmp_path = Path(tmp_path)
    reserved = 0
    claim = None
    try:
        require_writable(ctx, "Adding files")
        settings = await gallery_settings.get_settings(ctx)
        if size == 0:
            raise Invalid("This file is empty.")
        check_size(settings, size)
        tag_list = clean_tags(tags)
        sniffed = await accepted_type(await sniff_file(tmp_path), tmp_path, original_name, settings)
        claim = await claim_content(ctx, album, sha256, settings.get("duplicates") or "skip")
        await reserve(ctx, size)
        reserved = size
        name = clean_file_name(original_name, sniffed.extension)
        placed = await asyncio.to_thread(place_file, tmp_path, album_dir(ctx, album), name)
        relative = placed.relative_to(ctx.storage.path.resolve()).as_posix()
    except BaseException:
        await asyncio.to_thread(_unlink, tmp_path)
        if reserved:
            await add_usage(ctx, -reserved)
        await release_claim(ctx, claim)
        raise
    queue = job_queue(services) if services is not None else None
    job_id = None
    try:
        doc = media_document(
            album,
            kind=sniffed.kind,
            mime=sniffed.mime,
            extension=sniffed.extension,
            file_name=placed.name,
            original_path=relative,
            size=size,
            sha256=sha256,
            owner_id=viewer_user["_id"] if viewer_user else None,
            title=(title or "").strip()[:500] or placed.name.rsplit(".", 1)[0],
            caption=(caption or "")[:10_000],
            tags=tag_list,
            position=await next_position(ctx, album["_id"]),
            fresh=True,
        )
        doc["_id"] = media_id or new_id()
        if queue is not None:
            job_id = await hold_processing(ctx, queue, doc["_id"])
        await ctx.db.media.insert_one(doc)
        await tagcounts.media_added(ctx, doc)
    except BaseException:
        await asyncio.to_thread(_unlink, placed)
        await add_usage(ctx, -size)
        if job_id is not None:  # a held job for no record: it would only find nothing
            await queue.jobs.delete_one({"_id": job_id, "state": "queued"})
        raise
    finally:
        # Recorded (the next upload of this content finds the media object) or undone.
        await release_claim(ctx, claim)
    await failpoints.reached("ingest.recorded")
    if job_id is not None:
        try:
            await queue.release(job_id)
        except Exception:  # the hold lapses on its own: processing is late, not lost
            log.exception("could not release processing of media %s", doc["_id"])
    return doc
