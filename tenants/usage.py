"""A tenant's usage as the host console shows it: media count, users, bytes on disk."""

from __future__ import annotations

import asyncio


async def tenant_usage(registry, slug: str) -> dict:
    db = registry.tenant_db(slug)
    media, users = await asyncio.gather(
        db.media.count_documents({}), db.users.count_documents({})
    )
    size = await asyncio.to_thread(registry.storage(slug).usage_bytes)
    return {"media": media, "users": users, "bytes": size}
