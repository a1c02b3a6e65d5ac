"""Members' star ratings of media: one vote per member, the average and count on the media.

Stored shapes (all optional; absence means "no votes", so no migration):
- `ratings` collection: `{_id: "<media_id>:<user_id>", media_id, user_id, stars, at}`. The
  composite `_id` makes one vote per member unique by construction: ten parallel votes of one
  member are ten writes of one document, never ten documents.
- on the media document: `rating_sum`, `rating_count` (members' votes, changed by `$inc` with the
  difference each vote makes), `rating` (the file's own rating: XMP `xmp:Rating` read by
  processing, or a GSP import's; never a member vote) and `rating_avg`, what pages show and
  albums sort by: the members' average, or the file's own rating while nobody has voted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from gallery.errors import Invalid, NotAuthenticated
from gallery.library.media import viewable_media
from gallery.people.permissions import Viewer

STARS = range(1, 6)


def clean_stars(value) -> int:
    """1 to 5 as a JSON whole number; "5", 4.5, true, 0, 6 and huge numbers are refused."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in STARS:
        raise Invalid("Stars must be a whole number from 1 to 5.",
                      field_errors={"stars": "must be a whole number from 1 to 5"})
    return value


def _member(viewer: Viewer) -> str:
    if viewer.anonymous:
        raise NotAuthenticated("Sign in to rate.")
    return viewer.user["_id"]


def average(media: dict) -> float | None:
    count = media.get("rating_count") or 0
    if count > 0:
        return round((media.get("rating_sum") or 0) / count, 2)
    own = media.get("rating")
    return float(own) if isinstance(own, (int, float)) and 1 <= own <= 5 else None


def summary(media: dict, mine: int | None = None) -> dict:
    """The rating as the API shows it."""
    own = media.get("rating")
    return {
        "average": media.get("rating_avg"),
        "count": media.get("rating_count") or 0,
        "file": own if isinstance(own, int) and 1 <= own <= 5 else None,
        "mine": mine,
    }


async def refresh_average(ctx, media_id: str) -> dict | None:
    """Set `rating_avg` from the stored sum, count and file rating.

    Written only if none of them changed since they were read; a writer that changed them
    refreshes after its own change, so the last refresh always sees the last values.
    """
    for _ in range(20):
        media = await ctx.db.media.find_one({"_id": media_id})
        if media is None:
            return None
        avg = average(media)
        if media.get("rating_avg") == avg:
            return media
        guard = {"_id": media_id}
        for key in ("rating_sum", "rating_count", "rating"):
            guard[key] = media.get(key)  # None also matches an absent field
        done = await ctx.db.media.find_one_and_update(
            guard, {"$set": {"rating_avg": avg}}, return_document=ReturnDocument.AFTER
        )
        if done is not None:
            return done
    return await ctx.db.media.find_one({"_id": media_id})


async def my_vote(ctx, viewer: Viewer, media_id: str) -> int | None:
    if viewer.anonymous:
        return None
    vote = await ctx.db.ratings.find_one({"_id": f"{media_id}:{viewer.user['_id']}"})
    return vote["stars"] if vote else None


async def vote(ctx, viewer: Viewer, media_id: str, stars) -> dict:
    """The member's vote (a new one or a changed one); returns the media's rating summary."""
    stars = clean_stars(stars)
    user_id = _member(viewer)
    media = await viewable_media(ctx, viewer, media_id)
    key = f"{media['_id']}:{user_id}"
    # The old vote comes back from the same atomic write, so the difference is exact even
    # when the same member votes ten times at once.
    for attempt in range(3):
        try:
            old = await ctx.db.ratings.find_one_and_update(
                {"_id": key},
                # Not $setOnInsert (the embedded database ignores it): the same values anyway.
                {"$set": {"stars": stars, "at": datetime.now(UTC), "media_id": media["_id"],
                          "user_id": user_id}},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
            break
        except DuplicateKeyError:  # a parallel first vote inserted it: now it is an update
            if attempt == 2:
                raise
    change = {"rating_sum": stars - (old["stars"] if old else 0), "rating_count": 0 if old else 1}
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$inc": change})
    media = await refresh_average(ctx, media["_id"]) or media
    return summary(media, stars)


async def withdraw(ctx, viewer: Viewer, media_id: str) -> dict:
    user_id = _member(viewer)
    media = await viewable_media(ctx, viewer, media_id)
    old = await ctx.db.ratings.find_one_and_delete({"_id": f"{media['_id']}:{user_id}"})
    if old:
        await ctx.db.media.update_one(
            {"_id": media["_id"]}, {"$inc": {"rating_sum": -old["stars"], "rating_count": -1}}
        )
        media = await refresh_average(ctx, media["_id"]) or media
    return summary(media, None)


def file_rating(value) -> int | None:
    """A file's or an import's own rating as stored: 1 to 5, else none (0 and -1 mean unrated
    and rejected in XMP)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 5:
        return int(value)
    return None
