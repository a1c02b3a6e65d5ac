"""The Trash page (gallery/library/trash.py): what was deleted, restore, delete for good.

GET  /trash                      administrators see everything, members what they deleted
POST /trash/<id>/restore         back where it was (JSON with Accept: application/json)
POST /trash/<id>/delete          for good
POST /trash/empty                everything, for good (administrators)
GET  /trash/<id>/thumbnail       the entry's picture, for whoever may restore it

A trashed item's own file routes (/media/<id>/…) answer 404 to everyone: its record is
out of the media collection. Only this page shows what it was.
"""

from __future__ import annotations

import asyncio
import mimetypes

from gallery.errors import NotFound
from gallery.i18n import N_, Message
from gallery.library import trash, trash_restore
from gallery.people.permissions import viewer_for
from gallery.processing import watermarks
from handlers import activity
from handlers.base import TenantHandler

PAGE = 50
ID = r"([0-9a-f]{24})"


class TrashHandler(TenantHandler):
    async def trash_viewer(self):
        user = self.require_user()
        viewer = await viewer_for(self.tenant, user, self.settings_values)
        self.is_gallery_admin = viewer.is_admin
        return user, viewer

    def done(self, message: str, target: str | None = None) -> None:
        if "application/json" in self.request.headers.get("Accept", ""):
            self.write_json({"message": message, "url": target})
        else:
            self.redirect(self.urls("/trash", done=message))

    async def event(self, kind: str, message: str, entry: dict | None = None) -> None:
        details = {"entry_id": entry["_id"], "what": entry["kind"]} if entry else {}
        await activity.record(self, kind, message, **details)


class TrashPage(TrashHandler):
    async def get(self) -> None:
        _, viewer = await self.trash_viewer()
        try:
            page = max(1, min(10_000, int(self.get_argument("page", "1"))))
        except ValueError:
            page = 1
        entries, total = await trash.list_trash(self.tenant, viewer, skip=(page - 1) * PAGE,
                                                limit=PAGE)
        self.set_header("Cache-Control", "no-store")
        self.render("trash.html", entries=entries, total=total, page=page,
                    pages=max(1, -(-total // PAGE)), everyone=viewer.is_admin,
                    days=await trash.trash_days(self.tenant),
                    done=self.get_argument("done", "")[:200])


class TrashRestoreHandler(TrashHandler):
    async def post(self, entry_id: str) -> None:
        _, viewer = await self.trash_viewer()
        entry = await trash.get_entry(self.tenant, viewer, entry_id)
        target = await trash_restore.restore(self.tenant, viewer, entry_id)
        said = (N_("Album “%(title)s” restored from the trash") if entry["kind"] == "album"
                else N_("Item “%(title)s” restored from the trash"))
        await self.event("restored", Message(said, title=entry["title"]), entry)
        path = (f"/media/{target['media_id']}" if target.get("media_id")
                else f"/albums/{target['album_id']}")
        self.done(self._("“%(title)s” is back.") % {"title": entry["title"] or self._("Untitled")}, self.urls(path))


class TrashDeleteHandler(TrashHandler):
    async def post(self, entry_id: str) -> None:
        _, viewer = await self.trash_viewer()
        entry = await trash.get_entry(self.tenant, viewer, entry_id)
        await trash.purge(self.tenant, viewer, entry_id)
        said = (N_("Album “%(title)s” deleted for good from the trash") if entry["kind"] == "album"
                else N_("Item “%(title)s” deleted for good from the trash"))
        await self.event("deleted_for_good", Message(said, title=entry["title"]), entry)
        self.done(self._("“%(title)s” is deleted for good.") % {"title": entry["title"] or self._("Untitled")})


class TrashEmptyHandler(TrashHandler):
    async def post(self) -> None:
        _, viewer = await self.trash_viewer()
        count = await trash.empty(self.tenant, viewer)
        await self.event("trash_emptied", Message("Trash emptied (%(count)s entries deleted for good)", count=count))
        self.done(self._("The trash is empty (%(count)s deleted for good).") % {"count": count})


class TrashThumbnailHandler(TrashHandler):
    async def get(self, entry_id: str) -> None:
        _, viewer = await self.trash_viewer()
        await trash.get_entry(self.tenant, viewer, entry_id)  # 404 unless they may restore it
        media = await trash.first_media(self.tenant, entry_id)
        info = ((media or {}).get("derivatives") or {}).get("thumbnail") or {}
        if not info.get("path") or watermarks.needs_watermark(
                self.settings_values, viewer, media, "thumbnail", source=info["path"]):
            raise NotFound("No picture.")  # never a clean copy to someone who gets stamped ones
        path = self.tenant.storage.resolve(info["path"])
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError:
            raise NotFound("No picture.") from None
        self.set_header("Content-Type", mimetypes.guess_type(path.name)[0] or "image/jpeg")
        self.set_header("Cache-Control", "private, no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.write(data)


ROUTES = [
    (r"/trash", TrashPage),
    (r"/trash/empty", TrashEmptyHandler),
    (rf"/trash/{ID}/restore", TrashRestoreHandler),
    (rf"/trash/{ID}/delete", TrashDeleteHandler),
    (rf"/trash/{ID}/thumbnail", TrashThumbnailHandler),
]
