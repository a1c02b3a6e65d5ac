"""Starting a directory synchronization: by a user with `synchronize` on the album, or
remotely with the gallery's sync key (gallery/sync_keys.py); the key itself is made,
shown once and revoked by the gallery's administrators. docs/sync.md."""

from __future__ import annotations

from gallery.intake import sync as gallery_sync
from gallery.intake import sync_keys
from gallery.library.albums import root_album, viewable_album
from gallery.errors import Invalid, NotFound
from gallery.i18n import Message
from gallery.ids import is_id
from gallery.people.permissions import require
from handlers.api_base import ID_SCHEMA, ApiHandler, operation

ID = r"([^/]+)"


def _flag(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise Invalid(Message("%(name)s must be true or false.", name=name), field_errors={name: Message("is not a boolean")})
    return value


class SyncApi(ApiHandler):
    async def start(self, album: dict, body: dict, user: dict | None, trigger: str) -> None:
        job_id, running = await gallery_sync.start_sync(
            self.tenant, self.queue, user, album,
            recursive=_flag(body, "recursive", True),
            rebuild=_flag(body, "rebuild", False), trigger=trigger)
        # A sync of this gallery already queued or running is the answer (one at a time).
        self.write_json({"job_id": job_id, "already_running": running}, status=202)


class AlbumSyncHandler(SyncApi):
    async def post(self, album_id: str) -> None:
        body = self.json_body()
        album = await viewable_album(self.tenant, await self.viewer(), album_id, "synchronize")
        await self.start(album, body, self.user, "user")


class RemoteSyncHandler(SyncApi):
    """For cron jobs and scripts: no session, so no XSRF token either; the key, sent in a
    header (never the URL, which ends up in logs), is the credential."""

    def check_xsrf_cookie(self) -> None:
        if self.request.method not in self.allowed_methods():
            super().check_xsrf_cookie()  # the 405

    async def post(self) -> None:
        auth = self.request.headers.get("Authorization", "")
        presented = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        presented = presented or self.request.headers.get("X-Sync-Key", "").strip()
        await sync_keys.check_key(self.tenant, presented)
        body = self.json_body()
        album_id = body.get("album_id")
        if album_id is None:
            album = await root_album(self.tenant)
        else:
            album = await self.tenant.db.albums.find_one({"_id": album_id}) if is_id(album_id) else None
        if album is None:
            raise NotFound("No such album.")
        await self.start(album, body, None, "key")


class SyncKeyHandler(ApiHandler):
    """The sync key: made (shown in this one answer), described, revoked (administrators)."""

    async def require_admin(self) -> None:
        require(await self.viewer(), "administer_gallery", await root_album(self.tenant))

    async def get(self) -> None:
        await self.require_admin()
        self.write_json({"key": await sync_keys.key_info(self.tenant)})

    async def post(self) -> None:
        await self.require_admin()
        key = await sync_keys.create_key(self.tenant, self.user)
        self.set_header("Cache-Control", "no-store")
        self.write_json({"key": key, "info": await sync_keys.key_info(self.tenant)}, status=201)

    async def delete(self) -> None:
        await self.require_admin()
        self.write_json({"revoked": await sync_keys.revoke_key(self.tenant)})


ROUTES = [
    (rf"/api/v1/albums/{ID}/sync", AlbumSyncHandler),
    (r"/api/v1/sync/key", SyncKeyHandler),
    (r"/api/v1/sync", RemoteSyncHandler),
]

_OPTIONS = {
    "type": "object",
    "properties": {
        "recursive": {"type": "boolean"},
        "rebuild": {"type": "boolean", "description": "regenerate derivatives afterwards"},
    },
}
OPENAPI = {
    "/api/v1/albums/{album_id}/sync": {
        "post": operation(
            "Synchronize the album with its directory under originals/ (needs synchronize); "
            "answers the running sync when one is already queued or running",
            params=("album_id",), body=_OPTIONS, body_optional=True, ok="202", tag="sync"),
    },
    "/api/v1/sync": {
        "post": operation(
            "Start a synchronization with the gallery's sync key (Authorization: Bearer)",
            body={**_OPTIONS, "properties": {**_OPTIONS["properties"], "album_id": ID_SCHEMA}},
            body_optional=True, ok="202", also=("429",), tag="sync"),
    },
    "/api/v1/sync/key": {
        "get": operation("When the sync key was made and its last 4 characters", tag="sync"),
        "post": operation("Make a new sync key (shown once; replaces the old one)", ok="201",
                          tag="sync"),
        "delete": operation("Revoke the sync key", tag="sync"),
    },
}
