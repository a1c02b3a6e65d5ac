"""Who may do what. Every handler asks here; templates only show what was decided here."""

from __future__ import annotations

from gallery.errors import Forbidden


async def user_roles(ctx, user: dict | None) -> list[dict]:
    if not user or not user.get("role_ids"):
        return []
    return await ctx.db.roles.find({"_id": {"$in": list(user["role_ids"])}}).to_list()


def is_administrator(roles: list[dict]) -> bool:
    return any("administer_gallery" in role.get("permissions", ()) for role in roles)


async def require_administrator(ctx, user: dict | None) -> list[dict]:
    roles = await user_roles(ctx, user)
    if not is_administrator(roles):
        raise Forbidden("Only gallery administrators may do this.")
    return roles
