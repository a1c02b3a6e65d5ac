"""A tenant's storage usage: a counter of original bytes kept in `meta`, and the quota.

Kept as a counter (updated whenever originals arrive or go) so that an upload's quota
check is one atomic update, not a walk of the storage root. Beside it, `tmp_bytes`: what
interrupted work left in tmp/ and no live process owns, as the last sweep found it
(gallery/intake/tmpsweep.py); it counts against the quota until the sweep removes it.
"""

from __future__ import annotations

from pymongo import ReturnDocument

from gallery.errors import QuotaExceeded
from gallery.i18n import Message

USAGE_ID = "usage"


async def current_usage(ctx) -> int:
    """Bytes this tenant stores: originals (a counter kept by add_usage, not a disk walk)
    and leftover temp files."""
    doc = await ctx.db.meta.find_one({"_id": USAGE_ID})
    return _total(doc) if doc else 0


def _total(doc: dict) -> int:
    return int(doc.get("bytes", 0)) + int(doc.get("tmp_bytes", 0))


async def set_tmp_bytes(ctx, size: int) -> None:
    """Record the leftover temp bytes the tmp/ sweep found."""
    await ctx.db.meta.update_one(
        {"_id": USAGE_ID}, {"$set": {"tmp_bytes": int(size), "version": 1}}, upsert=True
    )


async def add_usage(ctx, delta: int) -> int:
    """Change the usage counter by `delta` bytes (negative when files go away); returns
    the usage (leftover temp bytes included)."""
    doc = await ctx.db.meta.find_one_and_update(
        {"_id": USAGE_ID},
        {"$inc": {"bytes": int(delta)}, "$set": {"version": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return _total(doc)


def quota_bytes(ctx) -> int:
    """The tenant's quota in bytes; 0 means unlimited."""
    return int(ctx.record.get("quota_bytes") or 0)


async def check_quota(ctx, incoming: int) -> None:
    """Raise TooLarge when `incoming` more bytes would not fit in the tenant's quota."""
    quota = quota_bytes(ctx)
    if quota and await current_usage(ctx) + incoming > quota:
        raise QuotaExceeded(_quota_message(quota))


async def reserve(ctx, size: int) -> None:
    """Count `size` bytes against the quota atomically (no two uploads both take the last MB)."""
    quota = quota_bytes(ctx)
    total = await add_usage(ctx, size)
    if quota and total > quota:
        await add_usage(ctx, -size)
        raise QuotaExceeded(_quota_message(quota))


def _quota_message(quota: int) -> Message:
    return Message("This gallery's storage quota (%(quota)s) is used up; the file does not fit.", quota=megabytes(quota))


def megabytes(n: int) -> str:
    """Bytes as people read them in messages."""
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"
