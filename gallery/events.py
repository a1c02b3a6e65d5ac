"""The tenant's event log: errors and security events, newest kept, never secrets."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from gallery.ids import new_id

log = logging.getLogger("atrium.events")

EVENT_VERSION = 1
# Keys whose values must never reach the log, whatever a caller passes in `details`.
_SECRET_WORDS = ("password", "token", "cookie", "secret")
_pending: set[asyncio.Task] = set()


async def record_event(ctx, kind: str, message: str, *, user: dict | None = None, ip: str = "",
                       url: str = "", details: dict | None = None, event_id: str | None = None) -> dict:
    event = {
        "_id": new_id(),
        "time": datetime.now(UTC),
        "kind": kind,
        "message": message[:2000],
        "user_id": user["_id"] if user else None,
        "username": user["username"] if user else None,
        "ip": ip,
        "url": url[:500],
        "details": {k: v for k, v in (details or {}).items() if not any(w in k.lower() for w in _SECRET_WORDS)},
        "event_id": event_id,
        "version": EVENT_VERSION,
    }
    await ctx.db.events.insert_one(event)
    return event


def record_event_soon(ctx, kind: str, message: str, **kwargs) -> None:
    """Record from a synchronous place (an error handler) without blocking the response."""
    async def run():
        try:
            await record_event(ctx, kind, message, **kwargs)
        except Exception:  # the log must never take the request down with it
            log.exception("could not record event")

    task = asyncio.get_running_loop().create_task(run())
    _pending.add(task)
    task.add_done_callback(_pending.discard)
