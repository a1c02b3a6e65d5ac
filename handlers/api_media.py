"""JSON API for media objects: read, edit, move, copy, delete, rotate/flip, set as cover,
and a polling-friendly batch read (`?ids=...&fields=state`) for pending items."""

from __future__ import annotations

from gallery.errors import Invalid
from gallery.i18n import N_, Message
from gallery.ids import is_id
from gallery.library import media as gallery_media
from gallery.library import trash
from gallery.library.media import viewable_media
from gallery.metadata_fields import EDITABLE, MAX_EDIT
from gallery.people.permissions import visible_media_query
from handlers import activity
from handlers.activity import quoted
from handlers.api_base import ID_SCHEMA, IDS_PATTERN, TAGS_SCHEMA, ApiHandler, operation
from handlers.api_cache import cached_json

ID = r"([^/]+)"
MAX_IDS = 200


class MediaListHandler(ApiHandler):
    async def get(self) -> None:
        raw = self.get_query_argument("ids", "")
        ids = [i for i in raw.split(",") if i]
        if not ids or len(ids) > MAX_IDS or not all(is_id(i) for i in ids):
            raise Invalid(
                f"ids must list 1 to {MAX_IDS} media ids, comma separated.",
                field_errors={"ids": "is not a list of media ids"},
            )
        fields = {f for f in self.get_query_argument("fields", "").split(",") if f} or None

        async def build() -> dict:
            viewer = await self.viewer()
            visible = visible_media_query(viewer)
            items = []
            if visible is not None:
                query = {"$and": [{"_id": {"$in": ids}}, visible]} if visible else {"_id": {"$in": ids}}
                items = await self.tenant.db.media.find(query).limit(MAX_IDS).to_list()
            return {"items": [self.media_json(m, viewer, fields) for m in items]}

        await cached_json(self, build)


class MediaHandler(ApiHandler):
    async def get(self, media_id: str) -> None:
        async def build() -> dict:
            viewer = await self.viewer()
            media = await viewable_media(self.tenant, viewer, media_id)
            return {"media": self.media_json(media, viewer)}

        await cached_json(self, build)

    async def patch(self, media_id: str) -> None:
        viewer = await self.viewer()
        media = await gallery_media.update_media(self.tenant, viewer, media_id, self.json_body())
        self.write_json({"media": self.media_json(media, viewer)})

    async def delete(self, media_id: str) -> None:
        media = await self.tenant.db.media.find_one({"_id": media_id}, {"title": 1, "file_name": 1})
        result = await trash.delete_media(self.tenant, await self.viewer(), media_id)
        said = N_("Item %(item)s moved to the trash") if result["trashed"] else N_("Item %(item)s deleted for good")
        await activity.record(self, "media_deleted", Message(said, item=quoted(media)),
                              media_id=media_id, entry_id=result.get("entry_id"))
        self.write_json({"deleted": media_id, "trashed": result["trashed"]})


class MediaMoveHandler(ApiHandler):
    async def post(self, media_id: str) -> None:
        viewer = await self.viewer()
        media = await gallery_media.move_media(
            self.tenant, viewer, media_id, self.json_body().get("album_id")
        )
        album = await self.tenant.db.albums.find_one({"_id": media["album_id"]}, {"title": 1})
        await activity.record(self, "media_moved", Message("Item %(item)s moved to %(album)s", item=quoted(media), album=quoted(album)),
                              media_id=media_id, album_id=media["album_id"])
        self.write_json({"media": self.media_json(media, viewer)})


class MediaCopyHandler(ApiHandler):
    async def post(self, media_id: str) -> None:
        viewer = await self.viewer()
        media = await gallery_media.copy_media(
            self.tenant, viewer, media_id, self.json_body().get("album_id")
        )
        album = await self.tenant.db.albums.find_one({"_id": media["album_id"]}, {"title": 1})
        await activity.record(self, "media_copied", Message("Item %(item)s copied to %(album)s", item=quoted(media), album=quoted(album)),
                              media_id=media_id, copy_id=media["_id"])
        self.write_json({"media": self.media_json(media, viewer)}, status=201)


