"""The `media.transcode` job: a browser-playable web copy of a video or audio file.

Runs in the job group "transcode", so at most `limits.transcodes` run at once in a
process; ffmpeg runs under `nice -n 19`. The encoder settings are the tenant's (see
gallery.processing.av.encoder_profile). Progress read from ffmpeg's `-progress` output
goes to the job (GET /api/v1/jobs/<id>) and to the media object's `transcode` field
({state: pending|running|ready|failed|cancelled, progress, job_id, error, reasons}),
which the media page polls.

The copy is written to `derivatives/<id>/web.<ext>.part.<ext>` and renamed to
`web.<ext>` only when ffmpeg finished (media.tools.partial_output); only then is
`derivatives.web` set, so a half-written copy is never served. A worker killed
mid-transcode leaves its job `running` with a lease that runs out; another worker
claims it again, removes the leftover partial file and starts over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path

from gallery.processing.av import encoder_profile, web_copy_plan
from gallery.settings import get_settings
from jobs import queue as jobs
from jobs.queue import JobCancelled, JobContext, JobFailed

log = logging.getLogger("atrium.transcoding")

#: How often progress is written to the job and the media object (seconds).
REPORT_SECONDS = 0.5
#: ffmpeg's niceness: the lowest priority, so page requests (nice 0) take the CPU first
#: while an idle machine still gives the transcode every core.
TRANSCODE_NICE = 19


async def enqueue_transcode(ctx, queue, media_id: str) -> str:
    """Queue the web copy of a media object (one unfinished job per media object)."""
    job_id = await queue.enqueue(
        ctx.slug, "media.transcode", {"media_id": media_id}, dedupe=f"transcode:{media_id}"
    )
    await ctx.db.media.update_one(
        {"_id": media_id},
        {"$set": {"transcode.job_id": job_id, "transcode.state": "pending"}},
    )
    return job_id


async def _set(ctx, media_id: str, **fields) -> None:
    values = {f"transcode.{k}": v for k, v in fields.items()}
    await ctx.db.media.update_one(
        {"_id": media_id}, {"$set": {**values, "updated": datetime.now(UTC)}}
    )


def _leftovers(out_dir: Path) -> list[Path]:
    return [p for p in out_dir.glob("web.*") if ".part." in p.name] if out_dir.is_dir() else []


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


async def _report_progress(job: JobContext, ctx, media_id: str, latest: list[float]) -> None:
    """Write the newest progress every REPORT_SECONDS (and notice a cancel request)."""
    written = -1.0
    while True:
        fraction = latest[0]
        # Written every time, changed or not: the answer tells us about a cancel request.
        await job.report(fraction, f"web copy {round(fraction * 100)}%", force=True)
        if fraction != written:
            written = fraction
            await _set(ctx, media_id, progress=round(fraction, 3))
        await asyncio.sleep(REPORT_SECONDS)


@jobs.register("media.transcode", group="transcode")
async def transcode_media(job: JobContext) -> dict:
    from media.errors import Cancelled, MediaError
    from media.probe import probe
    from media.video import transcode

    ctx = job.tenant
    media_id = job.payload.get("media_id")
    media = await ctx.db.media.find_one({"_id": media_id})
    if media is None:
        return {"skipped": "the media object no longer exists"}
    out_dir = ctx.storage.derivatives / media_id
    # A worker that died mid-transcode left its partial output: never keep or serve it.
    await asyncio.to_thread(_remove, await asyncio.to_thread(_leftovers, out_dir))
    settings = await get_settings(ctx)
    src = ctx.storage.resolve((media.get("original") or {}).get("path") or "")
    try:
        info = await probe(src)
    except MediaError as exc:
        await _set(ctx, media_id, state="failed", error=exc.reason, progress=None)
        raise JobFailed(exc.reason) from exc
    plan = web_copy_plan(info, settings)
    if plan is None:
        await _set(ctx, media_id, state="none", progress=None, error=None)
        return {"media_id": media_id, "web_copy": "not needed"}
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    dest = out_dir / f"web.{plan.extension}"
    await _set(ctx, media_id, state="running", progress=0.0, error=None, job_id=job.job["_id"])
    latest = [0.0]
    reporter = asyncio.create_task(_report_progress(job, ctx, media_id, latest))
    time_limit = float(settings.get("transcode_time_limit", 3600))
    try:
        result = await transcode(
            src,
            dest,
            plan,
            encoder_profile(settings),
            timeout=time_limit,
            on_progress=lambda fraction: latest.__setitem__(0, fraction),
            cancel=job.cancelled,
            nice=TRANSCODE_NICE,
        )
    except Cancelled as exc:
        await _set(ctx, media_id, state="cancelled", progress=None, error="Cancelled.")
        raise JobCancelled() from exc
    except MediaError as exc:
        reason = f"The web copy could not be made: {exc.reason}"
        await _set(ctx, media_id, state="failed", progress=None, error=reason[:2000])
        raise JobFailed(reason) from exc
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
    made = await probe(result.path)
    size = made.display_size or (None, None)
    web = {
        "path": f"derivatives/{media_id}/{dest.name}",
        "mime": plan.mime_type,
        "size": result.size,
        "width": size[0],
        "height": size[1],
        "duration": round(made.duration, 3) if made.duration else None,
        "video_codec": made.video_codec,
        "audio_codec": made.audio_codec,
    }
    stored = await ctx.db.media.update_one(
        {"_id": media_id},
        {
            "$set": {
                "derivatives.web": web,
                "transcode.state": "ready",
                "transcode.progress": 1.0,
                "transcode.error": None,
                "updated": datetime.now(UTC),
            }
        },
    )
    if stored.matched_count == 0:  # deleted while we worked
        await asyncio.to_thread(_remove, [dest])
        return {"media_id": media_id, "state": "deleted"}
    await job.report(1.0, "web copy ready", force=True)
    return {
        "media_id": media_id,
        "web": web["path"],
        "seconds": round(result.seconds, 2),
        "realtime_factor": round(result.realtime_factor or 0.0, 2),
    }


async def _transcode_failed(job: JobContext, reason: str) -> None:
    """A transcode that used up its retries: the media object shows why."""
    if job.job.get("kind") != "media.transcode":
        return
    media_id = job.payload.get("media_id")
    if media_id:
        with contextlib.suppress(Exception):
            await _set(job.tenant, media_id, state="failed", progress=None, error=reason[:2000])


if _transcode_failed not in jobs.FAILURE_HOOKS:
    jobs.FAILURE_HOOKS.append(_transcode_failed)
