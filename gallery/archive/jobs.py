"""The `gallery.backup` job: a backup written into the host's backup folder
(`<data_dir>/backups/<slug>/<job id>.zip`) with live progress (files, bytes, time left) and
cancel; the admin page downloads it, the host console restores from it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from gallery.archive.background import write_in_child
from gallery.archive.export import take_snapshot
from gallery.archive.progress import Cancelled, Progress

KIND = "gallery.backup"
_NAME = re.compile(r"^[0-9a-f]{24}\.zip$")


def backups_dir(config, slug: str) -> Path:
    return Path(config.data_dir) / "backups" / slug


def archive_path(config, slug: str, job_id: str) -> Path:
    return backups_dir(config, slug) / f"{job_id}.zip"


def host_archives(config) -> list[dict]:
    """Every complete backup of this host: [{slug, name, path, size}], newest first."""
    root = Path(config.data_dir) / "backups"
    out = []
    if not root.is_dir():
        return out
    for folder in root.iterdir():
        for path in folder.glob("*.zip"):
            if _NAME.match(path.name):  # `.x.zip.partial` files are backups still running
                st = path.stat()
                out.append({"slug": folder.name, "name": path.name, "path": path,
                            "size": st.st_size, "mtime": st.st_mtime})
    return sorted(out, key=lambda a: -a["mtime"])


def progress_message(p: Progress) -> str:
    eta = p.eta_seconds()
    left = f", about {int(eta) + 1} s left" if eta is not None and p.bytes < p.total_bytes else ""
    return (f"{p.files} of {p.total_files} files, {p.bytes / 1048576:.1f} of "
            f"{p.total_bytes / 1048576:.1f} MB{left}")


async def run_backup_job(job) -> dict:
    from jobs.queue import JobCancelled

    ctx = job.tenant
    path = archive_path(job.services.config, ctx.slug, job.job["_id"])
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    progress = Progress()
    # The snapshot here; the archive by a niced child process, so that writing it never
    # holds this process's interpreter lock while visitors are served (background.py).
    snap = await take_snapshot(ctx, sealed=job.payload.get("secrets"),  # sealed by the request
                               background=True)
    task = asyncio.ensure_future(write_in_child(
        snap, ctx.storage, path, metadata_only=bool(job.payload.get("metadata_only")), progress=progress))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            fraction = progress.bytes / progress.total_bytes if progress.total_bytes else 0.0
            await job.report(min(fraction, 0.99), progress_message(progress))
            if job.cancelled.is_set():
                progress.cancel.set()  # the writing thread stops at its next chunk
        report = task.result()
    except Cancelled:
        raise JobCancelled() from None
    finally:
        progress.cancel.set()  # whatever ends this (a stopping process too) stops the thread
        if not task.done():
            await asyncio.gather(task, return_exceptions=True)
    await job.report(1.0, progress_message(progress), force=True)
    size = (await asyncio.to_thread(path.stat)).st_size
    return {"file": path.name, "size": size, **progress.as_dict(), **report.as_dict()}


def _register() -> None:
    from jobs.queue import register

    register(KIND, run_backup_job)


_register()
