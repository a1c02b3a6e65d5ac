"""ShareGrant in the permission rules (gallery.people.permissions): `can` and the album, media
and tag-count filters open exactly what a link names, alone or beside what the viewer may
see anyway, against the real documents of a real gallery."""

from __future__ import annotations

import pytest

from gallery.library.tagcounts import visible_counts
from gallery.people.permissions import (
    ShareGrant,
    Viewer,
    can,
    visible_albums_query,
    visible_media_query,
)
from tests.handlers.share_setup import build


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 0})


async def _seen(ctx, viewer: Viewer) -> tuple[set, set, set]:
    media_q, albums_q = visible_media_query(viewer), visible_albums_query(viewer)
    media = {m["file_name"].split(".")[0] for m in await ctx.db.media.find(media_q).to_list()} if media_q is not None else set()
    albums = {a["title"] for a in await ctx.db.albums.find(albums_q).to_list()} if albums_q is not None else set()
    tags = {t["tag"] for t in await visible_counts(ctx, media_q)} if media_q is not None else set()
    return media, albums, tags


async def test_share_grants_open_exactly_what_they_name(app, make_gallery, viewer_of, make_jpeg):
    s = await build(app, make_gallery, viewer_of, make_jpeg, process=set(), people=False)
    ctx, made, media = s["ctx"], s["albums"], s["media"]
    shared = made["shared"]["_id"]
    closed = Viewer(None, allow_anonymous=False)
    assert await _seen(ctx, closed) == (set(), set(), set())

    alone = Viewer(None, allow_anonymous=False, shares=(ShareGrant("a" * 24, album_id=shared),))
    assert await _seen(ctx, alone) == (
        {"pelican", "lighthouse"}, {"Harbour Walk"}, {"pelicantag", "lighthousetag", "quokka"}
    )
    assert can(alone, "view", made["shared"]) and not can(alone, "view", made["child"])
    assert not can(alone, "view_original", made["shared"]) and not can(alone, "edit_album", made["shared"])
    assert not can(alone, "hide_watermark", made["shared"])

    tree = Viewer(None, allow_anonymous=False, shares=(
        ShareGrant("b" * 24, album_id=shared, subalbums=True, originals=True),))
    seen_media, seen_albums, _tags = await _seen(ctx, tree)
    assert seen_media == {"pelican", "lighthouse", "zetachild"}
    assert seen_albums == {"Harbour Walk", "Zetachild Album"}
    assert can(tree, "view_original", made["child"]) and not can(tree, "view", made["parent"])

    one = Viewer(None, allow_anonymous=False, shares=(ShareGrant("c" * 24, media_id=media["pelican"]),))
    assert await _seen(ctx, one) == ({"pelican"}, set(), set())
    assert not can(one, "view", made["shared"])

    # Beside what a visitor sees anyway: the public root's, plus the link's.
    await ctx.db.albums.update_one({"_id": made["sibling"]["_id"]}, {"$set": {"private": False}})
    await ctx.db.media.update_one({"_id": media["zetasibling"]}, {"$set": {"private": False}})
    open_gallery = Viewer(None, allow_anonymous=True, shares=(ShareGrant("d" * 24, media_id=media["pelican"]),))
    seen_media, seen_albums, _tags = await _seen(ctx, open_gallery)
    assert seen_media == {"pelican", "zetasibling"}
    assert "Zetaparent Album" not in seen_albums and "Harbour Walk" not in seen_albums
