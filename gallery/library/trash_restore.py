"""Restoring an entry of the trash (gallery/library/trash.py): its records and files go
back where they were. Where the album it was in is gone (deleted for good, or itself in
the trash), the album path is made again: each missing album anew, empty, with its old
id, title and directory name; restoring that album's own entry later fills it (its
records replace the new ones, its directory merges into the new one).

The plan (which directory each album takes, where each file goes) is stored in the
entry before anything moves, so a restore killed halfway is finished by the next run of
the trash job (gallery/library/trash_upkeep.py) the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

from gallery.errors import NotFound
from gallery.intake import sync_state
from gallery.library import albums as gallery_albums
from gallery.library import media as gallery_media
from gallery.library import tagcounts
from gallery.library.albums import dirpath_of, sibling_dirnames
from gallery.library.filenames import place_file, safe_dirname
from gallery.library.trash import Busy, _docs, _merge_move, _now, _stash_rel, _who, get_entry
from gallery.people.permissions import Viewer


async def restore(ctx, viewer: Viewer, entry_id) -> dict:
    """Put an entry back where it was; returns {"album_id", "media_id"?} to go to."""
    await get_entry(ctx, viewer, entry_id)
    entry = await ctx.db.trash.find_one_and_update(
        {"_id": entry_id, "state": "trashed"},
        {"$set": {"state": "restoring", "step_at": _now(), "restored_by": _who(viewer)}},
        return_document=True)
    if entry is None:
        raise Busy("This item is being restored or deleted already.")
    return await _finish_restoring(ctx, entry)


async def _ensure_path(ctx, path: list[dict]) -> dict:
    """The album at the end of `path`, recreated (same id, its title) where it is gone."""
    parent = None
    for step in path:
        album = await ctx.db.albums.find_one({"_id": step["_id"]})
        if album is None:
            if parent is None:  # the root itself is never trashed; it is there
                raise NotFound("The gallery has no root album.")
            names = await sibling_dirnames(ctx, parent)
            album = gallery_albums.album_document(
                step.get("title") or "Restored", parent,
                dirname=safe_dirname(step.get("dirname") or step.get("title") or "", names))
            album["_id"] = step["_id"]
            album["position"] = await gallery_media.next_position(ctx, parent["_id"])
            await asyncio.to_thread(gallery_albums.album_dir(ctx, album).mkdir,
                                    parents=True, exist_ok=True)
            with contextlib.suppress(Exception):  # a racing restore made it first
                await ctx.db.albums.insert_one(album)
            album = await ctx.db.albums.find_one({"_id": step["_id"]})
        parent = album
    return parent


async def _plan(ctx, entry: dict) -> dict:
    """Where everything goes back: album dirpaths and each file's move (stored first)."""
    parent = await _ensure_path(ctx, entry["path"])
    moves: list[dict] = []
    albums: dict[str, dict] = {}
    if entry["kind"] == "album":
        top = next(d for d in [a async for a in _docs(ctx, entry["_id"], "albums")]
                   if d["_id"] == entry["top_id"])
        old_dir = dirpath_of(top)
        live = await ctx.db.albums.find_one({"_id": top["_id"]})
        if live is not None:  # made again by the restore of an item that was in it
            name, new_dir = live.get("dirname", ""), dirpath_of(live)
        else:
            names = {n.casefold() for n in await sibling_dirnames(ctx, parent)}
            name = top.get("dirname") or ""
            if not name or name.casefold() in names:
                name = safe_dirname(name or top["title"], names)
            new_dir = f"{dirpath_of(parent)}/{name}" if dirpath_of(parent) else name
        prefix = list(parent.get("ancestors", [])) + [parent["_id"]]
        async for a in _docs(ctx, entry["_id"], "albums"):
            rest = (dirpath_of(a))[len(old_dir):] if old_dir else ""
            below = a.get("ancestors", [])[a.get("ancestors", []).index(top["_id"]):] \
                if a["_id"] != top["_id"] else []
            albums[a["_id"]] = {"dirpath": new_dir + rest, "ancestors": prefix + below,
                                "parent_id": parent["_id"] if a["_id"] == top["_id"] else a["parent_id"]}
        albums[top["_id"]]["dirname"] = name
        for f in entry.get("files", ()):
            if f["id"] == top["_id"]:
                moves.append({"from": f["to"], "to": f"originals/{new_dir}", "tree": old_dir})
    return {"albums": albums, "moves": moves, "parent_id": parent["_id"]}


