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
5. The `media.regenerate` job (held until then) is released and remakes the derivatives.

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

from gallery import failpoints
from gallery.archive.restore import Prepared, RestoreError, prepare, unlock
from storage import instance
from storage.root import StorageError
from tenants import restore_into, staging
from tenants.names import InvalidName, check_slug

log = logging.getLogger("atrium.tenants")


async def restore_new(registry, queue, path, slug: str, *, title: str | None = None,
                      quota_bytes: int = 0, progress=None, passphrase: str | None = None) -> dict:
    """Restore the archive at `path` as the new tenant `slug`; returns a report dict.
    Raises RestoreError (nothing written) when the archive or the target is not right, or
    `passphrase` does not open the backup's secrets."""
    try:
        slug = check_slug(slug)
    except InvalidName as exc:
        raise RestoreError(str(exc)) from None
    if await registry.host_db.tenants.find_one({"_id": slug}, {"_id": 1}) is not None:
        raise RestoreError(f"a tenant with slug {slug!r} already exists (or is being restored)")
    prepared: Prepared = await asyncio.to_thread(prepare, path)
    await asyncio.to_thread(unlock, prepared, passphrase)
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
        job_ids += await staging.fill(ctx, queue, prepared, title, progress=progress)
        await failpoints.reached("restore.before_switch")
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
    await failpoints.reached("restore.after_switch")
    for job_id in job_ids:
        await queue.release(job_id)
    log.info("tenant %s restored from %s (format %s, %d media)", slug, path,
             prepared.declared_version, len(snap.media))
    return {
        "slug": slug, "title": title, "format": prepared.declared_version,
        "albums": len(snap.albums), "media": len(snap.media), "users": len(snap.users),
        "roles": len(snap.roles), "bytes": prepared.total_bytes,
        "metadata_only": prepared.metadata_only, "processing_jobs": len(job_ids),
        "not_restored": staging.not_restored(snap),
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
        if mark.get("into"):  # an existing gallery: rolled back or finished, never removed
            await restore_into.recover(registry, record)
            removed.append(record["_id"])
            continue
        log.warning("removing the leftovers of an interrupted restore of tenant %s (started %s by %s)",
                    record["_id"], mark.get("started"), mark.get("by"))
        await _remove(registry, record["_id"])
        removed.append(record["_id"])
    return removed


# -- moving galleries: every tenant out to a directory, and in again on another host -----------


async def export_all(registry, out_dir, *, slugs: list[str] | None = None,
                     passphrase: str | None = None) -> list[dict]:
    """One archive per active tenant (`<slug>.zip`) into `out_dir`, plus `tenants.json`
    naming them with their host-side record fields (title, quota, hostnames)."""
    import json
    from pathlib import Path

    from gallery.archive.export import export_to_file

    out = Path(out_dir)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    done = []
    for record in await registry.list_records():
        slug = record["_id"]
        if record.get("status") != "active" or (slugs and slug not in slugs):
            continue
        ctx = await registry.context_for_slug(slug)
        report = await export_to_file(ctx, out / f"{slug}.zip", passphrase=passphrase)
        done.append({"slug": slug, "file": f"{slug}.zip", "title": record.get("title"),
                     "quota_bytes": record.get("quota_bytes", 0), "hostnames": record.get("hostnames", []),
                     "media": report.media, "left_out": report.left_out})
    manifest = json.dumps({"tenants": done}, indent=2, default=str)
    await asyncio.to_thread((out / "tenants.json").write_text, manifest)
    return done


async def import_all(registry, queue, in_dir, *, passphrase: str | None = None) -> list[dict]:
    """Restore every archive `tenants.json` in `in_dir` names, under its slug, title and
    quota (hostnames are given back too). Each is all or nothing; the first failure stops."""
    import json
    from pathlib import Path

    from tenants.provision import ProvisioningError, update_tenant

    folder = Path(in_dir)
    try:
        manifest = json.loads(await asyncio.to_thread((folder / "tenants.json").read_text))
        entries = list(manifest["tenants"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RestoreError(f"{folder}: no readable tenants.json ({exc})") from None
    results = []
    for entry in entries:
        name = Path(str(entry.get("file", ""))).name  # a name in the folder, nothing else
        report = await restore_new(registry, queue, folder / name, entry["slug"],
                                   title=entry.get("title"), quota_bytes=int(entry.get("quota_bytes") or 0),
                                   passphrase=passphrase)
        if entry.get("hostnames"):
            try:
                await update_tenant(registry, entry["slug"], hostnames=list(entry["hostnames"]))
            except ProvisioningError as exc:
                report["not_restored"].append(f"hostnames: {exc}")
        results.append(report)
    return results
