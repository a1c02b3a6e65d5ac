"""The tenant admin's "Backup and restore" page: start a backup job (live progress, cancel),
download finished backups (docs/backup-format.md)."""

from __future__ import annotations

import asyncio
import os

import tornado.iostream

from gallery.archive.jobs import KIND, archive_path
from gallery.errors import NotFound
from gallery.ids import is_id
from handlers.admin_users import AdminPage

CHUNK = 1024 * 1024


class BackupPage(AdminPage):
    @property
    def queue(self):
        from gallery.intake.ingest import job_queue

        return job_queue(self.services)

    async def get(self) -> None:
        await self.admin()
        jobs = await self.queue.jobs.find({"tenant": self.tenant.slug, "kind": KIND}) \
            .sort("created", -1).limit(10).to_list()
        self.render("admin/backup.html", jobs=jobs)

    async def post(self) -> None:
        admin = await self.admin()
        metadata_only = self.get_body_argument("metadata_only", "") == "1"
        await self.queue.enqueue(self.tenant.slug, KIND, {"requested_by": admin["_id"],
                                                          "metadata_only": metadata_only})
        self.redirect(self.urls("/admin/backup"), status=303)


class BackupDownload(AdminPage):
    async def get(self, job_id: str) -> None:
        await self.admin()
        from gallery.intake.ingest import job_queue

        job = await job_queue(self.services).get(self.tenant.slug, job_id) if is_id(job_id) else None
        if job is None or job.get("kind") != KIND or job.get("state") != "done":
            raise NotFound("No such backup.")
        path = archive_path(self.services.config, self.tenant.slug, job["_id"])
        try:
            fh = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise NotFound("This backup's file is gone.") from None
        try:
            size = (await asyncio.to_thread(os.fstat, fh.fileno())).st_size
            stamp = job["created"].strftime("%Y%m%d-%H%M%S")
            self.set_header("Content-Type", "application/zip")
            self.set_header("Content-Length", str(size))
            self.set_header("Content-Disposition", f'attachment; filename="{self.tenant.slug}-{stamp}.zip"')
            self.set_header("Cache-Control", "private, no-store")
            # Chunk by chunk, each read off the event loop and flushed before the next:
            # memory stays one chunk per download whatever the archive's size.
            while True:
                chunk = await asyncio.to_thread(fh.read, CHUNK)
                if not chunk:
                    break
                self.write(chunk)
                try:
                    await self.flush()
                except tornado.iostream.StreamClosedError:
                    return
        finally:
            fh.close()


ROUTES = [
    (r"/admin/backup", BackupPage),
    (r"/admin/backup/([^/]+)/download", BackupDownload),
]
