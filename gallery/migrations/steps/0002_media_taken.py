# ruff: noqa: N999  (steps are named by number: NNNN_what.py)
"""Media stored before `taken` {local, offset} existed get it from their stored metadata.

Release 37975f0 kept only `date_taken` (an instant) and the file's own text in
`metadata.date_taken`; media/dates.py now reads `taken` first. The file's text is parsed
the way processing parses it (media.dates.taken_fields), so a migrated document is the
document processing would store today; a document without a readable date gets
`taken: None`, which says "looked, none" (every media document then carries the field).
`date_taken` is left as it is: albums were sorted by it before and still are.
"""

from __future__ import annotations

from pymongo import UpdateOne

from media.dates import parse_taken

NUMBER = 2
DESCRIPTION = "media: add taken {local, offset} from the stored metadata date"
BATCH = 500
#: This release shows a document without `taken` from its metadata text as the step would
#: (media.dates.taken_of), so a gallery where the step stopped part-way reads correctly.
READ_ONLY_SAFE = True


def taken_for(doc: dict) -> dict | None:
    found = parse_taken((doc.get("metadata") or {}).get("date_taken"))
    return found.to_dict() if found is not None else None


async def total(ctx) -> int:
    return await ctx.db.media.count_documents({})


async def run(ctx, progress) -> None:
    while True:
        query = {"_id": {"$gt": progress.last_id}} if progress.last_id else {}
        batch = await ctx.db.media.find(
            query, {"_id": 1, "taken": 1, "metadata": 1}
        ).sort("_id", 1).limit(BATCH).to_list()
        if not batch:
            return
        # (The whole `metadata`: nx-27017 drops dotted projections.)
        # Only documents still lacking the field: running the step twice changes nothing,
        # and a date stored meanwhile by processing (a newer process) is kept.
        ops = [
            UpdateOne({"_id": doc["_id"], "taken": {"$exists": False}}, {"$set": {"taken": taken_for(doc)}})
            for doc in batch if "taken" not in doc
        ]
        if ops:
            await ctx.db.media.bulk_write(ops, ordered=False)
        await progress.advance(batch[-1]["_id"], len(batch))
