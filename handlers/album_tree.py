"""`GET /api/v1/album-tree[?parent=<id>]`: one level of the album tree pane (static/js/album-tree.js)."""

from __future__ import annotations

from gallery.errors import NotFound
from gallery.ids import is_id
from gallery.library.album_tree import tree_level
from handlers.api_base import ApiHandler, operation


class AlbumTreeApi(ApiHandler):
    async def get(self) -> None:
        parent = self.get_query_argument("parent", None) or None
        if parent is not None and not is_id(parent):
            raise NotFound("No such album.")
        albums = await tree_level(self.tenant, await self.viewer(), parent)
        self.write_json({"parent": parent, "albums": albums})


ROUTES = [(r"/api/v1/album-tree", AlbumTreeApi)]

OPENAPI = {
    "/api/v1/album-tree": {
        "get": operation(
            "One level of the album tree: the sub-albums of `parent` (or the top of what the "
            "viewer may see) the viewer may see, each with has_children",
            query=({"name": "parent", "schema": {"type": "string", "pattern": "^([0-9a-f]{24})?$"}},),
            tag="albums",
        )
    },
}
