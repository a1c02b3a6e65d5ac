"""The tenant admin's "Import from Gallery Server Pro" page (docs/gsp-import.md).

GET: while the gallery is empty, the upload form (the backup and the media folder's ZIP, sent as
resumable uploads, handlers/gsp_uploads.py); with `?backup=<upload>&media=<upload>[&gallery=N]`
the preview of what would be imported (written nothing); below, the import jobs with their
progress and, when done, their report. POST (confirm) enqueues the `gsp.import` job.
GET /admin/import-gsp/<job>/report.json downloads a finished import's report.
"""

from __future__ import annotations

import asyncio
import json

from gallery.errors import Invalid, NotFound
from gallery.gspimport.errors import GalleryNotEmpty, GspRefused
from gallery.gspimport.importer import check_empty, preview
from gallery.gspimport.jobs import KIND, enqueue_import
from gallery.ids import is_id
from gallery.numbers import whole_number
from handlers.admin_users import AdminPage
from handlers.gsp_uploads import completed_upload, forget_upload

# A preview lists at most this many skipped items on the page (the report keeps them all).
SHOWN_ITEMS = 200


class GspImportPage(AdminPage):
    @property
    def queue(self):
        from gallery.intake.ingest import job_queue

        return job_queue(self.services)

    async def _uploads(self, user: dict) -> tuple[dict | None, dict | None]:
        backup_id = self.get_argument("backup", "")
        media_id = self.get_argument("media", "")
        backup = (
            await completed_upload(self.tenant, user, backup_id, "backup") if backup_id else None
        )
        media = await completed_upload(self.tenant, user, media_id, "media") if media_id else None
        return backup, media

    def _gallery_id(self) -> int | None:
        raw = self.get_argument("gallery", "") or self.get_argument("gallery_id", "")
        return whole_number("gallery", raw) if raw else None

    async def get(self) -> None:
        user = await self.admin()
        jobs = (
            await self.queue.jobs.find({"tenant": self.tenant.slug, "kind": KIND})
            .sort("created", -1)
            .limit(5)
            .to_list()
        )
        not_empty = None
        try:
            await check_empty(self.tenant)
        except GalleryNotEmpty as exc:
            not_empty = exc.message
        shown, problem, status = None, None, 200
        backup = media = None
        if not_empty is None and self.get_argument("backup", ""):
            try:
                backup, media = await self._uploads(user)
                shown = await preview(
                    self.tenant,
                    backup["path"],
                    media["path"] if media else None,
                    self._gallery_id(),
                )
            except (GspRefused, GalleryNotEmpty, Invalid, NotFound) as exc:
                problem, status = exc.message, exc.status
        self.set_status(status)
        self.render(
            "admin/gsp_import.html",
            jobs=jobs,
            not_empty=not_empty,
            preview=shown,
            problem=problem,
            backup=backup,
            media=media,
            shown_items=SHOWN_ITEMS,
        )

    async def post(self) -> None:
        user = await self.admin()
        if self.get_body_argument("confirm", "") != "1":
            raise Invalid(
                "Tick the box to confirm the import.", field_errors={"confirm": "required"}
            )
        backup, media = await self._uploads(user)
        if backup is None:
            raise Invalid("Upload the backup first.")
        job_id = await enqueue_import(
            self.tenant,
            self.queue,
            user,
            backup["path"],
            media["path"] if media else None,
            gallery_id=self._gallery_id(),
            delete_after=True,
        )
        for record in (backup, media):
            if record is not None:
                await asyncio.to_thread(forget_upload, self.tenant, record["id"])
        self.redirect(self.urls("/admin/import-gsp") + f"#job-{job_id}", status=303)


class GspImportReport(AdminPage):
    async def get(self, job_id: str) -> None:
        await self.admin()
        from gallery.intake.ingest import job_queue

        job = (
            await job_queue(self.services).get(self.tenant.slug, job_id) if is_id(job_id) else None
        )
        if job is None or job.get("kind") != KIND or job.get("state") != "done":
            raise NotFound("No such import report.")
        stamp = job["created"].strftime("%Y%m%d-%H%M%S")
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header(
            "Content-Disposition",
            f'attachment; filename="gsp-import-{self.tenant.slug}-{stamp}.json"',
        )
        self.set_header("Cache-Control", "private, no-store")
        self.finish(json.dumps(job.get("result") or {}, ensure_ascii=False, indent=1, default=str))


ROUTES = [
    (r"/admin/import-gsp", GspImportPage),
    (r"/admin/import-gsp/([^/]+)/report\.json", GspImportReport),
]
