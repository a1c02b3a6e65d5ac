"""The album tree pane: the sub-albums of one album that a viewer may see, each saying
whether it has visible sub-albums of its own, so the pane opens one level at a time (a deep
or wide gallery is never sent whole).

The top of the tree is the gallery (the root album's children) or, for a member who may
not see the root, the highest albums they may open (listing.highest_visible_albums): no
album the viewer may not see is ever named.
"""

from __future__ import annotations

from gallery.library.albums import root_album, viewable_album
from gallery.library.listing import MAX_CHILDREN, highest_visible_albums
from gallery.people.permissions import Viewer, can

FIELDS = {"title": 1, "parent_id": 1, "ancestors": 1, "private": 1, "position": 1, "owner_id": 1}


async def tree_level(ctx, viewer: Viewer, parent_id: str | None) -> list[dict]:
    """[{"id", "title", "private", "has_children"}] below `parent_id` (None: the top)."""
    if parent_id is None:
        root = await root_album(ctx)
        if root is not None and can(viewer, "view", root):
            parent_id = root["_id"]
        else:
            return await _described(ctx, viewer, await highest_visible_albums(ctx, viewer))
    else:
        await viewable_album(ctx, viewer, parent_id)  # NotFound for what they may not see
    children = (
        await ctx.db.albums.find({"parent_id": parent_id}, FIELDS)
        .sort([("position", 1), ("_id", 1)])
        .limit(MAX_CHILDREN)
        .to_list()
    )
    return await _described(ctx, viewer, [c for c in children if can(viewer, "view", c)])


async def _described(ctx, viewer: Viewer, albums: list[dict]) -> list[dict]:
    ids = [a["_id"] for a in albums]
    below = (
        await ctx.db.albums.find({"parent_id": {"$in": ids}}, FIELDS).to_list() if ids else []
    )
    parents = {b["parent_id"] for b in below if can(viewer, "view", b)}
    return [
        {"id": a["_id"], "title": a.get("title") or "Untitled album",
         "private": bool(a.get("private")), "has_children": a["_id"] in parents}
        for a in albums
    ]
