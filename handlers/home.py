"""The gallery's home page: the root album, on the album page's template.

A gallery that has no root album yet (or nothing in it) shows its empty state.
"""

from __future__ import annotations

from gallery.albums import root_album
from handlers.pages import AlbumPage


class HomeHandler(AlbumPage):
    async def get(self) -> None:
        root = await root_album(self.tenant)
        if root is None:
            self.render("home.html")
            return
        await self.render_album(root, is_root=True)


ROUTES = [(r"/", HomeHandler)]
