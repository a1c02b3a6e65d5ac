"""Processing jobs: derivatives and metadata of media objects, run by the job workers.

"media.process" {"media_id", optional "rotate", "flip"} makes the derivatives of one
media object; "media.regenerate" {"album_id" or nothing} remakes them for an album's
subtree or the whole gallery, reporting progress. Decoding happens in the process pool
(services.pool), never on the event loop. A media object never stays pending forever: a
failure the job cannot retry marks it failed at once, and a failure hook marks it failed
when its job has used up its retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from datetime import UTC, datetime

from gallery.library import tagcounts
from gallery.library.albums import contains
from gallery.library.ratings import file_rating, refresh_average
from gallery.library.search import keys_after_update
from gallery.library.tags import tag_fields
from gallery.library.transforms import transform_arguments
from gallery.processing import transcoding as _transcoding  # noqa: F401  (registers media.transcode)
from gallery.processing.derivatives import _derivative, _in_pool, image_specs
from gallery.processing.originals import apply_intake
from gallery.settings import get_settings
from jobs import queue as jobs
from jobs.queue import JobContext, JobFailed
from media.dates import taken_fields
from media.errors import clip
from media.sniff import RAW_MIMES

log = logging.getLogger("atrium.processing")

# -- the work --------------------------------------------------------------------------------------


async def _mark_failed(ctx, media_id: str, reason: str, job_id=None) -> None:
    # Logged with the media id: the reason on the media object is what its viewers see,
    # the log line is how an operator finds which file of which gallery failed.
    log.warning("media %s of %s failed (job %s): %s", media_id, ctx.slug, job_id, reason)
    await ctx.db.media.update_one(
        {"_id": media_id},
        {"$set": {"state": "failed", "failure": clip(reason, 1000), "updated": datetime.now(UTC)}},
    )


async def process_one(
    ctx, services, media: dict, *, rotate: int | None = None, flip: str | None = None
) -> dict:
    """Make the derivatives (and read the metadata) of one media object; return its update.

    Raises media.errors.MediaError for a file that cannot be processed.
    """
    from media.images import make_image_derivatives
    from media.metadata import read_image_metadata

    settings = await get_settings(ctx)
    src = ctx.storage.resolve((media.get("original") or {}).get("path") or "")
    if not await asyncio.to_thread(src.is_file):
        raise JobFailed("The original file is missing.")
    out_dir = ctx.storage.derivatives / media["_id"]
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    fmt = settings.get("derivative_format", "jpeg")
    update: dict = {"state": "ready", "failure": None, "updated": datetime.now(UTC)}
    if media.get("kind") == "image":
        if rotate is None and flip is None:
            args = transform_arguments(media.get("transform"))
        else:
            args = {"rotate": int(rotate or 0) % 360, "flip": flip}
        thumb, optimized = image_specs(settings)
        # GSP's OptimizedImageTriggerSizeKb: a heavy file gets a lighter copy for the web
        # even when its pixels already fit the optimized size (0: by pixels only).
        trigger_kb = int(settings.get("optimized_trigger_kb") or 0)
        size = int((media.get("original") or {}).get("size") or 0)
        heavy = bool(trigger_kb) and size > trigger_kb * 1024
        raw = media.get("mime") in RAW_MIMES
        if raw:  # camera RAW: derivatives from its preview or a decode (media/raw.py)
            made, metadata = await _raw_derivatives(services, src, out_dir, thumb, optimized, args)
        else:
            made = await _in_pool(
                services, make_image_derivatives, str(src), str(out_dir), thumb, optimized,
                always_optimize=heavy, **args,
            )
            metadata = await _in_pool(services, read_image_metadata, str(src))
        derivatives = {
            "thumbnail": _derivative(
                media["_id"],
                made.thumbnail_path,
                made.thumbnail_width,
                made.thumbnail_height,
                fmt,
            )
        }
        opt = _derivative(
            media["_id"], made.optimized_path, made.optimized_width, made.optimized_height, fmt
        )
        if opt:
            derivatives["optimized"] = opt
        update.update(
            derivatives=derivatives,
            # A RAW's size is its sensor's (upright), not its preview's.
            width=metadata.camera.width if raw else made.width,
            height=metadata.camera.height if raw else made.height,
            metadata=metadata.to_dict(),
        )
        # Uploads without a title get the file's name as one: metadata may replace that.
        stem = (media.get("file_name") or "").rsplit(".", 1)[0]
        if media.get("title") in (None, "", stem) and metadata.title:
            update["title"] = metadata.title[:200]
        if not media.get("caption") and metadata.caption:
            update["caption"] = metadata.caption[:10_000]
        if not media.get("tags") and metadata.keywords:
            update.update(tag_fields(metadata.keywords))
        # The file's date on every run (a replaced file brings its own); a file without
        # one leaves the stored date alone. See media/dates.py.
        update.update(taken_fields(metadata.date_taken))
        # The file's own xmp:Rating seeds the stars unless an import brought one (ratings.py).
        if file_rating(metadata.xmp.rating) and not file_rating(media.get("rating")):
            update["rating"] = int(metadata.xmp.rating)
            if not media.get("rating_count"):  # shown with the item once it is ready
                update["rating_avg"] = float(update["rating"])
        # A new original: the intake settings may re-encode it or keep the copy instead (once).
        await apply_intake(ctx, services, media, settings, made, update)
    else:
        from gallery.processing.av import process_av

        update.update(await process_av(ctx, services, media, src, out_dir, settings))
    return update


async def _raw_derivatives(services, src, out_dir, thumb, optimized, transform: dict):
    """(derivatives, metadata) of a camera RAW: a JPEG of it first (the camera's preview or
    a LibRaw decode, in the pool), then the usual derivatives from that JPEG."""
    from media.images import make_image_derivatives
    from media.raw import make_raw_preview, read_raw_metadata

    preview = out_dir / "raw-preview.jpg"
    try:
        await _in_pool(services, make_raw_preview, str(src), str(preview), optimized.max_side)
        made = await _in_pool(
            services, make_image_derivatives, str(preview), str(out_dir), thumb, optimized,
            always_optimize=True, **transform,
        )
    finally:
        await asyncio.to_thread(preview.unlink, True)
    return made, await _in_pool(services, read_raw_metadata, str(src))


class Superseded(Exception):
    """The media object's file was replaced while it was processed: the work is for nobody."""


