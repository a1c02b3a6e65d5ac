"""One action on many media objects: move, copy, delete, tag, untag.

Each id is checked on its own with the same rules as the single-item functions in
gallery.library.media (which do the work); an id the viewer cannot see is reported as "not found",
exactly like one that does not exist.
"""

from __future__ import annotations

from gallery.errors import GalleryError, Invalid, NotAuthenticated
from gallery.i18n import Message
from gallery.ids import is_id
from gallery.library.albums import viewable_album
from gallery.library.media import copy_media, move_media, update_media, viewable_media
from gallery.library.tags import clean_tags, tag_key
from gallery.library.trash import delete_media
from gallery.people.permissions import Viewer

ACTIONS = ("move", "copy", "delete", "tag", "untag")
MAX_BULK = 1000


def _check(action, ids, album_id, tags) -> list[str]:
    if action not in ACTIONS:
        raise Invalid(
            f"The action must be one of: {', '.join(ACTIONS)}.",
            field_errors={"action": f"must be one of: {', '.join(ACTIONS)}"},
        )
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise Invalid("Send a list of media ids.", field_errors={"ids": "must be a list of ids"})
    if len(ids) > MAX_BULK:
        raise Invalid(
            Message("At most %(count)s items at once.", count=MAX_BULK), field_errors={"ids": Message("at most %(count)s", count=MAX_BULK)}
        )
    if action in ("move", "copy") and not isinstance(album_id, str):
        raise Invalid("Choose the target album.", field_errors={"album_id": "is required"})
    if action in ("tag", "untag") and not clean_tags(tags):
        raise Invalid("Give at least one tag.", field_errors={"tags": "is required"})
    return list(dict.fromkeys(ids))


async def _retag(ctx, viewer: Viewer, media_id: str, tags: list[str], add: bool) -> None:
    media = await viewable_media(ctx, viewer, media_id, "edit_media")
    current = list(media.get("tags") or [])
    if add:
        new = current + tags  # clean_tags drops the ones already there (ignoring case)
    else:
        drop = {tag_key(t) for t in tags}
        new = [t for t in current if tag_key(t) not in drop]
    await update_media(ctx, viewer, media_id, {"tags": new})


async def bulk_action(ctx, viewer: Viewer, action, ids, *, album_id=None, tags=None) -> dict:
    """{"done": [ids], "failed": [{"id", "error"}]}; each id succeeds or fails on its own."""
    if viewer.anonymous:
        raise NotAuthenticated("Please sign in to do this.")
    ids = _check(action, ids, album_id, tags)
    tags = clean_tags(tags) if action in ("tag", "untag") else []
    if action in ("move", "copy"):
        await viewable_album(ctx, viewer, album_id)  # an unknown target fails the whole call
    done: list[str] = []
    failed: list[dict] = []
    for media_id in ids:
        try:
            if not is_id(media_id):
                raise Invalid("not found")
            if action == "move":
                await move_media(ctx, viewer, media_id, album_id)
            elif action == "copy":
                await copy_media(ctx, viewer, media_id, album_id)
            elif action == "delete":
                await delete_media(ctx, viewer, media_id)
            else:
                await _retag(ctx, viewer, media_id, tags, action == "tag")
        except GalleryError as exc:
            failed.append({"id": media_id, "error": _reason(exc)})
        else:
            done.append(media_id)
    return {"done": done, "failed": failed}


def _reason(exc: GalleryError) -> str:
    if exc.code == "not_found" or exc.message == "not found":
        return "not found"
    return exc.message
