"""All or nothing for an import into an existing, empty gallery (docs/gsp-import.md).

The tenant record carries a `gsp_import` mark for the whole run: which process runs it, the
run id, and what the gallery held before (its root album and settings). Files
are copied into a staging folder inside the tenant's storage root (`.gsp-<run>/`), nobody
reads. Only then is the tenant taken out of service (status "provisioning", as restore does,
so no page shows a half-written gallery), the documents written (each marked `import_run`),
the files moved into originals/, and one update of the record switches it back to "active"
and drops the mark: that update is the commit.

A failure undoes the run at once (undo); a kill leaves the mark behind, and every service
start undoes the runs whose process is gone (clean_leftovers), the way restore's leftovers go.
`registry` is the tenant registry (tenants/registry.py), passed in: gallery/ imports no tenants/.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from gallery.gspimport.errors import ImportRunning
from gallery.library.tagcounts import rebuild_tag_counts
from storage import instance

log = logging.getLogger("atrium.gspimport")
#: Collections whose documents an import adds (each marked with `import_run`).
MARKED = ("albums", "media", "roles", "users")


def staging_dir(storage, run: str) -> Path:
    return Path(storage.path) / f".gsp-{run}"


async def claim(registry, ctx, run: str) -> dict:
    """Put the mark on the tenant record (one atomic update), keeping what undo needs."""
    root = await ctx.db.albums.find_one({"parent_id": None})
    settings = await ctx.db.settings.find_one({"_id": "gallery"}) or {}
    mark = {"by": instance.current(), "run": run, "started": datetime.now(UTC),
            "root": root, "settings": settings.get("values", {}),
            "status_before": ctx.record.get("status", "active")}
    tenants = registry.host_db.tenants
    for _ in range(2):
        claimed = await tenants.update_one(
            {"_id": ctx.slug, "status": "active", "gsp_import": {"$exists": False}},
            {"$set": {"gsp_import": mark}})
        if claimed.matched_count == 1:
            registry.forget(ctx.slug)
            return mark
        record = await tenants.find_one({"_id": ctx.slug}, {"gsp_import": 1, "status": 1})
        old = (record or {}).get("gsp_import")
        if old and instance.is_gone(old.get("by", "")):
            await undo(registry, ctx, old)  # a killed run's leftovers go first
            continue
        if old:
            raise ImportRunning("An import into this gallery is already running.")
        raise ImportRunning(f"The gallery is {record.get('status') if record else 'gone'}; "
                            "an import needs an active gallery.")
    raise ImportRunning("An import into this gallery is already running.")


async def take_offline(registry, slug: str, run: str) -> None:
    """Until the switch no one is served the gallery (handlers answer 503 while provisioning)."""
    await registry.host_db.tenants.update_one(
        {"_id": slug, "gsp_import.run": run}, {"$set": {"status": "provisioning", "gsp_import.writing": True}})
    registry.forget(slug)


async def switch(registry, slug: str, run: str, summary: dict) -> None:
    """The commit: back to active, mark dropped, in one update."""
    done = await registry.host_db.tenants.update_one(
        {"_id": slug, "gsp_import.run": run},
        {"$set": {"status": "active", "gsp_imported": summary}, "$unset": {"gsp_import": ""}})
    registry.forget(slug)
    if done.matched_count != 1:
        raise ImportRunning("The import's mark was taken away while it ran; it was not kept.")


def _remove_files(root: Path, paths: list[str], staging: Path) -> None:
    for rel in paths:
        target = root / rel
        try:
            if target.resolve().is_relative_to(root.resolve()):
                target.unlink()
        except (FileNotFoundError, OSError):
            pass
    shutil.rmtree(staging, ignore_errors=True)


async def undo(registry, ctx, mark: dict) -> None:
    """Remove everything the run wrote and give the gallery `ctx` back as it was."""
    run, slug = mark["run"], ctx.slug
    db, storage = ctx.db, ctx.storage
    files = [m["original"]["path"] async for m in db.media.find({"import_run": run}, {"original": 1})
             if isinstance((m.get("original") or {}).get("path"), str)]
    await asyncio.to_thread(_remove_files, Path(storage.path), files, staging_dir(storage, run))
    for name in MARKED:
        await db[name].delete_many({"import_run": run})
    root = mark.get("root")
    if root:
        await db.albums.replace_one({"_id": root["_id"]}, root, upsert=True)
    await db.settings.update_one({"_id": "gallery"}, {"$set": {"values": mark.get("settings") or {}}},
                                 upsert=True)
    # Counted again from what is left, not set back: an upload made while the files were
    # being copied (the gallery was open then) counted its own bytes and tags.
    left = [m async for m in db.media.find({}, {"original": 1})]
    originals = sum(int((m.get("original") or {}).get("size") or 0) for m in left)
    await db.meta.update_one({"_id": "usage"}, {"$set": {"bytes": originals}}, upsert=True)
    await rebuild_tag_counts(ctx)
    await registry.host_db.jobs.delete_many({"tenant": slug, "payload.gsp_run": run})
    await registry.host_db.tenants.update_one(
        {"_id": slug, "gsp_import.run": run},
        {"$set": {"status": mark.get("status_before") or "active"}, "$unset": {"gsp_import": ""}})
    registry.forget(slug)
    log.warning("GSP import %s into %s undone", run, slug)


async def clean_leftovers(registry) -> list[str]:
    """Undo imports whose process is gone (killed); returns the slugs. Runs at service start."""
    undone = []
    async for record in registry.host_db.tenants.find({"gsp_import": {"$exists": True}}):
        mark = record["gsp_import"]
        if not instance.is_gone(mark.get("by", "")):
            continue
        log.warning("undoing the interrupted GSP import into %s (started %s by %s)",
                    record["_id"], mark.get("started"), mark.get("by"))
        # The record names the tenant's database (a gallery restored in place has its own).
        await undo(registry, registry._make_context(record), mark)
        undone.append(record["_id"])
    return undone


def move_into_place(storage_root: Path, staging: Path, rels: Iterable[str]) -> None:
    """Staged files to their places in originals/ (renames within one filesystem)."""
    for rel in rels:
        target = storage_root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target)
    shutil.rmtree(staging, ignore_errors=True)
