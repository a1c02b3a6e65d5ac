"""The tenant admin's event log (the gallery's activity history): filter by kind, who, date
range and text, paged newest first; clear."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from gallery.notices.events import (
    clear_events,
    event_kinds,
    event_users,
    list_events,
    record_event,
    shown_message,
)
from handlers.admin_users import AdminPage

PAGE = 100
MAX_PAGE = 10_000


def _day(raw: str) -> date | None:
    """A YYYY-MM-DD date from a filter field; anything else is no filter."""
    try:
        return date.fromisoformat(raw.strip()[:10]) if raw.strip() else None
    except ValueError:
        return None


class EventsHandler(AdminPage):
    async def page(self, notice=None) -> None:
        kind = self.get_argument("kind", "")[:50]
        q = self.get_argument("q", "")[:200]
        who = self.get_argument("who", "")[:100]
        start, end = _day(self.get_argument("from", "")), _day(self.get_argument("to", ""))
        try:
            page = min(MAX_PAGE, max(1, int(self.get_argument("page", "1"))))
        except ValueError:
            page = 1
        # Days in UTC, as the times are shown; "to" takes that whole day in.
        since = datetime.combine(start, time(), UTC) if start else None
        until = datetime.combine(end, time(), UTC) + timedelta(days=1) if end else None
        events, total = await list_events(
            self.tenant, kind=kind or None, text=q or None, who=who or None, since=since,
            until=until, skip=(page - 1) * PAGE, limit=PAGE,
        )
        self.render(
            "admin/events.html",
            events=events,
            event_text=lambda event: shown_message(event, self.locale.translate),
            total=total,
            kinds=await event_kinds(self.tenant),
            users=await event_users(self.tenant),
            kind=kind,
            q=q,
            who=who,
            start=start.isoformat() if start else "",
            end=end.isoformat() if end else "",
            page=page,
            pages=max(1, -(-total // PAGE)),
            notice=notice,
        )

    async def get(self) -> None:
        await self.admin()
        await self.page()

    async def post(self) -> None:
        admin = await self.admin()
        if self.get_body_argument("action", "") == "clear":
            count = await clear_events(self.tenant)
            await record_event(
                self.tenant,
                "events",
                f"Event log cleared by {admin['username']} ({count} entries)",
                user=admin,
                ip=self.client_ip(),
            )
            return await self.page(notice=f"{count} entries cleared.")
        await self.page()


ROUTES = [(r"/admin/events", EventsHandler)]