async def _finish_restoring(ctx, entry: dict) -> dict:
    if not entry.get("plan"):
        # Stored before anything moves, so a re-run after a kill follows the same plan.
        plan = await _plan(ctx, entry)
        await ctx.db.trash.update_one({"_id": entry["_id"], "plan": {"$exists": False}},
                                      {"$set": {"plan": plan}})
        entry = await ctx.db.trash.find_one({"_id": entry["_id"]})
    plan = entry["plan"]
    for move in plan["moves"]:
        await asyncio.to_thread(_merge_move, ctx.storage.resolve(move["from"]),
                                ctx.storage.resolve(move["to"]))
    stashed = {f["id"]: f for f in entry.get("files", ())}
    album_ids = []
    async for a in _docs(ctx, entry["_id"], "albums"):
        a.update(plan["albums"].get(a["_id"], {}))
        await ctx.db.albums.replace_one({"_id": a["_id"]}, a, upsert=True)
        album_ids.append(a["_id"])
    async for m in _docs(ctx, entry["_id"], "media"):
        album = await ctx.db.albums.find_one({"_id": m["album_id"]})
        if album is None:  # a media entry: its album was made again along the path
            album = await _ensure_path(ctx, entry["path"])
        m.update(album_id=album["_id"], album_path=list(album.get("ancestors", [])) + [album["_id"]],
                 private=bool(album.get("private")))
        m["original"] = dict(m.get("original") or {})
        await _restore_file(ctx, m, album, stashed.get(m["_id"]), plan)
        if await ctx.db.media.find_one({"_id": m["_id"]}, {"_id": 1}) is None:
            if entry["kind"] == "media":  # last in its album; an album's keep their order
                m["position"] = await gallery_media.next_position(ctx, album["_id"])
            await ctx.db.media.insert_one(m)
            await tagcounts.media_added(ctx, m)
    await ctx.db.trash_docs.delete_many({"entry_id": entry["_id"]})
    await ctx.db.trash.delete_one({"_id": entry["_id"]})
    with contextlib.suppress(OSError):
        await asyncio.to_thread(shutil.rmtree, ctx.storage.resolve(_stash_rel(entry["_id"])))
    target = {"album_id": entry["top_id"] if entry["kind"] == "album" else plan["parent_id"]}
    if entry["kind"] == "media":
        target["media_id"] = (stashed and next(iter(stashed))) or None
    await sync_state.forget(ctx, [plan["parent_id"], *album_ids])
    return target


async def _restore_file(ctx, m: dict, album: dict, stash: dict | None, plan: dict) -> None:
    """Point the record at its file again: moved with its album's directory, or back one by one."""
    path = m["original"].get("path") or ""
    for move in plan["moves"]:  # the album directory came back whole
        old = f"originals/{move['tree']}/"
        if path.startswith(old):
            m["original"]["path"] = move["to"] + "/" + path[len(old):]
            return
    if stash is None:
        return
    src = ctx.storage.resolve(stash["to"])
    if await asyncio.to_thread(src.exists):
        folder = gallery_albums.album_dir(ctx, album)
        placed = await asyncio.to_thread(place_file, src, folder, src.name)
        rel = dirpath_of(album)
        m["original"]["path"] = f"originals/{rel}/{placed.name}" if rel else f"originals/{placed.name}"
