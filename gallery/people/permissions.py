"""Who may do what. Every handler asks here; templates only show what was decided here.

A role grants its permissions on its albums and everything below them. Albums store
their ancestor ids, so "does any role grant P on this album" is one set intersection
of the album's path (ancestors + itself) with the albums of the roles that carry P.
Any role wins. `administer_gallery` implies every permission but `hide_watermark`.
Anonymous visitors get `view` (and `view_original` when the setting allows it) on
albums that are not private, only while anonymous browsing is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gallery.cached import fresh_copy
from gallery.errors import Forbidden, NotAuthenticated, NotFound
from gallery.people.roles import PERMISSIONS

ALL_BUT_WATERMARK = tuple(p for p in PERMISSIONS if p != "hide_watermark")


@dataclass
class Viewer:
    """The person asking: a user with roles, or an anonymous visitor."""

    user: dict | None
    roles: list[dict] = field(default_factory=list)
    allow_anonymous: bool = True
    allow_anonymous_original: bool = False

    @property
    def anonymous(self) -> bool:
        return self.user is None

    @property
    def is_admin(self) -> bool:
        return any("administer_gallery" in r.get("permissions", ()) for r in self.roles)

    def albums_with(self, permission: str) -> set[str]:
        """Ids of the albums where some role grants `permission` (it then holds below them too)."""
        ids: set[str] = set()
        for role in self.roles:
            perms = role.get("permissions", ())
            if permission in perms or (
                "administer_gallery" in perms and permission in ALL_BUT_WATERMARK
            ):
                ids.update(role.get("album_ids", ()))
        return ids


async def user_roles(ctx, user: dict | None) -> list[dict]:
    """The user's roles; cached on the context until the tenant's next write (ctx.cached)."""
    if not user or not user.get("role_ids"):
        return []
    role_ids = list(user["role_ids"])
    key = ("roles", tuple(role_ids))
    roles = ctx.cached(key)
    if roles is None:
        generation = ctx.generation
        roles = await ctx.db.roles.find({"_id": {"$in": role_ids}}).to_list()
        ctx.remember(key, roles, generation)
    # Each caller gets its own list of its own dicts: a caller that edits one in place
    # (role admin pages do) cannot change what the next request sees.
    return fresh_copy(roles)


async def viewer_for(ctx, user: dict | None, settings: dict) -> Viewer:
    return Viewer(
        user=user,
        roles=await user_roles(ctx, user),
        allow_anonymous=bool(settings.get("allow_anonymous_browsing", True)),
        allow_anonymous_original=bool(settings.get("allow_anonymous_original", False)),
    )


def album_path(album: dict) -> list[str]:
    return list(album.get("ancestors", [])) + [album["_id"]]


def can(viewer: Viewer, permission: str, album: dict) -> bool:
    """May the viewer do `permission` on this album (or on media in it)?"""
    if viewer.anonymous:
        if album.get("private") or not viewer.allow_anonymous:
            return False
        if permission == "view":
            return True
        return permission == "view_original" and viewer.allow_anonymous_original
    return bool(viewer.albums_with(permission).intersection(album_path(album)))


def require(viewer: Viewer, permission: str, album: dict, *, hide: bool = True) -> None:
    """Raise unless allowed. Without `view`, say 404 so the album's existence stays hidden."""
    if can(viewer, permission, album):
        return
    if hide and not can(viewer, "view", album):
        if viewer.anonymous and album.get("private") is False and not viewer.allow_anonymous:
            raise NotAuthenticated("Please sign in to see this gallery.")
        raise NotFound("No such album or media object.")
    if viewer.anonymous:
        raise NotAuthenticated("Please sign in to do this.")
    raise Forbidden("You do not have permission to do this.")


def _visible_query(viewer: Viewer, below) -> dict | None:
    """The common shape of the visibility filters; `below(ids)` matches inside those albums."""
    if viewer.anonymous:
        return {"private": False} if viewer.allow_anonymous else None
    if viewer.is_admin:
        return {}
    ids = list(viewer.albums_with("view"))
    return below(ids) if ids else None


def visible_albums_query(viewer: Viewer) -> dict | None:
    """A MongoDB filter for albums the viewer may see; None means nothing at all."""
    return _visible_query(
        viewer, lambda ids: {"$or": [{"_id": {"$in": ids}}, {"ancestors": {"$in": ids}}]}
    )


def visible_media_query(viewer: Viewer) -> dict | None:
    """A MongoDB filter for media the viewer may see (media store `album_path` and `private`)."""
    return _visible_query(viewer, lambda ids: {"album_path": {"$in": ids}})


def is_administrator(roles: list[dict]) -> bool:
    return any("administer_gallery" in role.get("permissions", ()) for role in roles)


async def require_administrator(ctx, user: dict | None) -> list[dict]:
    roles = await user_roles(ctx, user)
    if not is_administrator(roles):
        raise Forbidden("Only gallery administrators may do this.")
    return roles


# -- album tree operations (Gallery Server Pro's rules) ------------------------------------


def can_delete_album(viewer: Viewer, album: dict, parent: dict | None) -> bool:
    """Deleting an album removes a child of its parent, so it needs `delete_album` on the parent.

    The root album (no parent) is never deleted this way.
    """
    if parent is None or album.get("parent_id") != parent["_id"]:
        return False
    return can(viewer, "delete_album", parent)


def require_delete_album(viewer: Viewer, album: dict, parent: dict | None) -> None:
    if not can_delete_album(viewer, album, parent):
        require(viewer, "view", album)
        raise (
            NotAuthenticated("Please sign in to do this.")
            if viewer.anonymous
            else Forbidden("You do not have permission to delete this album.")
        )


def _deny(viewer: Viewer, message: str) -> None:
    if viewer.anonymous:
        raise NotAuthenticated("Please sign in to do this.")
    raise Forbidden(message)


def require_move(viewer: Viewer, source: dict, destination: dict, *, what: str = "media") -> None:
    """Moving takes an item out of `source` (delete there) and puts it into `destination` (add).

    `source` is the album the item leaves: a media object's album, or a moved album's parent.
    """
    kind = _kind(what)
    require(viewer, "view", source)
    require(viewer, "view", destination)
    if not can(viewer, f"delete_{kind}", source):
        _deny(viewer, "You may not remove items from the source album.")
    if not can(viewer, f"add_{kind}", destination):
        _deny(viewer, "You may not add items to the destination album.")


def require_copy(viewer: Viewer, source: dict, destination: dict, *, what: str = "media") -> None:
    """The one rule of every copy path (a media object, a bulk selection, an album subtree):
    a copy duplicates originals, so it needs `view_original` where the item is (for an
    album: on it, and so below it) and `add_<what>` where the copy goes."""
    kind = _kind(what)
    require(viewer, "view", source)
    require(viewer, "view_original", source)
    require(viewer, "view", destination)
    if not can(viewer, f"add_{kind}", destination):
        _deny(viewer, "You may not add items to the destination album.")


def _kind(what: str) -> str:
    if what not in ("album", "media"):
        raise ValueError(f"what must be 'album' or 'media', not {what!r}")
    return what
