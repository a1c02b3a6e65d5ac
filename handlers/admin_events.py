"""The tenant admin's event log: filter by kind and text, clear."""

from __future__ import annotations

from gallery.notices.events import clear_events, event_kinds, list_events, record_event
from handlers.admin_users import AdminPage

PAGE = 100


class EventsHandler(AdminPage):
    async def page(self, notice=None) -> None:
        kind = self.get_argument("kind", "")[:50]
        q = self.get_argument("q", "")[:200]
        try:
            page = max(1, int(self.get_argument("page", "1")))
        except ValueError:
            page = 1
        events, total = await list_events(
            self.tenant, kind=kind or None, text=q or None, skip=(page - 1) * PAGE, limit=PAGE
        )
        self.render(
            "admin/events.html",
            events=events,
            total=total,
            kinds=await event_kinds(self.tenant),
            kind=kind,
            q=q,
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
