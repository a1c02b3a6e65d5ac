"""The `gsp.import` job: an import from Gallery Server Pro with progress (docs/gsp-import.md).

The page checks the file (preview) and the gallery's emptiness before it enqueues; the job
checks both again (the gallery may have changed since). Its result is the report. A job killed
with its process is undone at the next start (staging.clean_leftovers) and not run again: a
half-done import is never resumed, the admin starts it again from the page."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from gallery.gspimport import importer

KIND = "gsp.import"


async def enqueue_import(ctx, queue, user: dict, backup_path, media_path=None, *,
                         gallery_id: int | None = None, delete_after: bool = False) -> str:
    """Check, then enqueue; returns the job id. Raises GspRefused / GalleryNotEmpty."""
    preview = await importer.preview(ctx, backup_path, media_path, gallery_id)
    if preview["gallery_id"] is None:
        ids = ", ".join(str(g["id"]) for g in preview["galleries"])
        raise importer.GspRefused(f"The backup holds several galleries ({ids}); choose the one to import.")
    payload = {"backup": str(backup_path), "media": str(media_path) if media_path else None,
               "gallery_id": preview["gallery_id"], "user_id": user["_id"] if user else None,
               "delete_after": bool(delete_after)}
    return await queue.enqueue(ctx.slug, KIND, payload, max_attempts=1)


def _unlink(path) -> None:
    try:
        if path and Path(path).is_file():
            os.unlink(path)
    except OSError:
        pass


async def run_import_job(job) -> dict:
    from gallery.notices.mail import job_urls

    ctx = job.tenant
    payload = job.payload
    user = await ctx.db.users.find_one({"_id": payload.get("user_id")}) if payload.get("user_id") else None

    async def progress(fraction: float, message: str) -> None:
        await job.report(fraction, message)

    try:
        return await importer.import_backup(
            ctx, job.services.registry, payload["backup"], payload.get("media"), payload.get("gallery_id"),
            progress=progress, queue=job.queue, urls=job_urls(ctx, job.services.config), user=user)
    finally:
        if payload.get("delete_after"):
            await asyncio.to_thread(_unlink, payload["backup"])
            await asyncio.to_thread(_unlink, payload.get("media"))


def _register() -> None:
    from jobs.queue import register

    register(KIND, run_import_job)


_register()
