"""One copy of the same content per album (or per gallery), by the `duplicates` setting.

A check ("is this SHA-256 in the album?") followed by an insert lets two parallel uploads
of the same file both pass. So the content is first claimed: a document whose `_id` names
the scope and the hash, inserted before the check and removed once the media object is
recorded (or the upload failed). The second of two racing uploads finds the claim taken
and is skipped like any duplicate. A claim left by a process that died mid-upload is
taken over after CLAIM_MINUTES.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from gallery.errors import AlreadyInAlbum, AlreadyInGallery
from gallery.i18n import Message

CLAIM_MINUTES = 10
POLICIES = ("skip", "skip_gallery", "keep")  # skip: within the album


async def claim_content(ctx, album: dict, sha256: str, policy: str) -> str | None:
    """Claim `sha256` for one upload into `album`; raises Conflict when the content is
    already there (or arriving right now). Returns the claim to release, or None (keep)."""
    if policy not in ("skip", "skip_gallery"):
        return None
    in_album = policy == "skip"
    key = f"{album['_id'] if in_album else 'gallery'}:{sha256}"
    now = datetime.now(UTC)
    await ctx.db.content_claims.delete_one(
        {"_id": key, "created": {"$lt": now - timedelta(minutes=CLAIM_MINUTES)}}
    )
    try:
        await ctx.db.content_claims.insert_one({"_id": key, "created": now})
    except DuplicateKeyError:
        if in_album:
            raise AlreadyInAlbum(Message(
                "Already in this album \u2014 skipped (the same file is being added right now)."
            )) from None
        raise AlreadyInGallery(Message(
            "Already in this gallery \u2014 skipped (the same file is being added right now)."
        )) from None
    query = {"content_hash": sha256, **({"album_id": album["_id"]} if in_album else {})}
    try:
        existing = await ctx.db.media.find_one(query, {"file_name": 1, "album_id": 1})
    except BaseException:
        await release_claim(ctx, key)  # not left to block this content for CLAIM_MINUTES
        raise
    if existing is None:
        return key
    await release_claim(ctx, key)
    if in_album:
        raise AlreadyInAlbum(Message(
            "Already in this album as \u201c%(name)s\u201d (media %(id)s) \u2014 skipped.",
            name=existing.get("file_name"), id=existing["_id"],
        ))
    other = await ctx.db.albums.find_one({"_id": existing.get("album_id")}, {"title": 1})
    raise AlreadyInGallery(Message(
        "Already in this gallery as \u201c%(name)s\u201d in the album \u201c%(album)s\u201d (media %(id)s) \u2014 skipped.",
        name=existing.get("file_name"), album=(other or {}).get("title") or Message("Untitled album"), id=existing["_id"],
    ))


async def release_claim(ctx, key: str | None) -> None:
    if key is not None:
        await ctx.db.content_claims.delete_one({"_id": key})
