"""The tenant admin's role pages: permissions on albums, picked from the album tree."""

from __future__ import annotations

from gallery.errors import GalleryError
from gallery.i18n import Message
from gallery.notices.events import record_event
from gallery.people import roles as gallery_roles
from handlers.admin_users import AdminPage

PERMISSION_LABELS = {
    "view": "View albums and media",
    "view_original": "View and download originals",
    "add_album": "Add albums",
    "add_media": "Add media",
    "edit_album": "Edit albums",
    "edit_media": "Edit media",
    "delete_album": "Delete child albums",
    "delete_media": "Delete media",
    "synchronize": "Synchronize albums with their folders",
    "administer_gallery": "Administer the gallery",
    "hide_watermark": "See images without watermark",
}

# One line under each permission on the role pages: what ticking it lets the role's members do.
PERMISSION_HELP = {
    "view": "See these albums and their media (thumbnails and web-sized copies).",
    "view_original": "Open and download the full-resolution original files.",
    "add_album": "Create new albums inside these albums.",
    "add_media": "Upload photos, videos and other files into these albums.",
    "edit_album": "Change album titles, summaries, covers and the order of their contents.",
    "edit_media": "Change captions, tags and dates; rotate media or replace their files.",
    "delete_album": "Delete albums below these albums (never the chosen albums themselves).",
    "delete_media": "Delete media from these albums (they go to the trash first).",
    "synchronize": "Start a synchronization of these albums with their folders on the server.",
    "administer_gallery": "Everything, in every album, plus settings, users, roles and backups.",
    "hide_watermark": "See photos without the watermark that visitors see stamped on them.",
}


async def album_tree(ctx) -> list[tuple[dict, int]]:
    """Every album with its depth, in tree order (parents before their children)."""
    albums = await ctx.db.albums.find(
        {}, {"title": 1, "parent_id": 1, "ancestors": 1, "position": 1}
    ).to_list(5000)
    children: dict = {}
    for album in albums:
        children.setdefault(album.get("parent_id"), []).append(album)
    out: list[tuple[dict, int]] = []

    def walk(parent_id, depth):
        for album in sorted(
            children.get(parent_id, []), key=lambda a: (a.get("position", 0), a.get("title", ""))
        ):
            out.append((album, depth))
            walk(album["_id"], depth + 1)

    walk(None, 0)
    return out


class RolesHandler(AdminPage):
    async def page(self, form=None, errors=None, status=200) -> None:
        roles = await gallery_roles.list_roles(self.tenant)
        counts = {
            r["_id"]: await self.tenant.db.users.count_documents({"role_ids": r["_id"]})
            for r in roles
        }
        self.set_status(status)
        self.render(
            "admin/roles.html",
            roles=roles,
            counts=counts,
            tree=await album_tree(self.tenant),
            permissions=gallery_roles.PERMISSIONS,
            labels=PERMISSION_LABELS,
            help=PERMISSION_HELP,
            form=form or {},
            errors=errors or {},
        )

    async def get(self) -> None:
        await self.admin()
        await self.page()

    async def post(self) -> None:
        admin = await self.admin()
        form = {
            "name": self.get_body_argument("name", ""),
            "permissions": self.get_body_arguments("permissions")[:20],
            "album_ids": [a[:24] for a in self.get_body_arguments("album_ids")][:1000],
        }
        try:
            role = await gallery_roles.create_role(
                self.tenant, form["name"], form["permissions"], form["album_ids"]
            )
        except GalleryError as exc:
            return await self.page(form, exc.field_errors or {"form": exc.message}, exc.status)
        await record_event(
            self.tenant,
            "role",
            Message("Role %(role)s created by %(admin)s", role=role["name"], admin=admin["username"]),
            user=admin,
            ip=self.client_ip(),
            details={"role_id": role["_id"]},
        )
        self.redirect(self.urls(f"/admin/roles/{role['_id']}"))


class RoleHandler(AdminPage):
    async def page(self, role, notice=None, error=None, status=200) -> None:
        self.set_status(status)
        self.render(
            "admin/role.html",
            role=role,
            tree=await album_tree(self.tenant),
            permissions=gallery_roles.PERMISSIONS,
            labels=PERMISSION_LABELS,
            help=PERMISSION_HELP,
            notice=notice,
            error=error,
        )

    async def get(self, role_id: str) -> None:
        await self.admin()
        await self.page(await gallery_roles.get_role(self.tenant, role_id))

    async def post(self, role_id: str) -> None:
        admin = await self.admin()
        role = await gallery_roles.get_role(self.tenant, role_id)
        action = self.get_body_argument("action", "save")
        try:
            if action == "delete":
                await gallery_roles.delete_role(self.tenant, role_id)
                await record_event(
                    self.tenant,
                    "role",
                    Message("Role %(role)s deleted by %(admin)s", role=role["name"], admin=admin["username"]),
                    user=admin,
                    ip=self.client_ip(),
                    details={"role_id": role_id},
                )
                return self.redirect(self.urls("/admin/roles"))
            role = await gallery_roles.update_role(
                self.tenant,
                role_id,
                name=self.get_body_argument("name", role["name"]),
                permissions=self.get_body_arguments("permissions")[:20],
                album_ids=[a[:24] for a in self.get_body_arguments("album_ids")][:1000],
            )
        except GalleryError as exc:
            return await self.page(role, error=exc.message, status=exc.status)
        await record_event(
            self.tenant,
            "role",
            Message("Role %(role)s changed by %(admin)s: %(permissions)s on %(count)s album(s)",
                    role=role["name"], admin=admin["username"], count=len(role["album_ids"]),
                    permissions=", ".join(role["permissions"]) or Message("no permissions")),
            user=admin,
            ip=self.client_ip(),
            details={"role_id": role_id},
        )
        await self.page(role, notice="Role saved.")


ROUTES = [(r"/admin/roles", RolesHandler), (r"/admin/roles/([^/]+)", RoleHandler)]
