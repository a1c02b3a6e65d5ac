"""The media page: the optimized image (or the player of a video/audio file, or a document
card), previous/next in the album's order, "view original"/"download" when allowed, and
the metadata panel whose fields come from the tenant setting `metadata_fields`.
"""

from __future__ import annotations

from gallery.errors import NotFound
from gallery.library import listing
from gallery.library.albums import get_album
from gallery.library.media import viewable_media
from gallery.library.media_access import may_view_original, media_scope
from gallery.library.shares import may_share
from gallery.people.permissions import Viewer, can
from handlers.feeds import embed_snippet
from handlers.page_format import SORT_LABELS, media_label, metadata_rows, probe_rows
from handlers.pages import EDIT_PERMISSIONS, GalleryPage


class MediaPage(GalleryPage):
    """GET /media/<id>[?sort=&dir=] — the sort carries over from the album page; the body
    is cached per visibility class until the tenant's next write (see GalleryPage)."""

    async def get(self, media_id: str) -> None:
        # The body comes from the page cache like the album page's (see GalleryPage).
        view = await self.page_from_cache(
            "media-page",
            media_id,
            self.choice_argument("sort", tuple(SORT_LABELS), None),
            self.choice_argument("dir", ("1", "-1"), None),
        )
        if view is None:
            try:
                view = await self.media_view(media_id)
                self.keep_page(view)
            finally:
                self.end_flight(None)
        # Built per request: the trusted origin, never the Host header (gallery.urls.mail_urls).
        embed = (
            embed_snippet(self.mail_urls, {"_id": view["media_id"]}, view["label"])
            if view.get("embeddable")
            else None
        )
        self.render("media.html", embed_code=embed, **view)

    async def media_view(self, media_id: str) -> dict:
        """What media.html needs: a few layout values and the rendered body."""
        ctx, viewer = self.tenant, await self.viewer()
        media = await viewable_media(ctx, viewer, media_id)
        try:
            album = await get_album(ctx, media["album_id"])
        except NotFound:
            raise NotFound("No such album or media object.") from None
        default_sort = album.get("sort_field") or "position"
        default_dir = "-1" if album.get("sort_direction") == -1 else "1"
        sort = self.choice_argument("sort", tuple(SORT_LABELS), default_sort)
        direction = self.choice_argument("dir", ("1", "-1"), default_dir)
        overridden = (sort, direction) != (default_sort, default_dir)
        sort_query = {"sort": sort, "dir": direction} if overridden else {}
        # A share link of this one object (gallery/library/shares.py) opens nothing else:
        # no neighbours, no album link, no breadcrumb.
        album_open = can(viewer, "view", album)
        prev_item = await self.neighbour(album, media, sort, -int(direction)) if album_open else None
        next_item = await self.neighbour(album, media, sort, int(direction)) if album_open else None

        viewer_ctx = None
        if media.get("kind") != "image":
            from gallery.processing.viewers import viewer_context

            viewer_ctx = await viewer_context(ctx, media, self.settings_values)
        fields = list(self.settings_values.get("metadata_fields") or [])
        can_edit = any(can(viewer, p, album) for p in EDIT_PERMISSIONS)
        # Fields the admin lets editors correct: listed for them even while empty.
        editable = set(self.settings_values.get("metadata_editable") or []) if can(viewer, "edit_media", album) else set()
        rows = metadata_rows(media, fields, lambda tag: self.urls("/search", q=tag),
                             self.settings_values.get("metadata_labels"), editable)
        is_root_album = not album.get("parent_id")
        label = media_label(media)
        body = self.render_string(
            "partials/media_body.html",
            media=media,
            album=album,
            album_url=self.urls("/" if is_root_album else f"/albums/{album['_id']}", **sort_query)
            if album_open
            else None,
            album_title=self.gallery_title if is_root_album else (album.get("title") or "Album"),
            label=label,
            viewer=viewer_ctx,
            rows=rows,
            probe=probe_rows(media),
            prev_url=self.media_url(prev_item, sort_query),
            next_url=self.media_url(next_item, sort_query),
            may_original=may_view_original(viewer, media),
            can_edit=can_edit,
            # Signed-in members vote; the body is cached per visibility class, and anonymous
            # visitors are a class of their own. Their own vote is read by static/js/rating.js.
            can_rate=not viewer.anonymous,
            crumbs=await self.crumbs(album) if album_open else [],
        )
        return {
            "label": label,
            "can_edit": can_edit,
            "can_rate": not viewer.anonymous,
            "media_id": media["_id"],
            "can_share": may_share(viewer, media_scope(media)),
            # The embed box: only what anyone may see can be embedded elsewhere.
            "embeddable": can(Viewer(None, allow_anonymous=viewer.allow_anonymous), "view", media_scope(media)),
            "may_original": may_view_original(viewer, media),
            "next_image": self.urls(f"/media/{next_item['_id']}/optimized")
            if next_item and next_item.get("kind") == "image"
            else None,
            "body": body,
        }

    def media_url(self, item: dict | None, sort_query: dict) -> str | None:
        return self.urls(f"/media/{item['_id']}", **sort_query) if item else None

    async def neighbour(self, album: dict, media: dict, sort: str, direction: int) -> dict | None:
        """The item after `media` in the order (sort, direction): one indexed read."""
        cursor = listing.encode_cursor(sort, direction, media)
        page = await listing.list_album_media(
            self.tenant, album, cursor=cursor, limit=1, sort=sort, direction=direction
        )
        return page["items"][0] if page["items"] else None

    async def crumbs(self, album: dict) -> list[dict]:
        crumbs = await self.breadcrumb(album)
        if album.get("parent_id"):
            crumbs.append(
                {
                    "title": album.get("title") or self._("Untitled"),
                    "url": self.urls(f"/albums/{album['_id']}"),
                }
            )
        elif not crumbs:
            crumbs.append({"title": self.gallery_title or "Home", "url": self.urls("/")})
        return crumbs


ROUTES = [(r"/media/([0-9a-fA-F]{24})", MediaPage)]
