"""What a new account starts with: its roles and its personal album's title and summary,
from the gallery's settings (issue 18, item 4; GSP's DefaultRolesForUser,
UserAlbumNameTemplate, EnableUserAlbumDefaultForUser)."""

from __future__ import annotations

from datetime import UTC, datetime

from gallery.ids import is_id
from gallery.settings import USER_ALBUM_PLACEHOLDERS


async def default_role_ids(ctx, settings: dict) -> list[str]:
    """The chosen roles that still exist and do not administer the gallery (a self-registered
    stranger never becomes an administrator, whatever the stored setting says); without any,
    the built-in Authenticated Users role."""
    chosen = [r for r in settings.get("default_role_ids") or [] if is_id(r)][:200]
    ids = await usable_role_ids(ctx, chosen)
    kept = [r for r in chosen if r in ids]
    if kept:
        return kept
    builtin = await ctx.db.roles.find_one({"builtin": "authenticated"}, {"_id": 1})
    return [builtin["_id"]] if builtin else []


async def usable_role_ids(ctx, ids: list[str]) -> set[str]:
    """Those of `ids` that are roles of this gallery without the administer permission."""
    wanted = [r for r in ids if is_id(r)]
    if not wanted:
        return set()
    found = await ctx.db.roles.find({"_id": {"$in": wanted}}, {"permissions": 1}).to_list()
    return {r["_id"] for r in found if "administer_gallery" not in (r.get("permissions") or ())}


def wants_album(user: dict) -> bool:
    """Accounts made before the per-account switch have no field: they keep their album."""
    return bool(user.get("user_album", True))


def fill(template: str, user: dict) -> str:
    """The template with {username} and {date} filled in. Plain replacement, never
    str.format: a template is admin text, and format would reach attributes and indexes."""
    values = {"username": user["username"], "date": datetime.now(UTC).strftime("%Y-%m-%d")}
    for name in USER_ALBUM_PLACEHOLDERS:
        template = template.replace("{" + name + "}", values[name])
    return template
