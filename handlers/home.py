"""The gallery's home page: the root album, on the album page's template.

A gallery that has no root album yet (or nothing in it) shows its empty state.
"""

from __future__ import annotations

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
            if root is not None and not can(viewer, "view", root) and viewer.anonymous:
                self.require_user()  # a private root: nothing to see without signing in
            if root is None or not can(viewer, "view", root):
                self.render("home.html")
                return
            await self.render_album(root, is_root=True)
        finally:
            self.end_flight(None)  # visitors waiting for a page that was not built build their own


ROUTES = [(r"/", HomeHandler)]
