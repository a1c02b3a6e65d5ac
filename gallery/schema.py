"""A tenant database's collections, indexes and schema version.

`meta` holds {"_id": "schema", "version": N}. gallery.migrations upgrades a database from
any earlier version (docs/migrations.md); provisioning writes the current one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, IndexModel

SCHEMA_VERSION = 3  # the highest step in gallery/migrations/steps

# (collection, keys, options). nx-27017 does not enforce unique indexes on array fields,
# so uniqueness is only ever declared on scalar fields.
INDEXES = [
    ("users", [("username_key", ASCENDING)], {"unique": True}),
    ("users", [("email_key", ASCENDING)], {}),
    ("roles", [("name_key", ASCENDING)], {"unique": True}),
    ("albums", [("parent_id", ASCENDING), ("position", ASCENDING)], {}),
    ("albums", [("ancestors", ASCENDING)], {}),
    ("media", [("album_id", ASCENDING), ("position", ASCENDING)], {}),
    ("media", [("album_id", ASCENDING), ("date_added", DESCENDING)], {}),
    ("media", [("content_hash", ASCENDING)], {}),
    ("media", [("album_id", ASCENDING), ("title", ASCENDING)], {}),
    ("media", [("album_id", ASCENDING), ("date_taken", ASCENDING)], {}),
    ("media", [("album_id", ASCENDING), ("file_name", ASCENDING)], {}),
    ("media", [("album_id", ASCENDING), ("updated", ASCENDING)], {}),
    ("media", [("album_path", ASCENDING)], {}),
    ("media", [("tag_keys", ASCENDING)], {}),
    # Search (gallery.library.search): a multikey index on MongoDB; nx-27017 scans arrays anyway.
    ("media", [("search_keys", ASCENDING)], {}),
    ("media", [("date_added", DESCENDING)], {}),
    # The timeline (gallery.library.timeline): every item by date taken, newest first, as
    # the text `taken_key` (media.dates.taken_key), whose ranges are index ranges on the
    # embedded database too; per album for viewers who may see a few albums only.
    ("media", [("taken_key", DESCENDING)], {}),
    ("media", [("album_id", ASCENDING), ("taken_key", DESCENDING)], {}),
    ("albums", [("cover_id", ASCENDING)], {}),
    # Maintained tag counts (gallery.library.tagcounts), filtered like media by visibility.
    ("tag_counts", [("private", ASCENDING)], {}),
    ("tag_counts", [("album_path", ASCENDING)], {}),
    ("sessions", [("user_id", ASCENDING)], {}),
    ("tokens", [("user_id", ASCENDING), ("purpose", ASCENDING)], {}),
    ("events", [("time", DESCENDING)], {}),
    ("outbox", [("state", ASCENDING), ("created", ASCENDING)], {}),
    ("uploads", [("user_id", ASCENDING)], {}),
    ("uploads", [("state", ASCENDING), ("expires", ASCENDING)], {}),
    ("zip_entries", [("job_id", ASCENDING)], {}),  # gallery/intake/zipimport.py EntryLog
    # Share links (gallery/library/shares.py): found by their token's hash, listed per maker.
    ("shares", [("token_hash", ASCENDING)], {"unique": True}),
    ("shares", [("created_by", ASCENDING), ("created", DESCENDING)], {}),
    ("shares", [("created", DESCENDING)], {}),
    # The trash (gallery/library/trash.py): entries by state and due time, per deleter, and
    # the records each entry holds.
    ("trash", [("state", ASCENDING), ("due", ASCENDING)], {}),
    ("trash", [("trashed.by_id", ASCENDING), ("trashed.at", DESCENDING)], {}),
    ("trash", [("trashed.at", DESCENDING)], {}),
    ("trash_docs", [("entry_id", ASCENDING), ("coll", ASCENDING)], {}),
]


async def create_indexes(db) -> None:
    # One createIndexes command per collection: on the embedded database each command is a
    # round trip and a commit of its own (35 one by one took twice as long when provisioning).
    by_collection: dict[str, list[IndexModel]] = {}
    for collection, keys, options in INDEXES:
        by_collection.setdefault(collection, []).append(IndexModel(keys, **options))
    for collection, models in by_collection.items():
        await db[collection].create_indexes(models)


async def write_meta(db) -> None:
    await db.meta.update_one(
        {"_id": "schema"},
        {"$set": {"version": SCHEMA_VERSION, "updated": datetime.now(UTC)}},
        upsert=True,
    )


async def schema_version(db) -> int:
    doc = await db.meta.find_one({"_id": "schema"})
    return int(doc["version"]) if doc else 0