class MediaRotateHandler(ApiHandler):
    async def post(self, media_id: str) -> None:
        body = self.json_body()
        rotate = body.get("rotate", 0)
        if not isinstance(rotate, int) or isinstance(rotate, bool):
            raise Invalid(
                "rotate must be 0, 90, 180 or 270.",
                field_errors={"rotate": "must be 0, 90, 180 or 270"},
            )
        viewer = await self.viewer()
        media = await gallery_media.rotate_media(
            self.tenant, viewer, media_id, self.queue, rotate=rotate, flip=body.get("flip")
        )
        self.write_json({"media": self.media_json(media, viewer)}, status=202)


class MediaCoverHandler(ApiHandler):
    async def post(self, media_id: str) -> None:
        viewer = await self.viewer()
        album_id = self.json_body().get("album_id")
        if album_id is not None and not is_id(album_id):
            raise Invalid("album_id must be an album id.", field_errors={"album_id": "is not an id"})
        album = await gallery_media.set_cover(self.tenant, viewer, media_id, album_id)
        self.write_json({"album": self.album_json(album, viewer)})


ROUTES = [
    (r"/api/v1/media", MediaListHandler),
    (rf"/api/v1/media/{ID}/move", MediaMoveHandler),
    (rf"/api/v1/media/{ID}/copy", MediaCopyHandler),
    (rf"/api/v1/media/{ID}/rotate", MediaRotateHandler),
    (rf"/api/v1/media/{ID}/cover", MediaCoverHandler),
    (rf"/api/v1/media/{ID}", MediaHandler),
]

_P = ("media_id",)
_EDIT = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "caption": {"type": "string"},
        "tags": TAGS_SCHEMA,
        "people": TAGS_SCHEMA,  # names, like tags (gallery/library/people.py)
        "position": {"type": "integer", "minimum": 0},
        # Corrections of metadata fields (gallery/library/meta_edits.py): null removes one;
        # fields the gallery's `metadata_editable` setting does not list answer 403.
        "meta_edits": {
            "type": "object",
            "properties": {
                key: {
                    "type": "string",
                    "maxLength": MAX_EDIT,
                    "pattern": "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$",
                    "nullable": True,
                }
                for key in EDITABLE
            },
            "additionalProperties": False,
        },
    },
}
_TARGET = {
    "type": "object",
    "required": ["album_id"],
    "properties": {"album_id": {"type": "string"}},
}

OPENAPI = {
    "/api/v1/media": {
        "get": operation(
            "Several media objects at once (poll pending ones)",
            query=(
                {"name": "ids", "required": True, "schema": {"type": "string", "pattern": IDS_PATTERN}},
                "fields",
            ),
            tag="media",
        )
    },
    "/api/v1/media/{media_id}": {
        "get": operation("A media object", params=_P, tag="media"),
        "patch": operation(
            "Edit title, caption, tags, people, position or corrected metadata fields",
            params=_P,
            body=_EDIT,
            body_optional=True,
            tag="media",
        ),
        "delete": operation("Delete a media object: into the trash (setting trash_days), or with its files when that is 0", params=_P, tag="media"),
    },
    "/api/v1/media/{media_id}/move": {
        "post": operation("Move to another album", params=_P, body=_TARGET, tag="media")
    },
    "/api/v1/media/{media_id}/copy": {
        "post": operation(
            "Copy to another album", params=_P, body=_TARGET, ok="201", tag="media"
        )
    },
    "/api/v1/media/{media_id}/rotate": {
        "post": operation(
            "Rotate (clockwise degrees) and/or flip; derivatives are remade",
            params=_P,
            tag="media",
            ok="202",
            body_optional=True,
            body={
                "type": "object",
                "properties": {
                    "rotate": {"type": "integer", "enum": [0, 90, 180, 270, -90]},
                    "flip": {
                        "type": "string",
                        "enum": ["horizontal", "vertical", None],
                        "nullable": True,  # null: no flip
                    },
                },
            },
        )
    },
    "/api/v1/media/{media_id}/cover": {
        "post": operation(
            "Make this the cover of its album (or of album_id above it)",
            params=_P,
            tag="media",
            body_optional=True,
            body={"type": "object", "properties": {"album_id": {**ID_SCHEMA, "nullable": True}}},
        )
    },
}
