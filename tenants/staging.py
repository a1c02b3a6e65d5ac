"""Filling a staging database and storage root from a checked backup: the step that restores
into a new tenant (tenants/restore.py) and into an existing empty one (tenants/restore_into.py)
share. Nobody reads the staging area yet; the caller switches to it in one step afterwards."""

from __future__ import annotations

import asyncio

from gallery import schema
from gallery.archive import load
from gallery.archive.restore import Prepared, RestoreError, extract_files


async def fill(ctx, queue, prepared: Prepared, title: str, *, progress=None) -> list[str]:
    """Indexes, schema mark, files (sha256 checked as they stream), documents, and the held
    `media.regenerate` job; returns the held job ids, released by the caller after its switch.
    `ctx` is a context on the staging database and root (their tenant slug)."""
    snap = prepared.snapshot
    db = ctx.db
    await schema.create_indexes(db)
    await schema.write_meta(db)
    if snap.database_schema > schema.SCHEMA_VERSION:
        raise RestoreError(f"the backup's documents are of database schema {snap.database_schema}, "
                           f"newer than this Atrium's {schema.SCHEMA_VERSION}")
    if snap.database_schema < schema.SCHEMA_VERSION:
        # Documents of an older database schema: marked so, the database upgrade that
        # every older gallery gets (gallery.schema) brings them to the current one.
        await db.meta.update_one({"_id": "schema"}, {"$set": {"version": snap.database_schema}})
    written = 0
    if not prepared.metadata_only:
        written = await asyncio.to_thread(extract_files, prepared, ctx.storage, progress)
    snap.settings["gallery_title"] = title
    await load.write_documents(ctx, snap, written)
    job_ids = []
    if any(media.get("state") == "pending" for media in snap.media):
        # One job remakes every derivative with progress ("n of total"): enqueueing a
        # media.process job per object took most of a 10,000-object restore.
        job_ids.append(await queue.enqueue(ctx.slug, "media.regenerate", {}, hold=True))
    return job_ids
