"""The gallery's home page: the root album, on the album page's template.

A gallery that has no root album yet (or nothing in it) shows its empty state. A member
who may not see the root gets the albums they may open (listing.highest_visible_albums).
"""

from __future__ import annotations

from gallery.library import listing
from gallery.library.albums import root_album
from gallery.people.permissions import can
from handlers.pages import AlbumPage


class HomeHandler(AlbumPage):
    async def get(self) -> None:
        # The root album's page is cached like any album's (see AlbumPage); only a page
        # that was rendered for this visibility class is ever served from there.
        if await self.serve_cached_album("root"):
            return
        try:
            root = await root_album(self.tenant)
            viewer = await self.viewer()
            if (
                root is not None and not can(viewer, "view", root)
                and viewer.anonymous and not viewer.shares
            ):
                self.require_user()  # a private root: nothing to see without signing in
            if root is not None and not can(viewer, "view", root):
                # A member whose roles reach only some albums: their highest albums.
                tops = await listing.highest_visible_albums(self.tenant, viewer)
                if tops:
                    await self.render_virtual_root(root, tops)
                    return
            if root is None or not can(viewer, "view", root):
                self.render("home.html")
                return
            await self.render_album(root, is_root=True)
        finally:
            self.end_flight(None)  # visitors waiting for a page that was not built build their own

    async def render_virtual_root(self, root: dict, tops: list[dict]) -> None:
        """The home of a viewer who may not see the root: cards of the albums they may open
        (cached per visibility class like any album page). Nothing of the root but its id
        (the page's data attribute) is used; the root's title is the gallery's."""
        cards = await listing.album_cards(self.tenant, await self.viewer(), tops)
        body = self.render_string(
            "partials/album_body.html",
            album={"_id": root["_id"]},
            is_root=True,
            title=self.gallery_title,
            crumbs=[],
            cards=cards,
            tiles=[],
            total=0,
            page=1,
            pages=1,
            size=0,
            sort="position",
            direction="1",
            sort_labels={},
            sort_query={},
            page_url=lambda **q: self.urls("/", **q),
            base_url=self.urls("/"),
            next_api=None,
            can_edit=False,
            may_original=False,
            out_of_range=False,
            signed_in=True,
        )
        view = {
            "album_id": root["_id"],
            "title": self.gallery_title,
            "is_root": True,
            "can_edit": False,
            "page_url": self.urls("/"),
            "body": body,
        }
        self.keep_page(view)
        self.render("album.html", **view)


ROUTES = [(r"/", HomeHandler)]
