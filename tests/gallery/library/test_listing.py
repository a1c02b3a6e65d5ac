"""Album listings: the viewer's sort over the album's default, bounds, cursors, and the
cards of sub-albums (covers and counts only of what the viewer may see)."""

from __future__ import annotations

import pytest

from gallery.errors import Invalid
from gallery.ids import new_id
from gallery.library import albums
from gallery.library.listing import child_album_cards, list_album_media
from gallery.library.media import media_document
from gallery.library.privacy import apply_private
from gallery.people.permissions import Viewer, viewer_for
from gallery.people.roles import create_role


async def _media(ctx, album, title, position) -> dict:
    doc = media_document(
        album,
        file_name=f"{title}.jpg",
        kind="image",
        mime="image/jpeg",
        extension="jpg",
        original_path=None,
        title=title,
        position=position,
    )
    await ctx.db.media.insert_one(doc)
    return doc


async def _album(make_gallery, viewer_of):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Mixed"})
    made = [await _media(ctx, album, t, i) for i, t in enumerate(["delta", "alpha", "charlie"])]
    return ctx, admin, root, album, made


async def test_the_viewers_sort_overrides_the_albums_default(app, make_gallery, viewer_of):
    ctx, _admin, _root, album, _made = await _album(make_gallery, viewer_of)
    titles = lambda page: [m["title"] for m in page["items"]]
    assert titles(await list_album_media(ctx, album)) == ["delta", "alpha", "charlie"]
    assert titles(await list_album_media(ctx, album, sort="title")) == ["alpha", "charlie", "delta"]
    page = await list_album_media(ctx, album, sort="title", direction="-1", limit=2)
    assert titles(page) == ["delta", "charlie"] and page["direction"] == -1
    rest = await list_album_media(
        ctx, album, sort="title", direction=-1, limit=2, cursor=page["next_cursor"]
    )
    assert titles(rest) == ["alpha"] and rest["next_cursor"] is None
    with pytest.raises(Invalid):  # a cursor of another order
        await list_album_media(ctx, album, sort="title", direction=1, cursor=page["next_cursor"])
    past = await list_album_media(ctx, album, offset=50)
    assert past["items"] == [] and past["total"] == 3 and past["next_cursor"] is None


@pytest.mark.parametrize(
    "arguments",
    [
        {"sort": "colour"},
        {"sort": "$where"},
        {"sort": {"$gt": ""}},
        {"direction": 0},
        {"direction": "up"},
        {"direction": True},
        {"limit": 0},
        {"limit": -1},
        {"limit": 10**9},
        {"limit": "many"},
        {"offset": -1},
        {"offset": 10**12},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 5000},
    ],
)
async def test_bad_listing_arguments_are_invalid(app, make_gallery, viewer_of, arguments):
    ctx, _admin, _root, album, _made = await _album(make_gallery, viewer_of)
    with pytest.raises(Invalid):
        await list_album_media(ctx, album, **arguments)


async def test_child_cards_show_only_what_the_viewer_may_see(app, make_gallery, viewer_of):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    public = await albums.create_album(ctx, admin, root["_id"], {"title": "<b>Public</b>"})
    secret = await albums.create_album(ctx, admin, root["_id"], {"title": "Secret"})
    inner_public = await albums.create_album(ctx, admin, public["_id"], {"title": "Inner"})
    inner_secret = await albums.create_album(ctx, admin, public["_id"], {"title": "Inner secret"})
    empty = await albums.create_album(ctx, admin, root["_id"], {"title": "Empty top"})
    deep = await albums.create_album(ctx, admin, empty["_id"], {"title": "Deep"})
    await apply_private(ctx, secret, True)
    await apply_private(ctx, inner_secret, True)
    first = await _media(ctx, public, "first", 0)
    await _media(ctx, public, "second", 1)
    hidden_cover = await _media(ctx, inner_secret, "hidden", 0)
    deep_media = await _media(ctx, deep, "deep", 0)
    await _media(ctx, secret, "s", 0)
    await ctx.db.albums.update_one(
        {"_id": public["_id"]}, {"$set": {"cover_id": hidden_cover["_id"]}}
    )

    visitor = Viewer(user=None, allow_anonymous=True)
    cards = {c["album"]["title"]: c for c in await child_album_cards(ctx, visitor, root)}
    assert set(cards) == {"<b>Public</b>", "Empty top"}  # never the private one
    card = cards["<b>Public</b>"]
    assert card["media_count"] == 2 and card["album_count"] == 1  # Inner secret not counted
    assert card["cover"]["_id"] == first["_id"]  # the chosen cover is private: fall back
    assert cards["Empty top"]["cover"]["_id"] == deep_media["_id"]  # found further down
    # counts take in what is below (Deep's one item), never the private album's
    assert cards["Empty top"]["media_count"] == 1 and cards["Empty top"]["album_count"] == 1

    admin_cards = {c["album"]["title"]: c for c in await child_album_cards(ctx, admin, root)}
    assert set(admin_cards) == {"<b>Public</b>", "Empty top", "Secret"}
    assert admin_cards["<b>Public</b>"]["cover"]["_id"] == hidden_cover["_id"]
    assert admin_cards["<b>Public</b>"]["album_count"] == 2
    assert admin_cards["<b>Public</b>"]["media_count"] == 3  # with Inner secret's one

    # Big subtrees are counted with one album_path count instead of album by album: the same.
    import gallery.library.listing

    for who in (visitor, admin):
        per_album = [c["media_count"] for c in await child_album_cards(ctx, who, root)]
        saved = gallery.library.listing.PER_ALBUM_COUNTS
        gallery.library.listing.PER_ALBUM_COUNTS = 0
        try:
            at_once = [c["media_count"] for c in await child_album_cards(ctx, who, root)]
        finally:
            gallery.library.listing.PER_ALBUM_COUNTS = saved
        assert per_album == at_once and sum(at_once) > 0

    role = await create_role(ctx, "Inner only", ["view"], [inner_public["_id"]])
    user = {"_id": new_id(), "username": "inner", "role_ids": [role["_id"]], "status": "active"}
    await ctx.db.users.insert_one(user)
    member = await viewer_for(ctx, user, {"allow_anonymous_browsing": True})
    assert await child_album_cards(ctx, member, root) == []
    assert [c["album"]["title"] for c in await child_album_cards(ctx, member, public)] == ["Inner"]
    assert await child_album_cards(ctx, Viewer(user=None, allow_anonymous=False), root) == []