def _same_file(media: dict) -> dict:
    # content_hash is the hash of the file as it came in (the intake settings' rewrite of an
    # original keeps it), so it changes exactly when a replacement brings another file.
    return {"content_hash": media.get("content_hash")}


async def _superseded(ctx, media: dict) -> bool:
    now = await ctx.db.media.find_one({"_id": media["_id"]}, {"content_hash": 1})
    return now is not None and now.get("content_hash") != media.get("content_hash")


async def _store(ctx, media_id: str, update: dict, media: dict | None = None) -> bool:
    """Write a processing's result; False when the media object was deleted meanwhile.
    Given the record as the processing read it, raises Superseded when its file was replaced
    since: the replacement's own job makes the new file's derivatives."""
    update.update(await keys_after_update(ctx, media_id, update))  # metadata becomes searchable
    await tagcounts.before_store(ctx, media_id, update)  # keywords that became tags are counted
    query = {"_id": media_id, **(_same_file(media) if media is not None else {})}
    result = await ctx.db.media.update_one(query, {"$set": update})
    if result.matched_count == 0:
        if media is not None and await _superseded(ctx, media):
            raise Superseded(media_id)
        # Deleted while we worked: leave nothing behind.
        await asyncio.to_thread(shutil.rmtree, ctx.storage.derivatives / media_id, True)
        return False
    return True


async def _after_superseded(ctx, queue, media_id: str) -> dict:
    # Files this run wrote may have landed over the newer run's (same names): one more
    # processing of the current file puts the right ones back.
    from gallery.library.media import enqueue_processing

    log.info("media %s of %s was replaced while it was processed; processing it again", media_id, ctx.slug)
    return {"media_id": media_id, "state": "superseded",
            "next_job": await enqueue_processing(ctx, queue, media_id)}


