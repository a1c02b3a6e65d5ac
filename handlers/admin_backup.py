"""The tenant admin's "Backup and restore" page: start a backup job (live progress, cancel),
download finished backups, and restore a backup into this gallery while it is empty
(docs/backup-format.md, tenants/restore_into.py)."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime

import tornado.iostream
import tornado.web

from gallery.archive.export import seal_secrets, take_snapshot, write_archive
from gallery.archive.jobs import KIND, archive_path
from gallery.archive.progress import Cancelled, Progress
from gallery.archive.restore import RestoreError
from gallery.archive.secrets import PassphraseError
from gallery.archive.stream import LoopSink
from gallery.errors import Conflict, Invalid, NotFound
from gallery.ids import is_id
from gallery.intake.uploads import HashingWriter
from handlers.admin_users import AdminPage
from handlers.uploads import StreamedFileBody
from tenants.restore_into import emptiness_problem, restore_into

CHUNK = 1024 * 1024
log = logging.getLogger("atrium.backup")


class BackupPage(AdminPage):
    @property
    def queue(self):
        from gallery.intake.ingest import job_queue

        return job_queue(self.services)

    async def recent_jobs(self) -> list:
        from gallery.intake.ingest import job_queue

        return await job_queue(self.services).jobs.find({"tenant": self.tenant.slug, "kind": KIND}) \
            .sort("created", -1).limit(10).to_list()

    async def get(self, error: str | None = None) -> None:
        await self.admin()
        jobs = await self.recent_jobs()
        not_empty = await emptiness_problem(self.tenant.db)
        self.render("admin/backup.html", jobs=jobs, not_empty=not_empty, error=error)

    async def post(self) -> None:
        admin = await self.admin()
        metadata_only = self.get_body_argument("metadata_only", "") == "1"
        passphrase = self.get_body_argument("passphrase", "")
        payload = {"requested_by": admin["_id"], "metadata_only": metadata_only}
        if passphrase:
            # Sealed here, so the job's payload holds neither the passphrase nor a clear secret.
            try:
                payload["secrets"] = await seal_secrets(self.tenant, passphrase)
            except PassphraseError as exc:
                self.set_status(400)
                return await self.get(error=f"No backup started: {exc}.")
        await self.queue.enqueue(self.tenant.slug, KIND, payload)
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


class BackupStream(AdminPage):
    """POST /admin/backup/stream: a backup written straight into the response as it is made
    (gallery/archive/stream.py): no file on the server, memory one chunk, and a client that
    goes away stops the work at its next chunk."""

    progress: Progress | None = None

    async def post(self) -> None:
        await self.admin()
        metadata_only = self.get_body_argument("metadata_only", "") == "1"
        passphrase = self.get_body_argument("passphrase", "")
        try:
            sealed = await seal_secrets(self.tenant, passphrase) if passphrase else None
        except PassphraseError as exc:
            self.set_status(400)
            jobs = await BackupPage.recent_jobs(self)
            return self.render("admin/backup.html", jobs=jobs, error=f"No backup made: {exc}.",
                               not_empty=await emptiness_problem(self.tenant.db))
        snap = await take_snapshot(self.tenant, sealed=sealed)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", f'attachment; filename="{self.tenant.slug}-{stamp}.zip"')
        self.set_header("Cache-Control", "private, no-store")
        self.progress = Progress()
        sink = LoopSink(asyncio.get_running_loop(), self._send, self.progress.cancel)

        def write():
            with sink:
                write_archive(snap, self.tenant.storage, sink, metadata_only=metadata_only,
                              progress=self.progress)
                sink.flush()

        try:
            await asyncio.to_thread(write)
        except Cancelled:
            log.info("backup download of %s stopped after %d bytes: the client went away",
                     self.tenant.slug, sink.sent)
            return
        finally:
            self.progress.cancel.set()
        self.finish()

    async def _send(self, data: bytes) -> None:
        self.write(data)
        await self.flush()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if self.progress is not None:
            self.progress.cancel.set()  # the writing thread stops at its next chunk


@tornado.web.stream_request_body
class RestoreIntoHandler(StreamedFileBody, AdminPage):
    """POST /admin/backup/restore?confirm=1: the backup archive as the raw body (streamed to
    the gallery's tmp/, never held in memory), restored into this gallery when it is empty.
    The answer is JSON: the report and where to sign in (the backup's accounts replace the
    gallery's, tenants/restore_into.py), or the error with every problem listed."""

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method != "POST":
            return
        await self.admin()  # (Tornado checked the XSRF header before prepare)
        if self.get_query_argument("confirm", "") != "1":
            raise Invalid("Confirm that this gallery's accounts are replaced by the backup's.")
        problem = await emptiness_problem(self.tenant.db)
        if problem:  # refused before a byte of the archive is received
            raise Conflict(problem)
        self.writer = HashingWriter(self.tenant.storage.temp_path(".restore.zip"))
        await self.writer.open(create=True)

    async def data_received(self, chunk: bytes) -> None:
        if self.refused or self.writer is None:
            return
        await self.store_chunk(chunk)

    async def post(self) -> None:
        writer, self.writer = self.writer, None
        self.completed = True
        await writer.close()
        from gallery.intake.ingest import job_queue

        try:
            report = await restore_into(self.services.registry, job_queue(self.services),
                                        writer.path, self.tenant.slug,
                                        passphrase=self.request.headers.get("X-Backup-Passphrase") or None)
        except RestoreError as exc:
            await asyncio.to_thread(writer.path.unlink, True)
            self.write_json({"error": {"code": "not_restored", "message": f"Nothing restored: {exc}",
                                       "problems": exc.errors}}, status=409 if _is_conflict(exc) else 400)
            return
        except BaseException:
            await asyncio.to_thread(writer.path.unlink, True)
            raise
        # The upload lay in the old root's tmp/, removed with it by the switch.
        self.write_json({"restored": report, "next": self.urls("/login")})


def _is_conflict(exc: RestoreError) -> bool:
    from tenants.restore_into import NotEmpty

    return isinstance(exc, NotEmpty) or "already running" in str(exc)


ROUTES = [
    (r"/admin/backup", BackupPage),
    (r"/admin/backup/restore", RestoreIntoHandler),
    (r"/admin/backup/stream", BackupStream),
    (r"/admin/backup/([^/]+)/download", BackupDownload),
]
