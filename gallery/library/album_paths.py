"""Folders become albums: a folder path below an album is found or made, one level at a time.

Used by ZIP import (each entry's directories) and by folder uploads (a dropped folder's
files carry their folder, `Holidays/Beach`). A level whose title matches an existing child
album is reused, so dropping the same folder twice fills the same albums. Concurrent
uploads of one new folder (the upload page sends several files at once) make it once:
creation is serialised per (tenant, parent, title) in this process.
"""

from __future__ import annotations

import asyncio
import re

from gallery.errors import Invalid
from gallery.i18n import Message
from gallery.library.albums import MAX_TITLE, create_album

MAX_DEPTH = 16
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# (database, parent id, title) -> [lock, callers holding or waiting for it].
_making: dict[tuple[str, str, str], list] = {}


def folder_parts(raw) -> list[str]:
    """The levels of a folder path as given by a browser (`a/b`, `a\\b`); [] for none.

    Raises Invalid for what no folder on a disk looks like: `..`, control characters,
    more than MAX_DEPTH levels, or something that is not text."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, str) or len(raw) > 4096:
        raise Invalid("The folder must be a path of at most 4096 characters.",
                      field_errors={"folder": "is not a folder path"})
    if _CONTROL.search(raw):
        raise Invalid("The folder path contains control characters.",
                      field_errors={"folder": "contains control characters"})
    parts = []
    for part in re.split(r"[/\\]", raw):
        part = part.strip()
        if part in ("", "."):
            continue
        if part == "..":
            raise Invalid("A folder path may not go up a level (..).",
                          field_errors={"folder": "may not contain .."})
        parts.append(part[:MAX_TITLE])
    if len(parts) > MAX_DEPTH:
        raise Invalid(Message("Folders may be nested at most %(depth)s deep.", depth=MAX_DEPTH),
                      field_errors={"folder": "is nested too deep"})
    return parts


async def album_for_folder(
    ctx, viewer, target: dict, parts: list[str], cache: dict | None = None
) -> dict:
    """The album for `parts` below `target`, made where missing (needs add_album there).

    `cache` (folder tuple -> album) saves lookups across the entries of one import."""
    cache = {} if cache is None else cache
    album = target
    for depth in range(1, len(parts) + 1):
        key = tuple(parts[:depth])
        if key in cache:
            album = cache[key]
            continue
        # The title as create_album would store it, so the lookup finds what it made.
        title = " ".join(parts[depth - 1].split())[:MAX_TITLE] or "Untitled"
        album = cache[key] = await _child(ctx, viewer, album, title)
    return album


async def _child(ctx, viewer, parent: dict, title: str) -> dict:
    key = (ctx.db.name, parent["_id"], title)
    entry = _making.setdefault(key, [asyncio.Lock(), 0])
    entry[1] += 1  # callers holding or waiting for the lock; the last one removes it
    try:
        async with entry[0]:
            child = await ctx.db.albums.find_one({"parent_id": parent["_id"], "title": title})
            if child is None:
                child = await create_album(ctx, viewer, parent["_id"], {"title": title})
            return child
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            del _making[key]
