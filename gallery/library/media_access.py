"""Who may have which bytes of a media object: its album-shaped permission scope, and when
its original is what people see (so `view` alone may have it) or needs `view_original`.
Every route that returns media bytes decides with these (gallery.library.media builds and
changes the documents)."""

from __future__ import annotations

from gallery.people.permissions import Viewer, can


def media_scope(media: dict) -> dict:
    """An album-shaped view of a media object for gallery.people.permissions (no album load);
    `media_id` lets a share link of this one object open it (permissions.ShareGrant)."""
    path = list(media.get("album_path") or [media["album_id"]])
    return {
        "_id": path[-1], "ancestors": path[:-1], "private": bool(media.get("private")),
        "media_id": media.get("_id"),
    }


def has_distinct_original(media: dict) -> bool:
    """True when people see an optimized copy, so the original needs view_original."""
    return bool((media.get("derivatives") or {}).get("optimized"))


def original_is_viewing_copy(media: dict, variant: str = "optimized") -> bool:
    """May `view` alone have the original's bytes in place of the `variant` copy?

    Only once processing decided the original is what people see: a ready object with
    no web-size copy ("optimized"), or ready video/audio that plays as it is ("web").
    While pending (no copy made yet), failed, or while a web copy is being made, the
    original is the original: it needs view_original, on every route that returns it.
    """
    if media.get("state") != "ready":
        return False
    if variant == "web":
        return media.get("kind") in ("video", "audio") and (
            (media.get("transcode") or {}).get("state") in (None, "none")
        )
    return not has_distinct_original(media)


def may_view_original(viewer: Viewer, media: dict) -> bool:
    scope = media_scope(media)
    return can(viewer, "view", scope) and (
        original_is_viewing_copy(media) or can(viewer, "view_original", scope)
    )
