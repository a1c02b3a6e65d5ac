"""Private albums: privacy flows down the album tree and into whatever lands in a private album.

Rules (kept here so the album and media code only calls them):
- making an album private makes its whole subtree private (albums and media);
- making an album public makes its subtree public too, but an album cannot be public
  while its parent is private;
- an album or media object moved or copied into a private album becomes private.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gallery.errors import Invalid
from gallery.library import tagcounts


async def apply_private(ctx, album: dict, private: bool) -> dict:
    """Set `private` on the album, every album below it and all their media; return counts."""
    private = bool(private)
    if not private and album.get("parent_id"):
        parent = await ctx.db.albums.find_one({"_id": album["parent_id"]}, {"private": 1})
        if parent and parent.get("private"):
            raise Invalid(
                "This album is inside a private album, so it is private too. "
                "Make the parent album public first.",
                field_errors={"private": "the parent album is private"},
            )
    now = datetime.now(UTC)
    albums = await ctx.db.albums.update_many(
        {"$or": [{"_id": album["_id"]}, {"ancestors": album["_id"]}]},
        {"$set": {"private": private, "updated": now}},
    )
    media = await ctx.db.media.update_many(
        {"album_path": album["_id"]}, {"$set": {"private": private}}
    )
    await tagcounts.album_privacy(ctx, album["_id"], private)
    album["private"] = private
    return {"albums": albums.modified_count, "media": media.modified_count}


def private_in(destination: dict, private: bool) -> bool:
    """Whether an item that is `private` becomes private when placed in `destination`."""
    return bool(private or destination.get("private"))


async def apply_destination_privacy(
    ctx, destination: dict, *, album_id: str | None = None, media_ids: list[str] | None = None
) -> None:
    """After a move or copy into `destination`: a private destination makes the arrivals private.

    Pass the moved/copied album (its subtree follows) and/or the media objects.
    """
    if not destination.get("private"):
        return
    if album_id:
        moved = await ctx.db.albums.find_one({"_id": album_id})
        if moved is not None:
            await apply_private(ctx, moved, True)
    if media_ids:
        await ctx.db.media.update_many(
            {"_id": {"$in": list(media_ids)}}, {"$set": {"private": True}}
        )
