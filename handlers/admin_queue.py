"""The tenant admin's media queue page: the gallery's jobs (processing, transcodes, imports,
syncs, backups...) with their state, progress and error, Retry and Cancel; static/js/admin-queue.js
follows them live through the jobs API (handlers/api_jobs.py)."""

from __future__ import annotations

import json

from handlers.admin_users import AdminPage
from jobs.queue import STATES

LISTED = 100

# Each kind in words (translated where shown); a kind not named here is shown with its dots
# as spaces.
KIND_WORDS = {
    "media.process": "Processing a new file",
    "media.regenerate": "Making thumbnails and web copies again",
    "media.transcode": "Converting a video or audio file",
    "zip.import": "Importing a ZIP file",
    "gsp.import": "Importing from Gallery Server Pro",
    "gallery.sync": "Synchronizing the media folder",
    "gallery.sync_tick": "Scheduled synchronization",
    "gallery.backup": "Backup",
    "trash.empty": "Emptying the trash",
    "uploads.expire": "Clearing unfinished uploads",
    "watermarks.cleanup": "Removing old watermarked copies",
    "email.send": "Sending an e-mail",
    "email.installer": "E-mail to the installer",
    "accounts.sweep": "Tidying unconfirmed accounts",
}

STATE_WORDS = {"queued": "Waiting", "running": "Running", "done": "Done",
               "failed": "Failed", "cancelled": "Cancelled"}


def kind_words(kind: str | None) -> str:
    return KIND_WORDS.get(kind or "", (kind or "job").replace(".", " ").replace("_", " ").capitalize())


class QueuePage(AdminPage):
    @property
    def queue(self):
        from gallery.intake.ingest import job_queue

        return job_queue(self.services)

    async def get(self) -> None:
        await self.admin()
        state = self.get_argument("state", "")
        state = state if state in STATES else ""
        jobs = await self.queue.list(self.tenant.slug, states=[state] if state else None,
                                     limit=LISTED)
        self.set_header("Cache-Control", "no-store")
        # In the page's language, on first render and for the rows the script adds.
        self.render("admin/queue.html", jobs=jobs, state=state,
                    states={key: self._(words) for key, words in STATE_WORDS.items()},
                    kind_words=lambda kind: self._(kind_words(kind)),
                    kinds_json=json.dumps({key: self._(words) for key, words in KIND_WORDS.items()}),
                    listed=LISTED)


ROUTES = [(r"/admin/queue", QueuePage)]
