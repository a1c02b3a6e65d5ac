"""Albums found by the words of their title and summary, for the search page's album cards.

Albums carry no stored search keys: a gallery has far fewer albums than media objects, so
their titles and summaries are read (only those two fields) and matched in Python by the
same word rules as media (gallery.library.keywords): every word of the query must be a word
of the album, or the start of one. Only albums the viewer may view are returned; the root
album (the gallery itself) never is.
"""

from __future__ import annotations

from gallery.library.keywords import words
from gallery.people.permissions import Viewer, can

# Albums read per search at most; a gallery beyond this is searched in its first albums by
# creation (a bound on the work one request may cause).
SCAN_LIMIT = 50_000


def _matches(wanted: list[str], album: dict) -> bool:
    have = set(words(f"{album.get('title') or ''} {album.get('summary') or ''}"))
    return all(w in have or any(h.startswith(w) for h in have) for w in wanted)


async def search_albums(ctx, viewer: Viewer, query: str, *, limit: int = 12) -> list[dict]:
    """Albums the viewer may view whose title or summary holds every word of `query`,
    titles A→Z."""
    wanted = list(dict.fromkeys(words((query or "")[:500])))[:10]
    if not wanted:
        return []
    found = []
    # Whole documents: the permission check and the cards (listing.album_cards) read them.
    cursor = ctx.db.albums.find({"parent_id": {"$ne": None}}).limit(SCAN_LIMIT)
    async for album in cursor:
        if _matches(wanted, album) and can(viewer, "view", album):
            found.append(album)
    found.sort(key=lambda a: ((a.get("title") or "").casefold(), a["_id"]))
    return found[:limit]
