"""Who may do what. Every handler asks here; templates only show what was decided here.

A role grants its permissions on its albums and everything below them. Albums store
their ancestor ids, so "does any role grant P on this album" is one set intersection
of the album's path (ancestors + itself) with the albums of the roles that carry P.
Any role wins. `administer_gallery` implies every permission but `hide_watermark`.
Anonymous visitors get `view` (and `view_original` when the setting allows it) on
albums that are not private, only while anonymous browsing is on.
A share link's visit adds a ShareGrant to whoever holds it (gallery/library/shares.py):
`view` (and `view_original` when the link allows it) on exactly what the link names, on
top of what the viewer may see anyway, never any other permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gallery.cached import fresh_copy
from gallery.errors import Forbidden, NotAuthenticated, NotFound
from gallery.people.roles import PERMISSIONS

ALL_BUT_WATERMARK = tuple(p for p in PERMISSIONS if p != "hide_watermark")
SHARE_PERMISSIONS = ("view", "view_original")


@dataclass(frozen=True, order=True)
class ShareGrant:
    """What one share link opens: an album (alone or with everything below it) or one
    media object; `originals` adds view_original there."""

    share_id: str
    album_id: str | None = None
    media_id: str | None = None
    subalbums: bool = False
    originals: bool = False

    def opens(self, permission: str, album: dict) -> bool:
        """Does it grant `permission` on this album, or on a media object's scope
        (gallery.library.media_access.media_scope carries the object's `media_id`)?"""
        if permission not in SHARE_PERMISSIONS or (
            permission == "view_original" and not self.originals
        ):
            return False
        if self.media_id is not None:
            return album.get("media_id") == self.media_id
        if album["_id"] == self.album_id:
            return True
        return self.subalbums and self.album_id in (album.get("ancestors") or ())


@dataclass
class Viewer:
    """The person asking: a user with roles, or an anonymous visitor."""

    user: dict | None
    roles: list[dict] = field(default_factory=list)
    allow_anonymous: bool = True
    allow_anonymous_original: bool = False
    shares: tuple[ShareGrant, ...] = ()

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


async def viewer_for(ctx, user: dict | None, settings: dict, shares=()) -> Viewer:
    """`shares`: the ShareGrants of the share links this visitor opened (handlers/base.py)."""
    return Viewer(
        user=user,
        roles=await user_roles(ctx, user),
        allow_anonymous=bool(settings.get("allow_anonymous_browsing", True)),
        allow_anonymous_original=bool(settings.get("allow_anonymous_original", False)),
        shares=tuple(sorted(shares)),
    )


def album_path(album: dict) -> list[str]:
    return list(album.get("ancestors", [])) + [album["_id"]]


def can(viewer: Viewer, permission: str, album: dict) -> bool:
    """May the viewer do `permission` on this album (or on media in it)?"""
    if viewer.shares and any(grant.opens(permission, album) for grant in viewer.shares):
        return True
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


def _with_shares(base: dict | None, arms: list[dict]) -> dict | None:
    """The viewer's own filter, widened by what their share links open."""
    if not arms or base == {}:
        return base
    shared = arms[0] if len(arms) == 1 else {"$or": arms}
    return shared if base is None else {"$or": [base, shared]}


def _share_ids(viewer: Viewer) -> tuple[list, list, list]:
    """(albums shared alone, albums shared with what is below, media shared alone)."""
    alone = [g.album_id for g in viewer.shares if g.album_id and not g.subalbums]
    trees = [g.album_id for g in viewer.shares if g.album_id and g.subalbums]
    media = [g.media_id for g in viewer.shares if g.media_id]
    return alone, trees, media


def visible_albums_query(viewer: Viewer) -> dict | None:
    """A MongoDB filter for albums the viewer may see; None means nothing at all."""
    base = _visible_query(
        viewer, lambda ids: {"$or": [{"_id": {"$in": ids}}, {"ancestors": {"$in": ids}}]}
    )
    alone, trees, _media = _share_ids(viewer)
    arms = [{"_id": {"$in": alone + trees}}] if alone or trees else []
    arms += [{"ancestors": {"$in": trees}}] if trees else []
    return _with_shares(base, arms)


def visible_media_query(viewer: Viewer) -> dict | None:
    """A MongoDB filter for media the viewer may see (media store `album_path` and `private`;
    tag_counts documents carry `album_id` and `album_path` too, never a media id)."""
    base = _visible_query(viewer, lambda ids: {"album_path": {"$in": ids}})
    alone, trees, media = _share_ids(viewer)
    arms = [{"album_id": {"$in": alone}}] if alone else []
    arms += [{"album_path": {"$in": trees}}] if trees else []
    arms += [{"_id": {"$in": media}}] if media else []
    return _with_shares(base, arms)


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
