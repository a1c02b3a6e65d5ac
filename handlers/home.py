"""The gallery's home page: its title and the root album."""

from __future__ import annotations

from gallery.albums import child_albums, root_album
from gallery.permissions import is_administrator, user_roles
from handlers.base import TenantHandler


class HomeHandler(TenantHandler):
    async def get(self) -> None:
        if not self.settings_values["allow_anonymous_browsing"] and self.user is None:
            self.require_user()
        roles = await user_roles(self.tenant, self.user)
        self.is_gallery_admin = is_administrator(roles)
        root = await root_album(self.tenant)
        children = await child_albums(self.tenant, root["_id"]) if root else []
        self.render("home.html", root=root, children=children)


ROUTES = [(r"/", HomeHandler)]
