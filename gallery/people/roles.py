"""Roles: a set of permissions on a set of albums (and everything below them)."""

from __future__ import annotations

from datetime import UTC, datetime

from gallery.ids import new_id
from gallery.people.users import username_key

ROLE_VERSION = 1

PERMISSIONS = (
    "view",
    "view_original",
    "add_album",
    "add_media",
    "edit_album",
    "edit_media",
    "delete_album",
    "delete_media",
    "synchronize",
    "administer_gallery",
    "hide_watermark",
)

ADMINISTRATORS = "Gallery Administrators"
AUTHENTICATED = "Authenticated Users"


def role_document(
    name: str, permissions: list[str], album_ids: list[str], *, builtin: str | None = None
) -> dict:
    return {
        "_id": new_id(),
        "name": name,
        "name_key": username_key(name),
        "permissions": [p for p in PERMISSIONS if p in permissions],
        "album_ids": album_ids,
        "builtin": builtin,
        "created": datetime.now(UTC),
        "version": ROLE_VERSION,
    }


def builtin_roles(root_album_id: str) -> list[dict]:
    """The roles every gallery starts with (created by the installer)."""
    return [
        role_document(
            ADMINISTRATORS, ["administer_gallery"], [root_album_id], builtin="administrators"
        ),
        role_document(
            AUTHENTICATED, ["view", "view_original"], [root_album_id], builtin="authenticated"
        ),
    ]


# -- managing roles -----------------------------------------------------------------------

ROLE_NAME_MAX = 100


async def list_roles(ctx) -> list[dict]:
    return await ctx.db.roles.find({}).sort("name_key", 1).to_list()


async def get_role(ctx, role_id: str) -> dict:
    from gallery.errors import NotFound
    from gallery.ids import is_id

    role = await ctx.db.roles.find_one({"_id": role_id}) if is_id(role_id) else None
    if role is None:
        raise NotFound("No such role.")
    return role


def _clean_name(name) -> str:
    from gallery.errors import Invalid

    value = name.strip() if isinstance(name, str) else ""
    if not value:
        raise Invalid("Role name is required.", field_errors={"name": "is required"})
    if len(value) > ROLE_NAME_MAX or any(ord(c) < 32 for c in value):
        raise Invalid(
            f"Role name must be at most {ROLE_NAME_MAX} printable characters.",
            field_errors={"name": "is too long or not printable"},
        )
    return value


def _clean_permissions(permissions) -> list[str]:
    from gallery.errors import Invalid

    if not isinstance(permissions, (list, tuple, set)) or not all(
        isinstance(p, str) for p in permissions
    ):
        raise Invalid("Permissions must be a list.", field_errors={"permissions": "must be a list"})
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        raise Invalid(
            f"Unknown permission: {unknown[0][:50]}",
            field_errors={"permissions": "unknown permission"},
        )
    return [p for p in PERMISSIONS if p in permissions]


async def clean_album_ids(ctx, album_ids) -> list[str]:
    """Album ids that exist in this gallery; an id from elsewhere (another tenant, forged) is refused."""
    from gallery.errors import Invalid
    from gallery.ids import is_id

    if not isinstance(album_ids, (list, tuple, set)):
        raise Invalid("Albums must be a list.", field_errors={"album_ids": "must be a list"})
    ids = list(dict.fromkeys(album_ids))
    if not all(is_id(a) for a in ids):
        raise Invalid("Unknown album.", field_errors={"album_ids": "unknown album"})
    found = {
        a["_id"] for a in await ctx.db.albums.find({"_id": {"$in": ids}}, {"_id": 1}).to_list()
    }
    if len(found) != len(ids):
        raise Invalid("Unknown album.", field_errors={"album_ids": "unknown album"})
    return ids


async def create_role(
    ctx,
    name: str,
    permissions: list[str],
    album_ids: list[str],
    *,
    builtin: str | None = None,
    owner_album_id: str | None = None,
) -> dict:
    from pymongo.errors import DuplicateKeyError

    from gallery.errors import Conflict

    role = role_document(
        _clean_name(name),
        _clean_permissions(permissions),
        await clean_album_ids(ctx, album_ids),
        builtin=builtin,
    )
    if owner_album_id:
        role["owner_album_id"] = owner_album_id
    try:
        await ctx.db.roles.insert_one(role)
    except DuplicateKeyError:
        raise Conflict("A role with that name exists.", field_errors={"name": "is taken"}) from None
    return role


