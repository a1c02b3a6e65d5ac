"""Restoring a backup into a NEW tenant, all or nothing (docs/backup-format.md).

1. The archive is checked whole (gallery.archive.restore.prepare): nothing is written
   before it passes.
2. The tenant record is inserted with status "provisioning" and a `restoring` mark naming
   this process (storage.instance). The slug is the record's _id, so of two restores of
   one slug exactly one inserts it; the other is refused at once. A provisioning tenant is
   never served (handlers/base.py answers 503).
3. Its database and storage root are filled (the staging area: no one reads them yet).
4. One atomic update switches the record to "active" and drops the mark: before it, the
   gallery does not exist for anyone; after it, it is complete.
5. The processing jobs (held until then) are released and remake the derivatives.

A kill at any moment before step 4 leaves a marked record whose process is gone; every
service start removes such leftovers (database, storage root, jobs, record) and logs it
(clean_leftovers). A failure removes them at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime

from pymongo.errors import DuplicateKeyError

from gallery import schema
from gallery.archive import load
from gallery.archive.restore import Prepared, RestoreError, extract_files, prepare
from storage import instance
from storage.root import StorageError
from tenants.names import InvalidName, check_slug

log = logging.getLogger("atrium.tenants")


async def restore_new(registry, queue, path, slug: str, *, title: str | None = None,
                      quota_bytes: int = 0, progress=None) -> dict:
    """Restore the archive at `path` as the new tenant `slug`; returns a report dict.
    Raises RestoreError (nothing written) when the archive or the target is not right."""
    try:
        slug = check_slug(slug)
    except InvalidName as exc:
        raise RestoreError(str(exc)) from None
    if await registry.host_db.tenants.find_one({"_id": slug}, {"_id": 1}) is not None:
        raise RestoreError(f"a tenant with slug {slug!r} already exists (or is being restored)")
    prepared: Prepared = await asyncio.to_thread(prepare, path)
    if quota_bytes and prepared.total_bytes > quota_bytes:
        raise RestoreError(f"the backup's originals take {prepared.total_bytes} bytes, more than "
                           f"the quota of {quota_bytes} bytes")
    snap = prepared.snapshot
    title = (title or snap.title or slug).strip()[:200]
    now = datetime.now(UTC)
    me = instance.current()
    record = {
        "_id": slug, "title": title, "hostnames": [], "status": "provisioning",
        "admin_email": "", "quota_bytes": int(quota_bytes), "created": now,
        "key_salt": secrets.token_hex(8), "version": 1,
        "restoring": {"by": me, "started": now, "source": str(path)},
    }
    try:
        await registry.host_db.tenants.insert_one(record)
    except DuplicateKeyError:
        raise RestoreError(f"a tenant with slug {slug!r} already exists (or is being restored)") from None
    storage = registry.storage(slug)
    job_ids: list[str] = []
    try:
        try:
            await asyncio.to_thread(storage.create)
        except StorageError as exc:
            raise RestoreError(str(exc)) from None
        ctx = registry._make_context(record)
        db = registry.tenant_db(slug)
        await schema.create_indexes(db)
        await schema.write_meta(db)
        written = 0
        if not prepared.metadata_only:
            written = await asyncio.to_thread(extract_files, prepared, storage, progress)
        snap.settings["gallery_title"] = title
        await load.write_documents(ctx, snap, written)
        for media in snap.media:
            if media.get("state") == "pending":
                job_ids.append(await queue.enqueue(slug, "media.process", {"media_id": media["_id"]},
                                                   dedupe=f"media.process:{media['_id']}", hold=True))
        switched = await registry.host_db.tenants.update_one(
            {"_id": slug, "restoring.by": me},
            {"$set": {"status": "active", "title": title, "installed": datetime.now(UTC),
                      "restored": {"from": str(path), "format": prepared.declared_version}},
             "$unset": {"restoring": ""}},
        )
        if switched.matched_count != 1:
            raise RestoreError(f"the restore of {slug} was taken away while it ran")
    except BaseException:
        log.warning("restoring %s failed; removing what was made", slug)
        await asyncio.shield(_remove(registry, slug))
        raise
    finally:
        registry.forget(slug)
    for job_id in job_ids:
        await queue.release(job_id)
    log.info("tenant %s restored from %s (format %s, %d media)", slug, path,
             prepared.declared_version, len(snap.media))
    return {
        "slug": slug, "title": title, "format": prepared.declared_version,
        "albums": len(snap.albums), "media": len(snap.media), "users": len(snap.users),
        "roles": len(snap.roles), "bytes": prepared.total_bytes,
        "metadata_only": prepared.metadata_only, "processing_jobs": len(job_ids),
        "not_restored": [f"setting {k}: a secret, not in the backup; set it again" for k in snap.omitted],
    }


async def _remove(registry, slug: str) -> None:
    await registry.host_db.jobs.delete_many({"tenant": slug})
    await registry.client.drop_database(registry.database_name(slug))
    await asyncio.to_thread(registry.storage(slug).remove)
    await registry.host_db.tenants.delete_one({"_id": slug, "restoring": {"$exists": True}})
    registry.forget(slug)


async def clean_leftovers(registry) -> list[str]:
    """Remove what restores killed on this host left (their process is gone); returns the
    slugs. Restores of live processes, and of other hosts, are left alone."""
    removed = []
    async for record in registry.host_db.tenants.find({"status": "provisioning"}):
        mark = record.get("restoring")
        if not mark or not instance.is_gone(mark.get("by", "")):
            continue
        log.warning("removing the leftovers of an interrupted restore of tenant %s (started %s by %s)",
                    record["_id"], mark.get("started"), mark.get("by"))
        await _remove(registry, record["_id"])
        removed.append(record["_id"])
    return removed
