"""A tenant's usage as the host console shows it: media count, users, bytes on disk."""

from __future__ import annotations

import asyncio


async def tenant_usage(registry, slug: str, record: dict | None = None) -> dict:
    if record is None:  # its database is named by the record (registry.database_name)
        record = await registry.host_db.tenants.find_one({"_id": slug})
    db = registry.tenant_db(slug, record)
    media, users = await asyncio.gather(
        db.media.count_documents({}), db.users.count_documents({})
    )
    size = await asyncio.to_thread(registry.storage(slug).usage_bytes)
    return {"media": media, "users": users, "bytes": size}
