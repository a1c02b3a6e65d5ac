"""What the last synchronization saw in each directory, so the next one can skip it.

One `sync_dirs` document per album directory: {_id: album id, dirpath, files: [[name,
size, mtime_ns, media id or None], ...]} (a list: file names are no field names). A directory whose listing (names, sizes and mtimes,
from the scan's one `stat` per file) equals its document is unchanged: none of its media
records are loaded. Loading 10,000 media records costs seconds on the embedded database,
these documents a fraction of that, and this is what keeps a second sync of an unchanged
tree of 10,000 files under 5 s. A directory is looked at in full when anything in its
listing differs (a file added by an upload, moved, replaced, removed), when it has no
document yet (a new album, an album moved to another directory), or when the caller asks
for a thorough run. Files still being written, or refused only for now (quota), are left
out of the document, so their directory is looked at again next time.
"""

from __future__ import annotations

COLLECTION = "sync_dirs"
_CHUNK = 500


async def load(ctx, album_ids: list[str]) -> dict[str, dict]:
    states: dict[str, dict] = {}
    for i in range(0, len(album_ids), _CHUNK):
        chunk = album_ids[i:i + _CHUNK]
        for doc in await ctx.db[COLLECTION].find({"_id": {"$in": chunk}}).to_list():
            states[doc["_id"]] = doc
    return states


def unchanged(state: dict | None, dirpath: str, listing: dict[str, tuple[int, int]]) -> bool:
    """Whether a directory's listing is exactly what the last sync recorded."""
    if state is None or state.get("dirpath") != dirpath:
        return False
    files = {entry[0]: entry[1:] for entry in state.get("files") or ()}
    if len(files) != len(listing):
        return False
    for name, seen in listing.items():
        entry = files.get(name)
        if entry is None or (entry[0], entry[1]) != seen:
            return False
    return True


def media_count(state: dict) -> int:
    return sum(1 for entry in state.get("files") or () if entry[3])


async def store(ctx, album_id: str, dirpath: str, files: list[list]) -> None:
    await ctx.db[COLLECTION].replace_one(
        {"_id": album_id}, {"_id": album_id, "dirpath": dirpath, "files": files, "version": 1},
        upsert=True)


async def forget(ctx, album_ids: list[str]) -> None:
    for i in range(0, len(album_ids), _CHUNK):
        await ctx.db[COLLECTION].delete_many({"_id": {"$in": album_ids[i:i + _CHUNK]}})
