"""The gallery's trash: deleted media and albums wait `trash_days` (setting) before they go.

Trashing takes the records OUT of `media` and `albums` (into `trash` entries and their
`trash_docs`) and moves the files out of originals/ into `<root>/trash/<entry>/`. So every
listing, page, search, tag cloud, count, feed, ZIP, file route and API read of the
gallery misses trashed things without a query of its own changing, and a
synchronization never sees their files as new ones. The quota still counts them (the
usage counter goes down only when an entry is emptied).

An entry's `state` is the step it is at; every step is one atomic claim on it, so a
restore and an emptying (or two of either) never both run, and each step can be run
again after a kill -9 (roll forward, `finish_stale`):
  moving    records copied into the trash; live records and files still going
  trashed   waiting (restore or empty)
  restoring records and files going back (the plan is stored first)
  purging   files going for good; the entry goes last, then the usage
Restoring is gallery/library/trash_restore.py; the emptying job and the roll-forward are
gallery/library/trash_upkeep.py.
A read-only media folder has no trash (its files stay where they are, and a
synchronization would bring them back as new items): deleting there is for good, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pymongo.errors import BulkWriteError, DuplicateKeyError

from gallery import failpoints
from gallery.errors import GalleryError, Invalid, NotFound
from gallery.ids import is_id, new_id
from gallery.intake import sync_state
from gallery.library import albums as gallery_albums
from gallery.library import media as gallery_media
from gallery.library import tagcounts
from gallery.library.albums import contains, dirpath_of, get_album
from gallery.media_folder import read_only
from gallery.people.permissions import Viewer, require
from gallery.schema import INDEXES
from gallery.settings import get_settings
from gallery.usage import add_usage

STALE = timedelta(minutes=2)  # a step not finished in this long was killed: roll it forward
TRASH_VERSION = 1


class Busy(GalleryError):
    status = 409
    code = "conflict"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def trash_days(ctx) -> int:
    if read_only(ctx):
        return 0
    return int((await get_settings(ctx)).get("trash_days", 30))


def _who(viewer: Viewer) -> dict:
    user = viewer.user or {}
    return {"by_id": user.get("_id"), "by_name": user.get("username") or ""}


def _stash_rel(entry_id: str, *parts: str) -> str:
    return "/".join(("trash", entry_id, *parts))


# -- deleting: to the trash, or for good -------------------------------------------------------


async def delete_media(ctx, viewer: Viewer, media_id) -> dict:
    """Delete a media object: into the trash, or for good when trash_days is 0."""
    days = await trash_days(ctx)
    if days <= 0:
        await gallery_media.delete_media(ctx, viewer, media_id)
        return {"trashed": False}
    media = await gallery_media.viewable_media(ctx, viewer, media_id, "delete_media")
    album = await ctx.db.albums.find_one({"_id": media["album_id"]}) or {}
    entry = _entry("media", media.get("title") or media.get("file_name") or "", viewer, days,
                   album_id=media["album_id"], album_title=album.get("title", ""))
    entry["bytes"] = int((media.get("original") or {}).get("size") or 0)
    files = []
    path = (media.get("original") or {}).get("path")
    if path:
        files.append({"id": media["_id"], "from": path,
                      "to": _stash_rel(entry["_id"], media["_id"], path.rsplit("/", 1)[-1])})
    entry["files"] = files
    await _trash(ctx, entry, [], [media])
    return {"trashed": True, "entry_id": entry["_id"]}


async def delete_album(ctx, viewer: Viewer, album_id, *, delete_files: bool = True) -> dict:
    """Delete an album and its subtree: into the trash, or for good when trash_days is 0
    (or when its files are to stay on disk: then only the records go, as before)."""
    days = await trash_days(ctx)
    if days <= 0 or not delete_files:
        counts = await gallery_albums.delete_album(ctx, viewer, album_id, delete_files=delete_files)
        return {**counts, "trashed": False}
    album = await get_album(ctx, album_id)
    if not album.get("parent_id"):
        raise Invalid("The root album cannot be deleted.")
    parent = await get_album(ctx, album["parent_id"])
    require(viewer, "view", album)
    require(viewer, "delete_album", parent, hide=False)
    subtree = await ctx.db.albums.find(
        {"$or": [{"_id": album["_id"]}, contains("ancestors", album["_id"])]}).to_list()
    media = await ctx.db.media.find(contains("album_path", album["_id"])).to_list()
    entry = _entry("album", album.get("title", ""), viewer, days,
                   album_id=parent["_id"], album_title=parent.get("title", ""))
    entry["top_id"] = album["_id"]
    entry["bytes"] = sum(int((m.get("original") or {}).get("size") or 0) for m in media)
    top_dir = dirpath_of(album)
    files = []
    if top_dir:  # one rename takes the whole directory (and what is not media in it)
        files.append({"id": album["_id"], "from": f"originals/{top_dir}",
                      "to": _stash_rel(entry["_id"], "tree")})
    prefix = f"originals/{top_dir}/"
    for m in media:
        path = (m.get("original") or {}).get("path")
        if path and not (top_dir and path.startswith(prefix)):
            files.append({"id": m["_id"], "from": path,
                          "to": _stash_rel(entry["_id"], m["_id"], path.rsplit("/", 1)[-1])})
    entry["files"] = files
    await _trash(ctx, entry, subtree, media)
    return {"albums": len(subtree), "media": len(media), "trashed": True,
            "entry_id": entry["_id"]}


def _entry(kind: str, title: str, viewer: Viewer, days: int, *, album_id, album_title) -> dict:
    now = _now()
    return {
        "_id": new_id(), "kind": kind, "state": "moving", "title": title[:200],
        "trashed": {**_who(viewer), "at": now, "album_id": album_id, "album_title": album_title},
        "due": now + timedelta(days=days), "step_at": now, "version": TRASH_VERSION,
    }


async def _trash(ctx, entry: dict, album_docs: list[dict], media_docs: list[dict]) -> None:
    # Where each album sat (title and dirname), so a restore can make the path again.
    top = next((a for a in album_docs if a["_id"] == entry.get("top_id")), None)
    anchor = top["ancestors"] if top else (media_docs[0].get("album_path") or [])
    entry["path"] = [
        {"_id": a["_id"], "title": a.get("title", ""), "dirname": a.get("dirname", "")}
        for a in await _in_order(ctx, anchor)
    ]
    now = entry["step_at"]
    docs = [{"_id": a["_id"], "entry_id": entry["_id"], "coll": "albums", "doc": a, "at": now}
            for a in album_docs]
    docs += [{"_id": m["_id"], "entry_id": entry["_id"], "coll": "media", "doc": m, "at": now}
             for m in media_docs]
    # The records first, the entry last: an entry (what the roll-forward acts on) always
    # holds all its records; records a kill left without their entry are never used.
    # Galleries made before the trash have no indexes on its collections (indexes are made
    # at provisioning); making them here costs nothing when they exist, and no step is needed.
    for collection, keys, options in INDEXES:
        if collection in ("trash", "trash_docs"):
            await ctx.db[collection].create_index(keys, **options)
    await _drop_orphans(ctx, [d["_id"] for d in docs])
    try:
        for i in range(0, len(docs), 500):
            await ctx.db.trash_docs.insert_many(docs[i:i + 500])
    except (DuplicateKeyError, BulkWriteError) as exc:
        await ctx.db.trash_docs.delete_many({"entry_id": entry["_id"]})
        errors = (getattr(exc, "details", None) or {}).get("writeErrors") or [{"code": 11000}]
        if any(e.get("code") != 11000 for e in errors):
            raise
        raise Busy("This is being deleted already.") from None  # another delete got there first
    await ctx.db.trash.insert_one(entry)
    await _finish_moving(ctx, entry)


async def _drop_orphans(ctx, ids: list[str]) -> None:
    """Records of these ids left by a trashing killed before its entry was written go; an
    entry holding one, or records younger than STALE (their entry may be on its way), mean
    another delete of the same item is under way."""
    fresh = _now() - STALE
    for i in range(0, len(ids), 500):
        entry_ids = await ctx.db.trash_docs.distinct("entry_id", {"_id": {"$in": ids[i:i + 500]}})
        for entry_id in entry_ids:
            if await ctx.db.trash.find_one({"_id": entry_id}, {"_id": 1}) or \
                    await ctx.db.trash_docs.find_one({"entry_id": entry_id, "at": {"$gt": fresh}}):
                raise Busy("This item is being deleted already.")
            await ctx.db.trash_docs.delete_many({"entry_id": entry_id})


async def _in_order(ctx, ids: list[str]) -> list[dict]:
    found = {a["_id"]: a for a in await ctx.db.albums.find(
        {"_id": {"$in": list(ids)}}, {"title": 1, "dirname": 1}).to_list()}
    return [found[i] for i in ids if i in found]


async def _docs(ctx, entry_id: str, coll: str):
    async for d in ctx.db.trash_docs.find({"entry_id": entry_id, "coll": coll}):
        yield d["doc"]


async def _finish_moving(ctx, entry: dict) -> None:
    """Take the live records away and move the files into the trash (each step repeatable)."""
    media_ids, album_ids = [], []
    async for m in _docs(ctx, entry["_id"], "media"):
        media_ids.append(m["_id"])
        gone = (await ctx.db.media.delete_one({"_id": m["_id"]})).deleted_count
        if gone and entry["kind"] == "media":  # an album's go with album_deleted below
            await tagcounts.media_removed(ctx, m)
    async for a in _docs(ctx, entry["_id"], "albums"):
        album_ids.append(a["_id"])
    if entry["kind"] == "album":
        await tagcounts.album_deleted(ctx, entry["top_id"])
        for i in range(0, len(album_ids), 500):
            await ctx.db.albums.delete_many({"_id": {"$in": album_ids[i:i + 500]}})
    await failpoints.reached("trash.records_gone")
    for f in entry.get("files", ()):
        await asyncio.to_thread(_move, ctx.storage.resolve(f["from"]), ctx.storage.resolve(f["to"]))
    for i in range(0, len(media_ids), 500):
        await ctx.db.albums.update_many({"cover_id": {"$in": media_ids[i:i + 500]}},
                                        {"$set": {"cover_id": None}})
    # The directory listings the last synchronization recorded no longer hold.
    await sync_state.forget(ctx, [entry["trashed"]["album_id"], *album_ids])
    await ctx.db.trash.update_one({"_id": entry["_id"], "state": "moving"},
                                  {"$set": {"state": "trashed", "step_at": _now()}})


def _move(src: Path, dst: Path) -> None:
    """Rename src to dst unless that already happened (a re-run after a kill)."""
    if not src.exists() or dst.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):  # a racing roll-forward moved it first
        os.rename(src, dst)


def _merge_move(src: Path, dst: Path) -> None:
    """Move a directory back; into one that exists again (an album recreated by the
    restore of something that was in it), entry by entry. Names cannot collide: both
    hold what one directory held."""
    if not src.exists():
        return
    if not dst.exists():
        return _move(src, dst)
    for child in list(src.iterdir()):
        if child.is_dir() and (dst / child.name).is_dir():
            _merge_move(child, dst / child.name)
        else:
            _move(child, dst / child.name)


# -- reading ------------------------------------------------------------------------------------


def may_restore(viewer: Viewer, entry: dict) -> bool:
    """Administrators, and whoever put it in the trash."""
    if viewer.anonymous:
        return False
    return viewer.is_admin or entry["trashed"].get("by_id") == viewer.user["_id"]


async def list_trash(ctx, viewer: Viewer, *, skip: int = 0, limit: int = 100) -> tuple[list, int]:
    """Entries the viewer may restore, newest first; (page, total)."""
    if viewer.anonymous:
        return [], 0
    query: dict = {"state": {"$in": ["trashed", "moving", "restoring"]}}
    if not viewer.is_admin:
        query["trashed.by_id"] = viewer.user["_id"]
    total = await ctx.db.trash.count_documents(query)
    page = await ctx.db.trash.find(query, {"files": 0}).sort(
        [("trashed.at", -1), ("_id", -1)]).skip(max(0, skip)).limit(limit).to_list()
    for entry in page:
        entry["media_count"] = await ctx.db.trash_docs.count_documents(
            {"entry_id": entry["_id"], "coll": "media"})
    return page, total


async def get_entry(ctx, viewer: Viewer, entry_id) -> dict:
    entry = await ctx.db.trash.find_one({"_id": entry_id}) if is_id(entry_id) else None
    if entry is None or not may_restore(viewer, entry):
        raise NotFound("No such item in the trash.")
    return entry

async def first_media(ctx, entry_id: str) -> dict | None:
    """The entry's first media record (its picture on the Trash page)."""
    found = await ctx.db.trash_docs.find({"entry_id": entry_id, "coll": "media"}).sort(
        "_id", 1).limit(1).to_list()
    return found[0]["doc"] if found else None


