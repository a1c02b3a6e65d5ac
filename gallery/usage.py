"""A tenant's storage usage: a counter of original bytes kept in `meta`, and the quota.

Kept as a counter (updated whenever originals arrive or go) so that an upload's quota
check is one atomic update, not a walk of the storage root.
"""

from __future__ import annotations

from pymongo import ReturnDocument

from gallery.errors import TooLarge

USAGE_ID = "usage"


async def current_usage(ctx) -> int:
    """Bytes of originals this tenant stores (a counter kept by add_usage, not a disk walk)."""
    doc = await ctx.db.meta.find_one({"_id": USAGE_ID})
    return int(doc.get("bytes", 0)) if doc else 0


async def add_usage(ctx, delta: int) -> int:
    """Change the usage counter by `delta` bytes (negative when files go away); returns it."""
    doc = await ctx.db.meta.find_one_and_update(
        {"_id": USAGE_ID},
        {"$inc": {"bytes": int(delta)}, "$set": {"version": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return int(doc.get("bytes", 0))


def quota_bytes(ctx) -> int:
    """The tenant's quota in bytes; 0 means unlimited."""
    return int(ctx.record.get("quota_bytes") or 0)


async def check_quota(ctx, incoming: int) -> None:
    """Raise TooLarge when `incoming` more bytes would not fit in the tenant's quota."""
    quota = quota_bytes(ctx)
    if quota and await current_usage(ctx) + incoming > quota:
        raise TooLarge(_quota_message(quota))


async def reserve(ctx, size: int) -> None:
    """Count `size` bytes against the quota atomically (no two uploads both take the last MB)."""
    quota = quota_bytes(ctx)
    total = await add_usage(ctx, size)
    if quota and total > quota:
        await add_usage(ctx, -size)
        raise TooLarge(_quota_message(quota))


def _quota_message(quota: int) -> str:
    return f"This gallery's storage quota ({megabytes(quota)}) is used up; the file does not fit."


def megabytes(n: int) -> str:
    """Bytes as people read them in messages."""
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"
