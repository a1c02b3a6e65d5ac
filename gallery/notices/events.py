"""The tenant's event log: errors and security events, newest kept, never secrets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from gallery.i18n import Message
from gallery.ids import new_id

log = logging.getLogger("atrium.events")

EVENT_VERSION = 1
# Keys whose values must never reach the log, whatever a caller passes in `details`.
_SECRET_WORDS = ("password", "token", "cookie", "secret")
_pending: set[asyncio.Task] = set()
# Who reacts to a recorded error (gallery.notices.mail mails the administrators): the log records,
# the notifier subscribes, so the log never imports mail.
ERROR_HOOKS: list[Callable[[Any, dict], Awaitable[Any]]] = []


async def record_event(
    ctx,
    kind: str,
    message: str,
    *,
    user: dict | None = None,
    ip: str = "",
    url: str = "",
    details: dict | None = None,
    event_id: str | None = None,
) -> dict:
    event = {
        "_id": new_id(),
        "time": datetime.now(UTC),
        "kind": kind,
        "message": message[:2000],
        "user_id": user["_id"] if user else None,
        "username": user["username"] if user else None,
        "ip": ip,
        "url": url[:500],
        "details": {
            k: v
            for k, v in (details or {}).items()
            if not any(w in k.lower() for w in _SECRET_WORDS)
        },
        "event_id": event_id,
        "version": EVENT_VERSION,
    }
    if isinstance(message, Message):  # kept to be shown in each reader's language
        event["said"] = _said(message)
    await ctx.db.events.insert_one(event)
    await _trim(ctx)
    if kind == "error":
        for hook in ERROR_HOOKS:
            try:
                await hook(ctx, event)
            except Exception:  # telling the admins must not hide the error itself
                log.exception("could not queue the error notice")
    return event


async def _trim(ctx) -> None:
    """Keep only the newest `event_log_size` entries."""
    from gallery.settings import get_settings

    size = int((await get_settings(ctx)).get("event_log_size", 2000))
    if await ctx.db.events.count_documents({}) <= size:
        return
    keep = (
        await ctx.db.events.find({}, {"time": 1})
        .sort([("time", -1), ("_id", -1)])
        .skip(size - 1)
        .limit(1)
        .to_list()
    )
    if keep:
        oldest = keep[0]
        await ctx.db.events.delete_many(
            {
                "$or": [
                    {"time": {"$lt": oldest["time"]}},
                    {"time": oldest["time"], "_id": {"$lt": oldest["_id"]}},
                ]
            }
        )


def _filter(kind: str | None = None, text: str | None = None, who: str | None = None,
            since: datetime | None = None, until: datetime | None = None) -> dict:
    import re

    query: dict = {}
    if kind:
        query["kind"] = kind
    if who:  # the account name as typed, any case (an exact name, not a pattern)
        query["username"] = {"$regex": f"^{re.escape(who.strip()[:100])}$", "$options": "i"}
    if since or until:
        query["time"] = {**({"$gte": since} if since else {}), **({"$lt": until} if until else {})}
    if text:
        pattern = re.escape(text.strip()[:200])
        query["$or"] = [
            {"message": {"$regex": pattern, "$options": "i"}},
            {"username": {"$regex": pattern, "$options": "i"}},
        ]
    return query


async def list_events(
    ctx, *, kind: str | None = None, text: str | None = None, who: str | None = None,
    since: datetime | None = None, until: datetime | None = None, skip: int = 0,
    limit: int = 100,
) -> tuple[list[dict], int]:
    """Newest first, filtered by kind, by text in the message or user name, by who did it
    and by time (since inclusive, until exclusive); (page, total)."""
    query = _filter(kind, text, who, since, until)
    total = await ctx.db.events.count_documents(query)
    page = (
        await ctx.db.events.find(query)
        .sort([("time", -1), ("_id", -1)])
        .skip(max(0, skip))
        .limit(limit)
        .to_list()
    )
    return page, total


async def event_kinds(ctx) -> list[str]:
    return sorted(k for k in await ctx.db.events.distinct("kind") if k)


async def event_users(ctx) -> list[str]:
    """The account names the log holds (the "who" filter's choices)."""
    return sorted((u for u in await ctx.db.events.distinct("username") if u), key=str.casefold)


async def clear_events(ctx) -> int:
    result = await ctx.db.events.delete_many({})
    return result.deleted_count


def _said(message: Message) -> dict:
    """A Message as a document: its template and values (a value that is a Message nests)."""
    return {"template": message.template[:2000], "values": {
        k: _said(v) if isinstance(v, Message) else (v[:500] if isinstance(v, str) else v)
        for k, v in message.values.items()
    }}


def _message(said: dict) -> Message:
    values = {k: _message(v) if isinstance(v, dict) else v for k, v in said["values"].items()}
    return Message(said["template"], **values)


def shown_message(event: dict, translate) -> str:
    """An event's message in the reader's language (`translate`: a locale's translate) when
    it was recorded as a Message; otherwise, or if the stored form is damaged, as written."""
    said, written = event.get("said"), event.get("message") or ""
    if isinstance(said, dict):
        try:
            message = _message(said)
            if message[:2000] == written:  # the stored form still says what was written
                return message.translated(translate)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    return written


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