# -- deleting for good ---------------------------------------------------------------------------


async def purge(ctx, viewer: Viewer, entry_id) -> None:
    """Delete one entry for good (who may restore it may delete it)."""
    await get_entry(ctx, viewer, entry_id)
    if not await _claim_purge(ctx, {"_id": entry_id, "state": "trashed"}):
        raise Busy("This item is being restored or deleted already.")


async def empty(ctx, viewer: Viewer) -> int:
    """Empty the whole trash (administrators)."""
    if not viewer.is_admin:
        raise NotFound("No such page.")
    return await _purge_all(ctx, {"state": "trashed"})


async def _purge_all(ctx, query: dict) -> int:
    done = 0
    while await _claim_purge(ctx, query):
        done += 1
    return done


async def _claim_purge(ctx, query: dict) -> bool:
    entry = await ctx.db.trash.find_one_and_update(
        query, {"$set": {"state": "purging", "step_at": _now()}}, return_document=True)
    if entry is None:
        return False
    await _finish_purging(ctx, entry)
    return True


async def _finish_purging(ctx, entry: dict) -> None:
    """Files first, then the records, then the usage: a kill anywhere leaves a `purging`
    entry that the next run finishes; the usage goes down only with the entry's removal."""
    async for m in _docs(ctx, entry["_id"], "media"):
        await asyncio.to_thread(shutil.rmtree, ctx.storage.derivatives / m["_id"], True)
        # Members' votes stay while it can be restored, and go with it (library/ratings.py).
        await ctx.db.ratings.delete_many({"media_id": m["_id"]})
    await asyncio.to_thread(shutil.rmtree, ctx.storage.resolve(_stash_rel(entry["_id"])), True)
    await failpoints.reached("trash.files_gone")
    await ctx.db.trash_docs.delete_many({"entry_id": entry["_id"]})
    gone = await ctx.db.trash.delete_one({"_id": entry["_id"], "state": "purging"})
    if gone.deleted_count and entry.get("bytes"):
        await add_usage(ctx, -int(entry["bytes"]))
