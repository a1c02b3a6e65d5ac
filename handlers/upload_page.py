"""The upload page (`GET /upload?album=<id>`) and the album picker it and the editor share.

The page itself only renders the picker and the drop zone; static/js/upload.js sends the
files to the upload API (raw body for small files, tus for large ones) and follows each
media object's processing until its thumbnail exists. The picker lists only albums the
signed-in user may add media to (`add_media` through gallery.people.permissions), labelled with
their path of titles (only the albums of it the user may see), so a move/copy dialog can
use the same list.
"""

from __future__ import annotations

from gallery.errors import Forbidden, Invalid, NotFound
from gallery.ids import is_id
from gallery.intake import ingest
from gallery.media_folder import require_writable
from gallery.people.permissions import Viewer, can, is_administrator, viewer_for
from handlers.api_base import ApiHandler, enum_query, operation
from handlers.base import TenantHandler

# A gallery with more albums than this gets the first ones by path; the page still works.
PICKER_LIMIT = 2000
PICKER_PERMISSIONS = ("add_media", "add_album")
# Files at least this large go through tus (resumable); smaller ones in one request.
TUS_THRESHOLD = 16 * 1024 * 1024
TUS_CHUNK = 8 * 1024 * 1024


async def writable_albums(ctx, viewer: Viewer, permission: str, root_title: str) -> list[dict]:
    """Albums where the viewer has `permission`, as {id, title, label, depth}, in tree order."""
    if viewer.anonymous:
        return []
    if viewer.is_admin:
        query: dict = {}
    else:
        ids = list(viewer.albums_with(permission))
        if not ids:
            return []
        query = {"$or": [{"_id": {"$in": ids}}, {"ancestors": {"$in": ids}}]}
    fields = {"title": 1, "ancestors": 1, "parent_id": 1, "private": 1, "position": 1}
    found = await ctx.db.albums.find(query, fields).limit(PICKER_LIMIT).to_list()
    albums = [a for a in found if can(viewer, permission, a) and can(viewer, "view", a)]
    titles = {a["_id"]: a.get("title") or "" for a in found}
    missing = {i for a in albums for i in a.get("ancestors", ()) if i not in titles}
    if missing:
        for a in await ctx.db.albums.find({"_id": {"$in": list(missing)}}, {"title": 1}).to_list():
            titles[a["_id"]] = a.get("title") or ""

    def name(album_id: str, ancestors) -> str:
        # The root album is the gallery itself: call it by the gallery's title.
        return (titles.get(album_id) or "") if ancestors else root_title

    # Only albums the viewer may see are named: roles hold on an album and below it, so
    # the visible part of a path starts at the first album a `view` role reaches, and a
    # private ancestor above it ("Secret" over the "Inner" one may see) stays unnamed.
    seen = None if viewer.is_admin else viewer.albums_with("view")

    def visible(path_ids: list[str]) -> list[int]:
        if seen is None:
            return list(range(len(path_ids)))
        for n, album_id in enumerate(path_ids):
            if album_id in seen:
                return list(range(n, len(path_ids)))
        return [len(path_ids) - 1]

    result = []
    for a in albums:
        ancestors = a.get("ancestors", [])
        ids = [*ancestors, a["_id"]]
        path = [name(ids[n], ancestors[:n]) for n in visible(ids)]
        result.append(
            {
                "id": a["_id"],
                "title": path[-1],
                "label": " / ".join(path),
                "depth": len(path) - 1,  # of what is shown: hidden ancestors are not counted
                "_sort": [p.casefold() for p in path],
            }
        )
    result.sort(key=lambda r: r["_sort"])
    for r in result:
        del r["_sort"]
    return result


def upload_limits(settings: dict) -> dict:
    """What the upload script needs to know before sending (the upload page and an album
    page's drop layer): size limit, accepted types, when to switch to tus."""
    return {
        "max_bytes": ingest.upload_limit(settings),
        "max_mb": settings.get("max_upload_mb"),
        # The endings worth sending: allowed types and the admin's download-only endings
        # (the server's content check decides; this only spares a doomed upload).
        "allowed": [
            e.lower()
            for e in (settings.get("allowed_extensions") or [])
            + (settings.get("download_only_extensions") or [])
        ],
        "tus_threshold": TUS_THRESHOLD,
        "tus_chunk": TUS_CHUNK,
    }


class UploadPageHandler(TenantHandler):
    """GET /upload?album=<id>: the drop zone, the album picker and the upload queue."""

    async def get(self) -> None:
        self.require_user()
        require_writable(self.tenant, "Uploading files")  # the error page says why
        viewer = await viewer_for(self.tenant, self.user, self.settings_values)
        self.is_gallery_admin = is_administrator(viewer.roles)
        album_id = self.get_query_argument("album", "") or ""
        selected = None
        if album_id:
            album = (
                await self.tenant.db.albums.find_one({"_id": album_id}) if is_id(album_id) else None
            )
            if album is None or not can(viewer, "view", album):
                raise NotFound("No such album or media object.")
            if not can(viewer, "add_media", album):
                raise Forbidden("You may not add photos or files to this album.")
            selected = album["_id"]
        albums = await writable_albums(self.tenant, viewer, "add_media", self.gallery_title)
        if not albums:
            raise Forbidden("You may not upload to any album of this gallery.")
        if selected is None:
            selected = albums[0]["id"]
        elif selected not in {a["id"] for a in albums}:
            # Past the picker's limit: still offer the album that was asked for.
            albums.insert(
                0,
                {
                    "id": selected,
                    "title": album.get("title", ""),
                    "label": album.get("title", ""),
                    "depth": 0,
                },
            )
        self.render("upload.html", albums=albums, selected=selected,
                    **upload_limits(self.settings_values))


class AlbumPickerHandler(ApiHandler):
    """GET /api/v1/album-picker?permission=add_media: albums the user may add to."""

    async def get(self) -> None:
        self.require_user()
        permission = self.get_query_argument("permission", "add_media")
        if permission not in PICKER_PERMISSIONS:
            raise Invalid(
                f"permission must be one of {', '.join(PICKER_PERMISSIONS)}.",
                field_errors={"permission": "is not offered"},
            )
        albums = await writable_albums(
            self.tenant, await self.viewer(), permission, self.gallery_title
        )
        self.write_json({"albums": albums})


ROUTES = [
    (r"/upload", UploadPageHandler),
    (r"/api/v1/album-picker", AlbumPickerHandler),
]

OPENAPI = {
    "/api/v1/album-picker": {
        "get": operation(
            "Albums the signed-in user may add media (or albums) to, labelled with their path",
            query=(enum_query("permission", PICKER_PERMISSIONS),),
            tag="albums",
        )
    }
}
