"""JSON API for albums: read (with sub-albums and a page of media), create, edit, move,
copy, delete, regenerate derivatives, and a server-sent event stream of processing state."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from gallery.errors import Invalid, NotFound
from gallery.i18n import N_, Message
from gallery.library import album_copy, trash
from gallery.library import albums as gallery_albums
from gallery.library.albums import child_albums, root_album, viewable_album
from gallery.library.listing import list_album_media
from gallery.people.permissions import can, require
from handlers import activity
from handlers.activity import quoted
from handlers.api_base import ID_SCHEMA, PAGE_QUERY, ApiHandler, enum_query, operation
from handlers.api_cache import cached_json

ID = r"([^/]+)"


class AlbumApi(ApiHandler):
    async def album_page(self, album: dict, children: bool = True) -> dict:
        """The album, its sub-albums the viewer may see (unless `children` is off: the
        media listing alone) and a page of its media. Callers cache it (handlers/api_cache.py)."""
        viewer = await self.viewer()
        children = [
            c for c in await child_albums(self.tenant, album["_id"]) if can(viewer, "view", c)
        ] if children else []
        page = await list_album_media(
            self.tenant,
            album,
            **self.page_arguments(),
            sort=self.get_query_argument("sort", None),
            direction=self.get_query_argument("dir", None),
        )
        return {
            "album": self.album_json(album, viewer),
            "children": [self.album_json(c, viewer) for c in children],
            "media": {
                "items": [self.media_json(m, viewer) for m in page["items"]],
                "total": page["total"],
                "offset": page["offset"],
                "limit": page["limit"],
                "next_cursor": page["next_cursor"],
                "sort": page["sort"],
                "direction": page["direction"],
            },
        }


class AlbumsHandler(AlbumApi):
    async def get(self) -> None:
        """The root album."""

        async def build() -> dict:
            root = await root_album(self.tenant)
            if root is None:
                raise NotFound("This gallery has no albums yet.")
            require(await self.viewer(), "view", root)
            return await self.album_page(root)

        await cached_json(self, build)

    async def post(self) -> None:
        body = self.json_body()
        parent_id = body.pop("parent_id", None)
        if not parent_id:
            raise Invalid("parent_id is required.", field_errors={"parent_id": "is required"})
        album = await gallery_albums.create_album(self.tenant, await self.viewer(), parent_id, body)
        parent = await self.tenant.db.albums.find_one({"_id": album["parent_id"]}, {"title": 1})
        await activity.record(self, "album_created",
                              Message("Album %(album)s created in %(parent)s", album=quoted(album),
                                      parent=quoted(parent, "Gallery")),
                              album_id=album["_id"])
        self.write_json({"album": self.album_json(album, await self.viewer())}, status=201)


class AlbumHandler(AlbumApi):
    async def get(self, album_id: str) -> None:
        async def build() -> dict:
            album = await viewable_album(self.tenant, await self.viewer(), album_id)
            return await self.album_page(album)

        await cached_json(self, build)

    async def patch(self, album_id: str) -> None:
        body = self.json_body()
        album = await gallery_albums.update_album(
            self.tenant, await self.viewer(), album_id, body, self.settings_values
        )
        if body:
            await activity.record(self, "album_changed",
                                  Message("Album %(album)s changed: %(fields)s", album=quoted(album),
                                          fields=", ".join(sorted(body))),
                                  album_id=album["_id"])
        self.write_json({"album": self.album_json(album, await self.viewer())})

    async def delete(self, album_id: str) -> None:
        keep = self.get_query_argument("delete_files", "1").lower() in ("0", "false", "no")
        album = await self.tenant.db.albums.find_one({"_id": album_id}, {"title": 1})
        result = await trash.delete_album(
            self.tenant, await self.viewer(), album_id, delete_files=not keep
        )
        said = (N_("Album %(album)s moved to the trash (%(albums)s album(s), %(media)s item(s))") if result["trashed"]
                else N_("Album %(album)s deleted for good (%(albums)s album(s), %(media)s item(s))"))
        await activity.record(
            self, "album_deleted",
            Message(said, album=quoted(album), albums=result["albums"], media=result["media"]),
            album_id=album_id, entry_id=result.get("entry_id"))
        self.write_json({"deleted": {"albums": result["albums"], "media": result["media"]},
                         "trashed": result["trashed"]})


class AlbumMediaHandler(AlbumApi):
    async def get(self, album_id: str) -> None:
        async def build() -> dict:
            album = await viewable_album(self.tenant, await self.viewer(), album_id)
            return (await self.album_page(album, children=False))["media"]

        await cached_json(self, build)


class AlbumMoveHandler(AlbumApi):
    async def post(self, album_id: str) -> None:
        body = self.json_body()
        album = await gallery_albums.move_album(
            self.tenant, await self.viewer(), album_id, body.get("parent_id")
        )
        parent = await self.tenant.db.albums.find_one({"_id": album["parent_id"]}, {"title": 1})
        await activity.record(self, "album_moved",
                              Message("Album %(album)s moved into %(parent)s", album=quoted(album),
                                      parent=quoted(parent, "Gallery")),
                              album_id=album["_id"], parent_id=album["parent_id"])
        self.write_json({"album": self.album_json(album, await self.viewer())})


class AlbumCopyHandler(AlbumApi):
    async def post(self, album_id: str) -> None:
        body = self.json_body()
        album = await album_copy.copy_album(
            self.tenant, await self.viewer(), album_id, body.get("parent_id")
        )
        await activity.record(self, "album_copied", Message("Album %(album)s copied", album=quoted(album)),
                              album_id=album_id, copy_id=album["_id"])
        self.write_json({"album": self.album_json(album, await self.viewer())}, status=201)


class AlbumRegenerateHandler(AlbumApi):
    async def post(self, album_id: str) -> None:
        album = await viewable_album(self.tenant, await self.viewer(), album_id, "edit_album")
        payload = {
            "album_id": album["_id"] if album.get("parent_id") else None,
            "requested_by": (self.user or {}).get("_id"),
        }
        job_id = await self.queue.enqueue(
            self.tenant.slug, "media.regenerate", payload, dedupe=f"regenerate:{album['_id']}"
        )
        self.write_json({"job_id": job_id}, status=202)


class AlbumEventsHandler(AlbumApi):
    """Server-sent events: `media` for every media object whose state changes, then `done`
    once nothing in the album is pending (or after MAX_SECONDS; the browser reconnects)."""

    POLL_SECONDS = 1.0
    MAX_SECONDS = 300.0
    FIELDS = frozenset({"id", "state", "failure", "title", "width", "height", "urls", "kind"})

    def on_connection_close(self) -> None:
        self._closed = True

    def _event(self, name: str, data: dict) -> None:
        self.write(f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n")

    async def get(self, album_id: str) -> None:
        viewer = await self.viewer()
        album = await viewable_album(self.tenant, viewer, album_id)
        self._closed = False
        self._transforms = []  # no gzip: every event must reach the browser at once
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        db = self.tenant.db
        since = datetime.now(UTC) - timedelta(seconds=2)
        seen: dict[str, object] = {}
        for m in (
            await db.media.find({"album_id": album["_id"], "state": "pending"}).limit(500).to_list()
        ):
            self._event("media", self.media_json(m, viewer, self.FIELDS))
            seen[m["_id"]] = m.get("updated")
        await self.flush()
        deadline = time.monotonic() + self.MAX_SECONDS
        while not self._closed and time.monotonic() < deadline:
            # Whether anything is still pending is read *before* the changes: a state that
            # changes in between is then in `changed`, and "done" never skips it.
            pending = await db.media.find_one(
                {"album_id": album["_id"], "state": "pending"}, {"_id": 1}
            )
            changed = (
                await db.media.find({"album_id": album["_id"], "updated": {"$gte": since}})
                .sort("updated", 1)
                .limit(200)
                .to_list()
            )
            for m in changed:
                if seen.get(m["_id"]) != m.get("updated"):
                    seen[m["_id"]] = m.get("updated")
                    self._event("media", self.media_json(m, viewer, self.FIELDS))
                    if m.get("updated") and m["updated"] - timedelta(seconds=2) > since:
                        since = m["updated"] - timedelta(seconds=2)
            if pending is None:
                self._event("done", {"album_id": album["_id"]})
                break
            self.write(": keep-alive\n\n")
            await self.flush()
            await asyncio.sleep(self.POLL_SECONDS)
        if not self._closed:
            self.finish()


ROUTES = [
    (r"/api/v1/albums", AlbumsHandler),
    (rf"/api/v1/albums/{ID}/media", AlbumMediaHandler),
    (rf"/api/v1/albums/{ID}/move", AlbumMoveHandler),
    (rf"/api/v1/albums/{ID}/copy", AlbumCopyHandler),
    (rf"/api/v1/albums/{ID}/regenerate", AlbumRegenerateHandler),
    (rf"/api/v1/albums/{ID}/events", AlbumEventsHandler),
    (rf"/api/v1/albums/{ID}", AlbumHandler),
]

_ALBUM_FIELDS = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "summary": {"type": "string"},
        "sort_field": {"type": "string", "enum": list(gallery_albums.SORT_FIELDS)},
        "sort_direction": {"type": "integer", "enum": [1, -1]},
        "private": {"type": "boolean"},
        "cover_id": {"type": ["string", "null"]},
        "position": {"type": "integer", "minimum": 0},
    },
}
_TARGET = {
    "type": "object",
    "required": ["parent_id"],
    "properties": {"parent_id": ID_SCHEMA},
}
_P = ("album_id",)
_SORTED_PAGE = (
    *PAGE_QUERY,
    enum_query("sort", gallery_albums.SORT_FIELDS),
    enum_query("dir", (1, -1), "integer"),
)

OPENAPI = {
    "/api/v1/albums": {
        "get": operation(
            "The root album with its sub-albums and a page of media", query=PAGE_QUERY, tag="albums"
        ),
        "post": operation(
            "Create an album",
            ok="201",
            body={
                **_ALBUM_FIELDS,
                "required": ["parent_id", "title"],
                "properties": {**_ALBUM_FIELDS["properties"], "parent_id": ID_SCHEMA},
            },
            tag="albums",
        ),
    },
    "/api/v1/albums/{album_id}": {
        "get": operation(
            "An album with its sub-albums and a page of media",
            params=_P,
            query=_SORTED_PAGE,
            tag="albums",
        ),
        "patch": operation(
            "Edit an album", params=_P, body=_ALBUM_FIELDS, body_optional=True, tag="albums"
        ),
        "delete": operation(
            "Delete an album and its subtree: into the trash (setting trash_days; with"
            " delete_files=false or trash_days 0 for good)",
            params=_P,
            query=("delete_files:boolean",),
            tag="albums",
        ),
    },
    "/api/v1/albums/{album_id}/media": {
        "get": operation(
            "A page of an album's media in the album's order, or sort "
            "(position, title, date_taken, date_added, file_name) and dir (1 or -1)",
            params=_P,
            query=_SORTED_PAGE,
            tag="albums",
        ),
    },
    "/api/v1/albums/{album_id}/move": {
        "post": operation("Move an album (with its subtree)", params=_P, body=_TARGET, tag="albums")
    },
    "/api/v1/albums/{album_id}/copy": {
        "post": operation(
            "Copy an album (with its subtree and files)",
            params=_P,
            body=_TARGET,
            ok="201",
            tag="albums",
        )
    },
    "/api/v1/albums/{album_id}/regenerate": {
        "post": operation(
            "Queue regenerating the derivatives below an album", params=_P, ok="202", tag="albums"
        )
    },
    "/api/v1/albums/{album_id}/events": {
        "get": operation(
            "Server-sent events with the processing state of the album's media",
            params=_P,
            tag="albums",
            responses={
                "200": {
                    "description": "text/event-stream of `media` and `done` events",
                    "content": {
                        "text/event-stream": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "event": {"type": "string", "enum": ["media", "done"]},
                                    "data": {"type": "string", "description": "JSON"},
                                },
                            }
                        }
                    },
                },
                "404": {"$ref": "#/components/responses/Error"},
            },
        ),
    },
}
