"""Filling a staging database and storage root from a checked backup: the step that restores
into a new tenant (tenants/restore.py) and into an existing empty one (tenants/restore_into.py)
share. Nobody reads the staging area yet; the caller switches to it in one step afterwards."""

from __future__ import annotations

import asyncio
import threading

from gallery import schema
from gallery.archive import load
from gallery.archive.export import SYNC_KEY
from gallery.archive.restore import Prepared, RestoreError, extract_files


def _reseal(ctx, snap) -> dict | None:
    """The opened secrets sealed again under the target gallery's own key (keys/sealed.py)
    into the settings; returns the sync key's record to store (or None)."""
    from gallery.archive.document import from_json
    from gallery.settings import BY_KEY
    from keys.sealed import encrypt_secret

    sync_key = None
    for key, clear in snap.clear_secrets.items():
        if key == SYNC_KEY:
            sync_key = from_json(clear)
        elif key in BY_KEY and BY_KEY[key].secret:
            snap.settings[key] = encrypt_secret(ctx, clear)
    return sync_key if isinstance(sync_key, dict) and sync_key.get("hash") else None


def not_restored(snap) -> list[str]:
    """What the restore could not give back, in words for its report."""
    def name(key: str) -> str:
        return "the sync key" if key == SYNC_KEY else f"setting {key}"

    lines = [f"{name(k)}: a secret, not in the backup; {'make a new one' if k == SYNC_KEY else 'set it again'}"
             for k in snap.omitted]
    if snap.secrets and not snap.clear_secrets:
        lines += [f"{name(k)}: in the backup under a passphrase, which was not given; "
                  f"{'make a new one' if k == SYNC_KEY else 'set it again'}" for k in sorted(snap.secrets["items"])]
    return lines


async def _documents(ctx, snap, original_bytes: int) -> None:
    """The documents, their indexes and tag counts, and the sync key."""
    from gallery.library.tagcounts import Tally

    db = ctx.db
    sync_key = _reseal(ctx, snap)
    tally = Tally()  # the media counted as they go in: not read back for their tag counts
    await load.write_documents(ctx, snap, original_bytes, tally=tally)
    await schema.create_indexes(db)  # after the bulk load: half its time on the embedded database
    await tally.write(ctx)
    if sync_key is not None:
        await db.meta.insert_one({**sync_key, "_id": SYNC_KEY})


async def fill(ctx, queue, prepared: Prepared, title: str, *, progress=None) -> list[str]:
    """Schema mark, files (sha256 checked as they stream), documents, indexes, tag counts, and
    the held `media.regenerate` job; returns the held job ids, released by the caller after
    its switch. `ctx` is a context on the staging database and root (their tenant slug)."""
    snap = prepared.snapshot
    db = ctx.db
    await schema.write_meta(db)
    if snap.database_schema > schema.SCHEMA_VERSION:
        raise RestoreError(f"the backup's documents are of database schema {snap.database_schema}, "
                           f"newer than this Atrium's {schema.SCHEMA_VERSION}")
    if snap.database_schema < schema.SCHEMA_VERSION:
        # Documents of an older database schema: marked so, the database upgrade that
        # every older gallery gets (gallery.schema) brings them to the current one.
        await db.meta.update_one({"_id": "schema"}, {"$set": {"version": snap.database_schema}})
    # Originals (none when metadata only) and the watermark PNG, copied by threads WHILE the
    # documents go in: the two never touch each other (staging root, staging database), and
    # the inserts are mostly the database server's work, so the restore takes about the
    # longer of the two instead of their sum. The usage counter is the originals' bytes
    # the check summed (a file that differs fails the restore, so they are what is written).
    stop = threading.Event()
    files = asyncio.ensure_future(asyncio.to_thread(extract_files, prepared, ctx.storage, progress, stop))
    snap.settings["gallery_title"] = title
    documents = asyncio.ensure_future(_documents(ctx, snap, prepared.total_bytes))
    try:
        await asyncio.wait({files, documents}, return_when=asyncio.FIRST_EXCEPTION)
        for task in (files, documents):  # a file that differs says why, before the database
            if task.done() and task.exception() is not None:
                raise task.exception()
        await documents
        await files
    except BaseException:
        # Whatever failed (a file, the database, a cancel): no thread may still write into
        # the staging root, nor an insert into the database, when the caller removes them.
        stop.set()
        documents.cancel()
        await asyncio.gather(files, documents, return_exceptions=True)
        raise
    job_ids = []
    if prepared.pending:  # (known from the check: the media are not held)
        # One job remakes every derivative with progress ("n of total"): enqueueing a
        # media.process job per object took most of a 10,000-object restore.
        job_ids.append(await queue.enqueue(ctx.slug, "media.regenerate", {}, hold=True))
    return job_ids