async def update_role(
    ctx,
    role_id: str,
    *,
    name: str | None = None,
    permissions: list[str] | None = None,
    album_ids: list[str] | None = None,
) -> dict:
    from pymongo.errors import DuplicateKeyError

    from gallery.errors import Conflict

    role = await get_role(ctx, role_id)
    changes: dict = {}
    if name is not None:
        clean = _clean_name(name)
        changes.update(name=clean, name_key=username_key(clean))
    if permissions is not None:
        changes["permissions"] = _clean_permissions(permissions)
    if album_ids is not None:
        changes["album_ids"] = await clean_album_ids(ctx, album_ids)
    if "permissions" in changes and "administer_gallery" not in changes["permissions"]:
        await ensure_admin_remains(ctx, roles={role_id: changes["permissions"]})
    if changes:
        try:
            await ctx.db.roles.update_one({"_id": role_id}, {"$set": changes})
        except DuplicateKeyError:
            raise Conflict(
                "A role with that name exists.", field_errors={"name": "is taken"}
            ) from None
    return {**role, **changes}


async def delete_role(ctx, role_id: str) -> dict:
    role = await get_role(ctx, role_id)
    await ensure_admin_remains(ctx, roles={role_id: None})
    await ctx.db.roles.delete_one({"_id": role_id})
    await ctx.db.users.update_many({"role_ids": role_id}, {"$pull": {"role_ids": role_id}})
    return role


async def ensure_admin_remains(
    ctx, *, roles: dict | None = None, users: dict | None = None
) -> None:
    """Refuse a change that would leave the gallery without an active administrator.

    `roles` maps role id -> new permissions (None: deleted); `users` maps user id -> new role
    ids (None: deleted or disabled).
    """
    from gallery.errors import Conflict

    roles, users = roles or {}, users or {}
    admin_roles = set()
    for role in await ctx.db.roles.find({}, {"permissions": 1}).to_list():
        perms = roles[role["_id"]] if role["_id"] in roles else role.get("permissions", [])
        if perms is not None and "administer_gallery" in perms:
            admin_roles.add(role["_id"])
    candidates = await ctx.db.users.find({"status": "active"}, {"role_ids": 1}).to_list()
    for user in candidates:
        role_ids = users[user["_id"]] if user["_id"] in users else user.get("role_ids", [])
        if role_ids is not None and admin_roles.intersection(role_ids):
            return
    raise Conflict("The gallery must keep at least one active administrator.")


async def set_user_roles(ctx, user_id: str, role_ids: list[str]) -> list[str]:
    """Replace a user's roles; ids that are not roles of this gallery are refused."""
    from gallery.errors import Invalid
    from gallery.ids import is_id

    ids = list(dict.fromkeys(role_ids or []))
    if not all(is_id(r) for r in ids):
        raise Invalid("Unknown role.", field_errors={"role_ids": "unknown role"})
    found = await ctx.db.roles.count_documents({"_id": {"$in": ids}}) if ids else 0
    if found != len(ids):
        raise Invalid("Unknown role.", field_errors={"role_ids": "unknown role"})
    await ensure_admin_remains(ctx, users={user_id: ids})
    await ctx.db.users.update_one({"_id": user_id}, {"$set": {"role_ids": ids}})
    return ids


# -- album ownership ----------------------------------------------------------------------

OWNER_PERMISSIONS = [p for p in PERMISSIONS if p != "administer_gallery"]


async def give_album(ctx, album: dict, user: dict) -> dict:
    """Make `user` the owner of `album`: an owner role with every permission but administering."""
    await take_album(ctx, album)
    role = await create_role(
        ctx,
        f"Owner of {album['title'][:60]} ({album['_id'][-6:]})",
        OWNER_PERMISSIONS,
        [album["_id"]],
        builtin="owner",
        owner_album_id=album["_id"],
    )
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$addToSet": {"role_ids": role["_id"]}})
    await ctx.db.albums.update_one({"_id": album["_id"]}, {"$set": {"owner_id": user["_id"]}})
    return role


async def take_album(ctx, album: dict) -> None:
    """Remove the album's owner (and the owner role)."""
    for role in await ctx.db.roles.find({"owner_album_id": album["_id"]}).to_list():
        await ctx.db.roles.delete_one({"_id": role["_id"]})
        await ctx.db.users.update_many(
            {"role_ids": role["_id"]}, {"$pull": {"role_ids": role["_id"]}}
        )
    await ctx.db.albums.update_one({"_id": album["_id"]}, {"$set": {"owner_id": None}})
