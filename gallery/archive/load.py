"""Writing a checked backup's documents into an empty tenant database, with every field
the format does not carry recomputed from the others (document.RECOMPUTED): album paths,
media visibility, search and tag keys, name keys, tag counts and the usage counter."""

from __future__ import annotations

from gallery.archive.document import Snapshot
from gallery.library.keywords import search_keys
from gallery.library.tags import tag_fields
from gallery.people.users import username_key
from media.dates import taken_key

BATCH = 500
#: Collections a restore fills; each must be empty before it starts (checked).
FILLED = ("albums", "media", "users", "roles", "settings", "tag_counts")


class NotEmpty(Exception):
    """The target database already holds a gallery's documents."""


def complete(snap: Snapshot) -> None:
    """Recompute in place the stored fields the backup does not carry."""
    complete_others(snap)
    complete_media(snap.media, {a["_id"]: a for a in snap.albums})


def complete_media(docs: list, albums: dict) -> None:
    """A batch of media documents' recomputed fields (albums completed first)."""
    for media in docs:
        album = albums[media["album_id"]]
        media["album_path"] = list(album["ancestors"]) + [album["_id"]]
        media.update(tag_fields(media.get("tags") or []))
        media["search_keys"] = search_keys(media)
        media["taken_key"] = taken_key(media.get("date_taken"))
        media["derivatives"] = {}
        if media.get("original") and media.get("kind") != "external":
            media["state"] = "pending"  # its derivatives are remade by media.process


def complete_others(snap: Snapshot) -> None:
    """Albums' paths, users' and roles' name keys."""
    albums = {a["_id"]: a for a in snap.albums}
    for album in sorted(snap.albums, key=lambda a: len(a["ancestors"])):  # parents first
        parent = albums.get(album["parent_id"])
        if parent is None:
            album["dirpath"] = ""
        else:
            album["dirpath"] = f"{parent['dirpath']}/{album['dirname']}" if parent["dirpath"] else album["dirname"]
    for user in snap.users:
        user["username_key"] = username_key(user["username"])
        user["email_key"] = (user.get("email") or "").lower()
    for role in snap.roles:
        role["name_key"] = username_key(role["name"])


def _next_batch(batches, albums: dict, tally) -> list | None:
    batch = next(batches, None)
    if batch is not None:
        complete_media(batch, albums)
        if tally is not None:
            for media in batch:
                tally.add(media)
    return batch


async def write_documents(ctx, snap: Snapshot, original_bytes: int, *, tally=None) -> None:
    """Insert everything into ctx.db (empty: checked first; `ctx` needs .db). The caller makes
    the indexes afterwards (a bulk load into indexed collections took twice as long on the
    embedded database) and then the tag counts: `tally` (a tagcounts.Tally) counts the media
    as they are inserted, so the caller writes them without reading the media back."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    db = ctx.db
    for name in FILLED:
        if await db[name].find_one({}, {"_id": 1}) is not None:
            raise NotEmpty(f"the target gallery is not empty ({name} has documents)")
    complete_others(snap)
    for name, docs in (("albums", snap.albums), ("roles", snap.roles), ("users", snap.users)):
        for i in range(0, len(docs), BATCH):
            await db[name].insert_many(docs[i:i + BATCH], ordered=True)
    # Media batch by batch as they are read again from backup.xml (media_source.MediaSource),
    # recomputed off the event loop and inserted: the gallery's media documents are never
    # all in memory at once (restore's peak).
    albums = {a["_id"]: a for a in snap.albums}
    media = snap.media
    batches = media.batches(BATCH) if hasattr(media, "batches") else (
        media[i:i + BATCH] for i in range(0, len(media), BATCH))
    # One thread of its own reads them: lxml's trees and parsers belong to the thread that
    # made them (advanced from the default executor's threads in turn, libxml2 aborted).
    # The next batch is read while this one is inserted (the database's work is another
    # process's): two batches in memory at most.
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(1, thread_name_prefix="restore-read")
    ahead = None
    try:
        ahead = loop.run_in_executor(reader, _next_batch, batches, albums, tally)
        while True:
            batch = await ahead
            ahead = None
            if batch is None:
                break
            ahead = loop.run_in_executor(reader, _next_batch, batches, albums, tally)
            await db.media.insert_many(batch, ordered=True)
    finally:
        if ahead is not None:  # (a failed insert or a cancel): the read ahead ends first
            await asyncio.gather(asyncio.shield(ahead), return_exceptions=True)
        if hasattr(batches, "close"):  # its archive closed, wherever it stopped
            await asyncio.shield(loop.run_in_executor(reader, batches.close))
        reader.shutdown(wait=False)
    now = datetime.now(UTC)
    await db.settings.update_one(
        {"_id": "gallery"}, {"$set": {"values": snap.settings, "version": 1, "updated": now}}, upsert=True)
    await db.meta.update_one({"_id": "usage"}, {"$set": {"bytes": int(original_bytes), "tmp_bytes": 0,
                                                         "version": 1}}, upsert=True)
