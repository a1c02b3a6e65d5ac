"""Restoring a backup into an EXISTING, EMPTY gallery, by its own admin (docs/backup-format.md).

The same validate → stage → switch path as a new tenant (tenants/restore.py), with a staging
area beside the live one:

1. The archive is checked whole (nothing written before it passes), and the gallery must be
   empty: no album but its root, no media object.
2. The record is claimed with one atomic update (status "active" and no `restoring` mark →
   status "provisioning" with the mark): of two restores at once exactly one wins, and no
   request is served while it runs (so nothing is added to the gallery being replaced).
3. A staging database (`t_<slug>__<store>`, tenants.registry.database_name) and storage root
   (`tenants/.staging/<slug>-<store>`) are filled.
4. THE SWITCH: one atomic update sets the record's `store` to the staged database and the
   mark's phase to "switched". Before it the gallery is the empty one it was; after it, the
   restored one.
5. Finishing (idempotent, so a restart can redo it): the staged root is renamed into
   `tenants/<slug>` (the old root aside first), the old database and root are removed, the
   old gallery's queued jobs dropped, the record made "active" again without the mark; the
   held `media.regenerate` job is released.

A kill before 4 leaves a marked record whose process is gone: the next start removes the
staging database and root and gives the empty gallery back (`recover`); a kill after 4 is
finished at the next start. Either way: the old empty gallery or the complete restored one.

**Accounts.** The backup's users, roles and sessions replace the gallery's: the admin who
restores is signed out and signs in with an account of the backup (the page says so before
anything happens). Keeping the current admin beside them would mix two user tables whose
names, e-mail addresses and role ids may clash, and a restore brings the gallery back as it was.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

from gallery import failpoints
from gallery.archive.restore import Prepared, RestoreError, prepare, unlock
from storage import instance
from storage.root import StorageError, StorageRoot
from tenants import staging

log = logging.getLogger("atrium.tenants")


class NotEmpty(RestoreError):
    """The gallery holds albums or media: a restore would throw them away."""


def staging_root(registry, slug: str, store: str) -> Path:
    # Inside tenants/ so that the switch is a rename on one file system; ".staging" is not a
    # slug, so the upkeep that lists tenants/ passes it by.
    return registry.tenants_dir / ".staging" / f"{slug}-{store}"


async def emptiness_problem(db) -> str | None:
    """Why the gallery in `db` is not empty (None: it is)."""
    albums = await db.albums.count_documents({"parent_id": {"$ne": None}})
    media = await db.media.find_one({}, {"_id": 1})
    if albums or media is not None:
        return ("This gallery is not empty: a backup is restored only into a gallery with no "
                "albums and no photos or videos (delete them first, or restore into a new gallery).")
    return None


async def restore_into(registry, queue, path, slug: str, *, progress=None,
                       prepared: Prepared | None = None, passphrase: str | None = None) -> dict:
    """Restore the archive at `path` into the existing, empty, active tenant `slug`.
    Raises RestoreError (nothing changed) when the archive or the gallery is not right."""
    record = await registry.get_record(slug)
    if record.get("restoring"):
        raise RestoreError("A restore into this gallery is already running.")
    if record.get("status") != "active":
        raise RestoreError("Only an active gallery can be restored into.")
    if record.get("media_folder"):  # its originals could only go into the read-only folder
        raise RestoreError("This gallery's files are in a read-only media folder on the server; "
                           "restore the backup as a new gallery instead.")
    problem = await emptiness_problem(registry.tenant_db(slug, record))
    if problem:
        raise NotEmpty(problem)
    if prepared is None:
        prepared = await asyncio.to_thread(prepare, path)
    await asyncio.to_thread(unlock, prepared, passphrase)  # a wrong passphrase: nothing changed
    quota = int(record.get("quota_bytes") or 0)
    if quota and prepared.total_bytes > quota:
        raise RestoreError(f"the backup's originals take {prepared.total_bytes} bytes, more than "
                           f"this gallery's quota of {quota} bytes")
    me = instance.current()
    store = secrets.token_hex(6)
    mark = {"by": me, "started": datetime.now(UTC), "source": os.path.basename(str(path)),
            "into": True, "store": store, "old_store": record.get("store"), "phase": "staging",
            "jobs": []}
    claimed = await registry.host_db.tenants.update_one(
        {"_id": slug, "status": "active", "restoring": {"$exists": False}},
        {"$set": {"status": "provisioning", "restoring": mark}})
    if claimed.matched_count != 1:
        raise RestoreError("A restore into this gallery is already running (or it is no longer active).")
    registry.forget(slug)
    snap = prepared.snapshot
    title = (snap.title or record.get("title") or slug).strip()[:200]
    try:
        problem = await emptiness_problem(registry.tenant_db(slug, record))  # claimed: no writes now
        if problem:
            raise NotEmpty(problem)
        staged = {**record, "store": store}
        ctx = registry._make_context(staged)
        ctx.storage = StorageRoot(staging_root(registry, slug, store))
        try:
            await asyncio.to_thread(ctx.storage.create)
        except StorageError as exc:
            raise RestoreError(str(exc)) from None
        job_ids = mark["jobs"] = await staging.fill(ctx, queue, prepared, title, progress=progress)
        await registry.host_db.tenants.update_one({"_id": slug, "restoring.by": me},
                                                  {"$set": {"restoring.jobs": job_ids}})
        await failpoints.reached("restore_into.before_switch")
        switched = await registry.host_db.tenants.update_one(
            {"_id": slug, "restoring.by": me, "restoring.phase": "staging"},
            {"$set": {"store": store, "title": title, "restoring.phase": "switched",
                      "restored": {"from": mark["source"], "format": prepared.declared_version,
                                   "at": datetime.now(UTC)}}})
        if switched.matched_count != 1:
            raise RestoreError(f"the restore into {slug} was taken away while it ran")
    except BaseException:
        log.warning("restoring into %s failed; giving the empty gallery back", slug)
        await asyncio.shield(_roll_back(registry, slug, mark))
        raise
    finally:
        registry.forget(slug)
    await failpoints.reached("restore_into.after_switch")
    await _finish(registry, slug, mark)
    for job_id in job_ids:
        await queue.release(job_id)
    log.info("tenant %s restored in place from %s (format %s, %d media)", slug, mark["source"],
             prepared.declared_version, len(snap.media))
    return {
        "slug": slug, "title": title, "format": prepared.declared_version,
        "albums": len(snap.albums), "media": len(snap.media), "users": len(snap.users),
        "roles": len(snap.roles), "bytes": prepared.total_bytes,
        "metadata_only": prepared.metadata_only, "processing_jobs": len(job_ids),
        "not_restored": staging.not_restored(snap),
    }


async def _roll_back(registry, slug: str, mark: dict) -> None:
    """Before the switch: throw the staging area away, give the old gallery back."""
    staged = registry.database_name(slug, {"store": mark["store"]})
    await registry.host_db.jobs.delete_many({"tenant": slug, "_id": {"$in": list(mark.get("jobs") or [])}})
    # Held before its id was marked (a kill in between): held jobs of this tenant are ours.
    await registry.host_db.jobs.delete_many({"tenant": slug, "held": True, "kind": "media.regenerate"})
    await registry.client.drop_database(staged)
    await asyncio.to_thread(shutil.rmtree, staging_root(registry, slug, mark["store"]), True)
    await registry.host_db.tenants.update_one(
        {"_id": slug, "restoring.store": mark["store"], "restoring.phase": "staging"},
        {"$set": {"status": "active"}, "$unset": {"restoring": ""}})
    registry.forget(slug)


def _swap_roots(registry, slug: str, store: str) -> None:
    """The staged root becomes tenants/<slug>; each rename is atomic and the whole is redone
    from wherever a kill left it (the staged root still there means not yet done)."""
    staged = staging_root(registry, slug, store)
    live = registry.tenants_dir / slug
    old = staged.with_name(staged.name + ".old")
    if staged.exists():
        if live.exists():
            os.replace(live, old) if not old.exists() else shutil.rmtree(live)
        os.replace(staged, live)
    shutil.rmtree(old, ignore_errors=True)


async def _finish(registry, slug: str, mark: dict) -> None:
    """After the switch (idempotent): files into place, the old gallery removed, active."""
    await asyncio.to_thread(_swap_roots, registry, slug, mark["store"])
    old_db = registry.database_name(slug, {"store": mark.get("old_store")})
    if old_db != registry.database_name(slug, {"store": mark["store"]}):
        await registry.client.drop_database(old_db)
    # The old gallery's queued work named its documents, which are gone.
    await registry.host_db.jobs.delete_many({"tenant": slug, "state": "queued",
                                             "_id": {"$nin": list(mark.get("jobs") or [])}})
    await registry.host_db.tenants.update_one(
        {"_id": slug, "restoring.store": mark["store"]},
        {"$set": {"status": "active"}, "$unset": {"restoring": ""}})
    registry.forget(slug)


async def recover(registry, record: dict) -> str:
    """A restore into `record`'s tenant whose process is gone: rolled back before its switch,
    finished after it. Returns what was done ("rolled back" or "finished")."""
    mark = record["restoring"]
    if mark.get("phase") == "switched":
        log.warning("finishing the interrupted restore into tenant %s (switched before it stopped)",
                    record["_id"])
        await _finish(registry, record["_id"], mark)
        return "finished"
    log.warning("removing the leftovers of an interrupted restore into tenant %s (started %s by %s); "
                "the gallery stays as it was", record["_id"], mark.get("started"), mark.get("by"))
    await _roll_back(registry, record["_id"], mark)
    return "rolled back"