@jobs.register("media.process")
async def process_media(job: JobContext) -> dict:
    from media.errors import MediaError

    ctx = job.tenant
    media_id = job.payload.get("media_id")
    media = await ctx.db.media.find_one({"_id": media_id})
    if media is None:
        return {"skipped": "the media object no longer exists"}
    try:
        update = await process_one(
            ctx, job.services, media, rotate=job.payload.get("rotate"), flip=job.payload.get("flip")
        )
        stored = await _store(ctx, media_id, update, media)
    except Superseded:
        return await _after_superseded(ctx, job.queue, media_id)
    except Exception as exc:
        # A replacement removes the old file and derivatives under a running processing.
        if await _superseded(ctx, media):
            return await _after_superseded(ctx, job.queue, media_id)
        if isinstance(exc, MediaError):
            await _mark_failed(ctx, media_id, exc.reason, job.job.get("_id"))
            raise JobFailed(exc.reason) from exc
        if isinstance(exc, JobFailed):
            await _mark_failed(ctx, media_id, str(exc), job.job.get("_id"))
        raise
    if stored and "rating" in update:
        await refresh_average(ctx, media_id)  # guarded against members' parallel votes
    result = {"media_id": media_id, "state": "ready" if stored else "deleted"}
    if stored and (update.get("transcode") or {}).get("state") == "pending":
        from gallery.processing.transcoding import enqueue_transcode

        result["transcode_job"] = await enqueue_transcode(ctx, job.queue, media_id)
    return result


@jobs.register("media.regenerate")
async def regenerate(job: JobContext) -> dict:
    """Remake derivatives for an album's subtree or the whole gallery, with progress."""
    from media.errors import MediaError

    ctx = job.tenant
    album_id = job.payload.get("album_id")
    query = contains("album_path", album_id) if album_id else {}
    if job.payload.get("pending_only"):
        # An import's new media only: its external media and records of missing files have
        # nothing to make (processing them would mark them failed).
        query = {**query, "state": "pending"}
    total = await ctx.db.media.count_documents(query)
    done = failed = 0
    last_id = ""
    await job.report(0.0, f"0 of {total}", force=True)
    while True:
        batch = (
            await ctx.db.media.find({**query, "_id": {"$gt": last_id}})
            .sort("_id", 1)
            .limit(50)
            .to_list()
        )
        if not batch:
            break
        for media in batch:
            last_id = media["_id"]
            job.check_cancelled()
            try:
                update = await process_one(ctx, job.services, media)
                if await _store(ctx, media["_id"], update, media) and (
                    (update.get("transcode") or {}).get("state") == "pending"
                ):
                    from gallery.processing.transcoding import enqueue_transcode

                    await enqueue_transcode(ctx, job.queue, media["_id"])
            except Superseded:
                await _after_superseded(ctx, job.queue, media["_id"])
            except (MediaError, JobFailed) as exc:
                if await _superseded(ctx, media):  # replaced under this run
                    await _after_superseded(ctx, job.queue, media["_id"])
                else:
                    failed += 1
                    reason = getattr(exc, "reason", None) or str(exc)
                    await _mark_failed(ctx, media["_id"], reason, job.job.get("_id"))
            done += 1
            await job.report(done / max(total, 1), f"{done} of {total}")
    return {"processed": done, "failed": failed}


async def _media_failed(job: JobContext, reason: str) -> None:
    """A media.process job failed for good: its media object must not stay pending."""
    if job.job.get("kind") != "media.process":
        return
    media_id = job.payload.get("media_id")
    if media_id:
        log.warning(
            "media %s of %s: processing job %s gave up: %s",
            media_id, job.tenant.slug, job.job.get("_id"), reason,
        )
        with contextlib.suppress(Exception):
            await job.tenant.db.media.update_one(
                {"_id": media_id, "state": "pending"},
                {
                    "$set": {
                        "state": "failed",
                        "failure": clip(f"Processing failed: {reason}", 1000),
                        "updated": datetime.now(UTC),
                    }
                },
            )


if _media_failed not in jobs.FAILURE_HOOKS:
    jobs.FAILURE_HOOKS.append(_media_failed)
