"""The gallery's sync key: what a cron job or an upload script shows to start a sync.

One key per gallery (GSP had a URL with a password). It is made with 32 random bytes,
shown once, and stored only as its SHA-256 (a key this long needs no slow hash: nobody
can guess it, and the hash is only compared). Making a new key replaces the old one;
revoking removes it. Every trigger, right key or wrong, takes a slot in a per-minute
counter (one atomic `$inc`), so the endpoint cannot be used to hammer the disk or to
try keys quickly.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from pymongo import ReturnDocument

from gallery.errors import Forbidden, TooManyRequests

KEY_ID = "sync_key"
PREFIX = "atrsync_"
TRIGGERS_PER_MINUTE = 6


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def create_key(ctx, user: dict | None) -> str:
    """Make (or replace) the key; returns it: the only time it is seen."""
    key = PREFIX + secrets.token_urlsafe(32)
    await ctx.db.meta.replace_one(
        {"_id": KEY_ID},
        {"_id": KEY_ID, "hash": _hash(key), "created": datetime.now(UTC),
         "created_by": (user or {}).get("_id"), "hint": key[-4:], "version": 1},
        upsert=True,
    )
    return key


async def key_info(ctx) -> dict | None:
    """What may be shown about the key (never the key): when it was made, its last 4."""
    doc = await ctx.db.meta.find_one({"_id": KEY_ID})
    if doc is None:
        return None
    return {"created": doc["created"], "hint": doc.get("hint", ""),
            "last_used": doc.get("last_used")}


async def revoke_key(ctx) -> bool:
    return (await ctx.db.meta.delete_one({"_id": KEY_ID})).deleted_count == 1


async def check_key(ctx, presented: str) -> None:
    """Count the attempt, then raise TooManyRequests or Forbidden unless `presented` is
    the gallery's key."""
    minute = datetime.now(UTC).strftime("%Y%m%d%H%M")
    counter = await ctx.db.meta.find_one_and_update(
        {"_id": "sync_trigger", "minute": minute}, {"$inc": {"count": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if counter is None:  # the first of this minute (two at once both start at 1: harmless)
        await ctx.db.meta.replace_one(
            {"_id": "sync_trigger"},
            {"_id": "sync_trigger", "minute": minute, "count": 1, "version": 1}, upsert=True)
    if int((counter or {}).get("count", 1)) > TRIGGERS_PER_MINUTE:
        raise TooManyRequests("Too many sync requests; try again in a minute.")
    doc = await ctx.db.meta.find_one({"_id": KEY_ID})
    if not presented or doc is None or not hmac.compare_digest(doc["hash"], _hash(presented)):
        raise Forbidden("The sync key is missing, wrong or revoked.")
    await ctx.db.meta.update_one({"_id": KEY_ID}, {"$set": {"last_used": datetime.now(UTC)}})
