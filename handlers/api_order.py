"""JSON API for custom order (drag and drop) and bulk actions on selected media."""

from __future__ import annotations

from gallery.i18n import N_, Message
from gallery.library import trash
from gallery.library.bulk import ACTIONS, bulk_action
from gallery.library.ordering import order_album
from gallery.library.tags import clean_tags
from handlers import activity
from handlers.activity import quoted
from handlers.api_base import ID_SCHEMA, TAGS_SCHEMA, ApiHandler, operation

ID = r"([^/]+)"


class AlbumOrderApi(ApiHandler):
    async def post(self, album_id: str) -> None:
        body = self.json_body()
        viewer = await self.viewer()
        album = await order_album(
            self.tenant, viewer, album_id, media=body.get("media"), albums=body.get("albums")
        )
        self.write_json({"album": self.album_json(album, viewer)})


class BulkApi(ApiHandler):
    async def post(self) -> None:
        body = self.json_body()
        if body.get("tags") is not None:
            clean_tags(body["tags"])  # their type holds for every action, not only tag/untag
        result = await bulk_action(
            self.tenant,
            await self.viewer(),
            body.get("action"),
            body.get("ids"),
            album_id=body.get("album_id"),
            tags=body.get("tags"),
        )
        done = result["done"]
        action = body.get("action")
        if done and action in ("move", "copy", "delete"):
            album = None
            if action == "delete":
                kind = "media_deleted"
                said = (N_("%(count)s item(s) moved to the trash (selection)") if await trash.trash_days(self.tenant)
                        else N_("%(count)s item(s) deleted for good (selection)"))
            else:
                kind = "media_moved" if action == "move" else "media_copied"
                album = await self.tenant.db.albums.find_one({"_id": body["album_id"]}, {"title": 1})
                said = (N_("%(count)s item(s) moved to %(album)s (selection)") if action == "move"
                        else N_("%(count)s item(s) copied to %(album)s (selection)"))
            values = {"count": len(done), **({"album": quoted(album)} if album is not None else {})}
            await activity.record(self, kind, Message(said, **values),
                                  media_ids=done[:50])
        self.write_json(result)


ROUTES = [
    (rf"/api/v1/albums/{ID}/order", AlbumOrderApi),
    (r"/api/v1/media/bulk", BulkApi),
]

_IDS = {"type": "array", "items": ID_SCHEMA, "maxItems": 1000}
OPENAPI = {
    "/api/v1/albums/{album_id}/order": {
        "post": operation(
            "Put the listed media (or sub-albums) of an album in this order: they take the "
            "positions they already occupy; the album's sort becomes position",
            params=("album_id",),
            body={"type": "object", "properties": {"media": _IDS, "albums": _IDS}},
            tag="albums",
        )
    },
    "/api/v1/media/bulk": {
        "post": operation(
            'One action on many media; answers {"done": [ids], "failed": [{id, error}]}',
            body={
                "type": "object",
                "required": ["action", "ids"],
                "properties": {
                    "action": {"type": "string", "enum": list(ACTIONS)},
                    # Each id is answered in done or failed, so any text is taken.
                    "ids": {**_IDS, "items": {"type": "string"}, "minItems": 1},
                    "album_id": ID_SCHEMA,
                    "tags": TAGS_SCHEMA,
                },
            },
            tag="media",
        )
    },
}
