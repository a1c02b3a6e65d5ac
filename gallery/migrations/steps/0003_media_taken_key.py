# ruff: noqa: N999  (steps are named by number: NNNN_what.py)
"""Media get `taken_key`, the text the timeline sorts and pages by (media.dates.taken_key).

The timeline read `date_taken` ranges, which the embedded database evaluates row by row
(1.5-3 s a page on 100,000 items); a range of this text is an index range. Its indexes
are made first (a gallery provisioned earlier has none), then every media document lacking
the key gets it from its `date_taken`, and so do the media records waiting in the trash
(`trash_docs`), which a restore puts back as they are.
"""

from __future__ import annotations

from pymongo import UpdateMany, UpdateOne

from gallery.schema import INDEXES
from media.dates import taken_key

NUMBER = 3
DESCRIPTION = "media: add taken_key, the timeline's order, from date_taken"
BATCH = 500
LACKING = {"taken_key": {"$exists": False}}
#: The timeline is the only reader of the key, and it answers "comes back once the upgrade
#: has finished" (503) while a gallery is served read-only (handlers/timeline.py); every
#: other page reads a document without the key as before.
READ_ONLY_SAFE = True


async def total(ctx) -> int:
    return await ctx.db.media.count_documents({})


async def run(ctx, progress) -> None:
    for collection, keys, options in INDEXES:
        if collection == "media" and any(field == "taken_key" for field, _ in keys):
            await ctx.db.media.create_index(keys, **options)
    await _trash(ctx)
    while True:
        query = {"_id": {"$gt": progress.last_id}} if progress.last_id else {}
        # Whole documents, as step 0002 reads them (a projection is slower on the embedded database).
        batch = await ctx.db.media.find(query).sort("_id", 1).limit(BATCH).to_list()
        if not batch:
            return
        ops = updates(batch)
        if ops:
            await ctx.db.media.bulk_write(ops, ordered=False)
        await progress.advance(batch[-1]["_id"], len(batch))


async def _trash(ctx) -> None:
    """Trashed media records (few: a trash is emptied within days) in one pass; each one
    still lacking the key is written, so a pass redone after a crash is harmless."""
    async for record in ctx.db.trash_docs.find({"coll": "media"}):
        doc = record.get("doc") or {}
        if "taken_key" not in doc:
            await ctx.db.trash_docs.update_one(
                {"_id": record["_id"]}, {"$set": {"doc.taken_key": taken_key(doc.get("date_taken"))}})


def updates(batch: list[dict]) -> list[UpdateOne | UpdateMany]:
    """One write per distinct key (all undated documents share one), only to documents
    still lacking it: a key stored meanwhile by processing is kept, and running the step
    twice changes nothing."""
    groups: dict[str, list] = {}
    for doc in batch:
        if "taken_key" not in doc:
            groups.setdefault(taken_key(doc.get("date_taken")), []).append(doc["_id"])
    return [
        UpdateOne({"_id": ids[0], **LACKING}, {"$set": {"taken_key": key}}) if len(ids) == 1 else
        UpdateMany({"_id": {"$in": ids}, **LACKING}, {"$set": {"taken_key": key}})
        for key, ids in groups.items()
    ]
