"""Host console: back a tenant up (the `gallery.backup` job) and restore any backup of this
host into a new gallery (docs/backup-format.md)."""

from __future__ import annotations

import asyncio

import tornado.web

from gallery.archive.jobs import KIND, host_archives
from gallery.archive.restore import RestoreError
from gallery.intake.ingest import job_queue
from handlers.base import HostHandler
from handlers.host import render_tenant
from tenants.registry import TenantNotFound
from tenants.restore import restore_new


class BackupsHandler(HostHandler):
    async def page(self, error: str | None = None, form: dict | None = None) -> None:
        archives = await asyncio.to_thread(host_archives, self.config)
        jobs = await job_queue(self.services).jobs.find({"kind": KIND}).sort("created", -1).limit(20).to_list()
        self.render("host/backups.html", archives=archives, jobs=jobs, error=error, form=form or {})

    async def get(self) -> None:
        self.require_admin()
        await self.page()


class StartBackupHandler(HostHandler):
    async def post(self, slug: str) -> None:
        self.require_admin()
        try:
            record = await self.services.registry.get_record(slug)
        except TenantNotFound:
            raise tornado.web.HTTPError(404, "No such tenant.") from None
        if record.get("status") != "active":
            self.set_status(409)
            return await render_tenant(self, slug, error="Only an active gallery can be backed up.")
        await job_queue(self.services).enqueue(slug, KIND, {"requested_by": "host"})
        self.redirect("/_host/backups", status=303)


class RestoreHandler(BackupsHandler):
    async def post(self) -> None:
        self.require_admin()
        form = {k: self.get_body_argument(k, "").strip() for k in ("archive", "slug", "title")}
        # Only a backup this host lists can be named: never a path from the request.
        chosen = next((a for a in await asyncio.to_thread(host_archives, self.config)
                       if f"{a['slug']}/{a['name']}" == form["archive"]), None)
        if chosen is None:
            self.set_status(400)
            return await self.page(error="Choose one of the backups listed.", form=form)
        try:
            await restore_new(self.services.registry, job_queue(self.services), chosen["path"],
                              form["slug"], title=form["title"] or None,
                              passphrase=self.get_body_argument("passphrase", "") or None)
        except RestoreError as exc:
            self.set_status(400)
            return await self.page(error=f"Nothing restored: {exc.full_text()}", form=form)
        self.redirect(f"/_host/tenants/{form['slug']}", status=303)


ROUTES = [
    (r"/_host/backups", BackupsHandler),
    (r"/_host/backups/restore", RestoreHandler),
    (r"/_host/tenants/([a-z0-9][a-z0-9-]{1,40})/backup", StartBackupHandler),
]
