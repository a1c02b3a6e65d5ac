"""Cleaning a tenant's tmp/ of what interrupted work left: cut uploads, a killed import's
ZIP and entries, orphaned tus files.

A file stays while something live owns it: a tus upload still `uploading`/`completing`
(`tus-<id>`), a `zip.import` job still queued or running (its ZIP), or a process of this
host that still runs (temp files carry their writer's identity, storage/root.py). A file
whose writer was a process of this host that has stopped goes at once (the start-up
sweep removes a killed service's leftovers); any other file goes once it has not been
written for `MAX_AGE` (a live upload writes all the time; an idle tus upload is owned by
its record). Until then, files no live process of this host owns count in the tenant's
usage (`tmp_bytes` beside the originals counter, gallery/usage.py), so leftovers cannot
hide from the quota. Runs at start-up and every `INTERVAL` (server/maintenance.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime, timedelta

from gallery.intake import uploads
from gallery.usage import set_tmp_bytes
from storage import instance

log = logging.getLogger("atrium.tmpsweep")

MAX_AGE = timedelta(hours=6)
INTERVAL = timedelta(minutes=30)
# A tus file is made just before its record; give the pair time to exist.
TUS_GRACE = timedelta(minutes=5)
# What a ZIP import logged per entry (gallery/intake/zipimport.py) is kept this long.
ENTRY_LOG_AGE = timedelta(days=7)


def _writer(name: str) -> str | None:
    """The identity of the process that named this temp file, if it carries one."""
    head, sep, _rest = name.rpartition("~")
    return head if sep and instance.parse(head) else None


def sweep_dir(tmp, owned: set[str], now: float | None = None) -> dict:
    """Remove what no one owns any more (see above); returns {"removed", "removed_bytes",
    "kept", "unowned_bytes"}. Blocking: run in a thread."""
    now = time.time() if now is None else now
    result = {"removed": 0, "removed_bytes": 0, "kept": 0, "unowned_bytes": 0}
    try:
        entries = list(os.scandir(tmp))
    except FileNotFoundError:
        return result
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        name = entry.name
        if name in owned:
            result["kept"] += 1
            continue
        age = now - st.st_mtime
        writer = _writer(name)
        if writer is not None and instance.is_gone(writer):
            stale = True
        elif name.startswith("tus-"):
            stale = age > TUS_GRACE.total_seconds()
        else:
            stale = age > MAX_AGE.total_seconds()
        if stale:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            result["removed"] += 1
            result["removed_bytes"] += st.st_size
            continue
        result["kept"] += 1
        if writer is None or not instance.on_this_host(writer):
            result["unowned_bytes"] += st.st_size
    return result


async def owned_names(ctx, services) -> set[str]:
    """tmp/ names that live uploads and imports own. A completion that a stopped process
    left is settled first (its client may never come back to ask)."""
    owned = set()
    for upload in await ctx.db.uploads.find(
        {"state": {"$in": ["uploading", "completing"]}}
    ).to_list():
        if upload["state"] == "completing":
            upload = await uploads.settle_upload(ctx, services, upload)
        if upload["state"] in ("uploading", "completing"):
            owned.add(upload.get("temp_name") or f"tus-{upload['_id']}")
    async for job in services.host_db.jobs.find(
        {"tenant": ctx.slug, "state": {"$in": ["queued", "running"]}, "kind": "zip.import"},
        {"payload": 1},  # (the embedded database cannot project a nested field)
    ):
        owned.add(str((job.get("payload") or {}).get("temp_name", "")))
    return owned


async def sweep_tenant(ctx, services) -> dict:
    """One tenant's sweep: tmp/ files, usage of what stays, old import entry logs."""
    owned = await owned_names(ctx, services)
    result = await asyncio.to_thread(sweep_dir, ctx.storage.tmp, owned)
    await set_tmp_bytes(ctx, result["unowned_bytes"])
    await ctx.db.zip_entries.delete_many(
        {"created": {"$lt": datetime.now(UTC) - ENTRY_LOG_AGE}}
    )
    if result["removed"]:
        log.info("tenant %s: removed %d leftover temp files (%d bytes)",
                 ctx.slug, result["removed"], result["removed_bytes"])
    return result
