"""The activity history: what people did, recorded in the tenant's event log
(gallery/notices/events.py) with who, from where and what (titles in the message, ids in
`details`; no URL: the page shows it and it would only show ids). One line per action;
the log keeps its newest `event_log_size` entries (setting)."""

from __future__ import annotations

from gallery.notices.events import record_event


def quoted(doc: dict | None, fallback: str = "Untitled") -> str:
    """A title as the log shows it: “title” (never empty)."""
    title = ((doc or {}).get("title") or (doc or {}).get("file_name") or fallback).strip()
    return f"“{title[:120]}”"


async def record(handler, kind: str, message: str, **details) -> None:
    """Record what `handler`'s signed-in user did (ids in details, never secrets)."""
    await record_event(
        handler.tenant, kind, message, user=handler.user, ip=handler.client_ip(),
        details={k: v for k, v in details.items() if v is not None},
    )
