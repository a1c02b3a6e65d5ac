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

import json

from pymongo import UpdateMany, UpdateOne

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
        # Whole documents, no projection: the embedded database projects by deep-copying
        # each document first, so {_id, taken, metadata} took about twice as long as the
        # whole document (bench/migrate.py), and `metadata`, most of a media document, is
        # needed anyway (a dotted "metadata.date_taken" comes back as a flat key there).
        batch = await ctx.db.media.find(query).sort("_id", 1).limit(BATCH).to_list()
        if not batch:
            return
        ops = updates(batch)
        if ops:
            await ctx.db.media.bulk_write(ops, ordered=False)
        await progress.advance(batch[-1]["_id"], len(batch))


def updates(batch: list[dict]) -> list[UpdateOne | UpdateMany]:
    """One write per distinct value, not per document: every document without a readable
    date (and photos of the same second) shares one `$in` update, so a batch with a third
    of its documents undated sends a third fewer writes (on the embedded database, whose
    update_many still rewrites document by document, its write time fell ~7 %). Only
    documents still lacking the field are written: running the step twice changes
    nothing, and a date stored meanwhile by processing (a newer process) is kept."""
    groups: dict[str, tuple[object, list]] = {}
    for doc in batch:
        if "taken" not in doc:
            value = taken_for(doc)
            groups.setdefault(json.dumps(value, sort_keys=True), (value, []))[1].append(doc["_id"])
    return [
        UpdateOne({"_id": ids[0], "taken": {"$exists": False}}, {"$set": {"taken": value}})
        if len(ids) == 1 else
        UpdateMany({"_id": {"$in": ids}, "taken": {"$exists": False}}, {"$set": {"taken": value}})
        for value, ids in groups.values()
    ]
