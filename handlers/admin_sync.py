"""The tenant admin's "Synchronize" page: start a sync of an album with the options
(recursive, rebuild), follow it live, cancel it; make, see and revoke the sync key
(docs/sync.md)."""

from __future__ import annotations

from gallery.intake import sync as gallery_sync
from gallery.intake import sync_keys
from gallery.library.albums import get_album, root_album
from gallery.ids import is_id
from handlers.admin_users import AdminPage

ALBUMS_LISTED = 500


class SyncPage(AdminPage):
    @property
    def queue(self):
        from gallery.intake.ingest import job_queue

        return job_queue(self.services)

    async def page(self, new_key: str | None = None, status: int = 200) -> None:
        albums = await self.tenant.db.albums.find({}, {"title": 1, "dirpath": 1}) \
            .sort("dirpath", 1).limit(ALBUMS_LISTED).to_list()
        jobs = await self.queue.jobs.find({"tenant": self.tenant.slug, "kind": gallery_sync.KIND}) \
            .sort("created", -1).limit(10).to_list()
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")  # a new key is on this page once
        self.render("admin/sync.html", albums=albums, jobs=jobs, new_key=new_key,
                    key=await sync_keys.key_info(self.tenant))

    async def get(self) -> None:
        await self.admin()
        await self.page()

    async def post(self) -> None:
        admin = await self.admin()
        action = self.get_body_argument("action", "sync")
        if action == "new_key":
            await self.page(new_key=await sync_keys.create_key(self.tenant, admin))
            return
        if action == "revoke_key":
            await sync_keys.revoke_key(self.tenant)
        else:
            album_id = self.get_body_argument("album_id", "")
            album = await get_album(self.tenant, album_id) if is_id(album_id) \
                else await root_album(self.tenant)
            await gallery_sync.start_sync(
                self.tenant, self.queue, admin, album,
                recursive=self.get_body_argument("recursive", "") == "1",
                rebuild=self.get_body_argument("rebuild", "") == "1")
        self.redirect(self.urls("/admin/sync"), status=303)


ROUTES = [(r"/admin/sync", SyncPage)]
