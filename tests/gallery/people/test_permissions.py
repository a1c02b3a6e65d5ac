"""The permission model against real documents in the embedded database.

Tree: root → A → A1 → A1a, and root → P (private) → P1. Every album holds one media object.
"""

from __future__ import annotations

import pytest

from gallery.errors import Forbidden, Invalid, NotAuthenticated, NotFound
from gallery.ids import new_id
from gallery.library.albums import album_document
from gallery.library.privacy import apply_destination_privacy, apply_private
from gallery.people.permissions import (
    Viewer,
    can,
    can_delete_album,
    require,
    require_copy,
    require_move,
    viewer_for,
    visible_albums_query,
    visible_media_query,
)
from gallery.people.roles import PERMISSIONS, create_role, give_album


async def _tree(ctx) -> dict:
    root = await ctx.db.albums.find_one({"parent_id": None})
    albums = {"root": root}
    for name, parent in (("A", "root"), ("A1", "A"), ("A1a", "A1"), ("P", "root"), ("P1", "P")):
        album = album_document(f"Title {name}", albums[parent])
        album["private"] = name.startswith("P")
        await ctx.db.albums.insert_one(album)
        albums[name] = album
    for name, album in albums.items():
        await ctx.db.media.insert_one(
            {
                "_id": new_id(),
                "album_id": album["_id"],
                "title": f"Media {name}",
                "album_path": album["ancestors"] + [album["_id"]],
                "private": album["private"],
            }
        )
    return albums


async def _user_with(ctx, role_ids) -> dict:
    # Permission checks only read role ids: no password needed (and no hashing cost).
    user = {
        "_id": new_id(),
        "username": f"u{new_id()[-6:]}",
        "role_ids": role_ids,
        "status": "active",
    }
    await ctx.db.users.insert_one(user)
    return user


async def _visible(ctx, collection: str, query) -> set[str]:
    if query is None:
        return set()
    return {d["title"] for d in await ctx.db[collection].find(query, {"title": 1}).to_list()}


SETTINGS = {"allow_anonymous_browsing": True, "allow_anonymous_original": False}


async def test_each_permission_granted_directly_inherited_or_not_at_all(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    albums = await _tree(ctx)
    for permission in PERMISSIONS:
        role = await create_role(ctx, f"Only {permission}", [permission], [albums["A"]["_id"]])
        viewer = await viewer_for(ctx, await _user_with(ctx, [role["_id"]]), SETTINGS)
        assert can(viewer, permission, albums["A"]), f"{permission}: granted directly"
        assert can(viewer, permission, albums["A1a"]), f"{permission}: inherited from an ancestor"
        for other in ("root", "P", "P1"):
            assert not can(viewer, permission, albums[other]), (
                f"{permission}: not granted on {other}"
            )
        for other in set(PERMISSIONS) - {permission}:
            implied = permission == "administer_gallery" and other != "hide_watermark"
            assert can(viewer, other, albums["A1"]) == implied, (
                f"{permission} does not grant {other}"
            )


async def test_anonymous_visitors_view_public_albums_only_while_browsing_is_allowed(
    app, make_gallery
):
    gallery = await make_gallery("alpha")
    albums = await _tree(gallery["ctx"])
    visitor = Viewer(user=None, allow_anonymous=True)
    assert can(visitor, "view", albums["A1a"]) and not can(visitor, "view_original", albums["A1a"])
    assert not can(visitor, "view", albums["P"]) and not can(visitor, "view", albums["P1"])
    for permission in set(PERMISSIONS) - {"view"}:
        assert not can(visitor, permission, albums["A"])
    assert can(Viewer(user=None, allow_anonymous_original=True), "view_original", albums["A"])
    closed = Viewer(user=None, allow_anonymous=False)
    assert not can(closed, "view", albums["A"])
    with pytest.raises(NotAuthenticated):
        require(closed, "view", albums["A"])
    with pytest.raises(NotFound):
        require(visitor, "view", albums["P"])  # its existence stays hidden
    with pytest.raises(NotAuthenticated):
        require(visitor, "edit_album", albums["A"])


async def test_listings_show_neither_titles_nor_counts_of_albums_out_of_reach(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    albums = await _tree(ctx)
    role = await create_role(ctx, "A viewers", ["view"], [albums["A1"]["_id"]])
    member = await viewer_for(ctx, await _user_with(ctx, [role["_id"]]), SETTINGS)
    assert await _visible(ctx, "albums", visible_albums_query(member)) == {"Title A1", "Title A1a"}
    assert await _visible(ctx, "media", visible_media_query(member)) == {"Media A1", "Media A1a"}

    visitor = Viewer(user=None)
    public = await _visible(ctx, "albums", visible_albums_query(visitor))
    assert public == {"Alpha Gallery", "Title A", "Title A1", "Title A1a"}
    assert await _visible(ctx, "media", visible_media_query(visitor)) == {
        "Media root",
        "Media A",
        "Media A1",
        "Media A1a",
    }
    # Counting media of the private album through the viewer's filter finds nothing.
    count = await ctx.db.media.count_documents(
        {"$and": [visible_media_query(visitor), {"album_id": albums["P"]["_id"]}]}
    )
    assert count == 0

    nobody = await viewer_for(ctx, await _user_with(ctx, []), SETTINGS)
    assert visible_albums_query(nobody) is None and visible_media_query(nobody) is None
    assert visible_albums_query(Viewer(user=None, allow_anonymous=False)) is None
    admin = await viewer_for(ctx, await ctx.db.users.find_one({"username": "admin"}), SETTINGS)
    assert len(await _visible(ctx, "albums", visible_albums_query(admin))) == 6


async def test_deleting_an_album_needs_delete_on_its_parent(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    albums = await _tree(ctx)
    role = await create_role(ctx, "Deleters", ["view", "delete_album"], [albums["A"]["_id"]])
    viewer = await viewer_for(ctx, await _user_with(ctx, [role["_id"]]), SETTINGS)
    assert can_delete_album(viewer, albums["A1"], albums["A"])
    assert not can_delete_album(viewer, albums["A"], albums["root"]), "A's parent is the root"
    assert not can_delete_album(viewer, albums["A1a"], albums["A"]), "not its parent"
    admin = await viewer_for(ctx, await ctx.db.users.find_one({"username": "admin"}), SETTINGS)
    assert not can_delete_album(admin, albums["root"], None)


async def test_moving_needs_delete_at_the_source_and_add_at_the_destination_copying_only_view(
    app, make_gallery
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    albums = await _tree(ctx)
    source = await create_role(ctx, "Source", ["view", "delete_media"], [albums["A1"]["_id"]])
    dest = await create_role(ctx, "Dest", ["view", "add_media"], [albums["P"]["_id"]])
    viewer_only = await create_role(ctx, "Viewer", ["view"], [albums["A"]["_id"]])
    both = await viewer_for(ctx, await _user_with(ctx, [source["_id"], dest["_id"]]), SETTINGS)
    require_move(both, albums["A1a"], albums["P1"], what="media")
    with pytest.raises(Forbidden):
        require_move(both, albums["P1"], albums["A1"], what="media")
    with pytest.raises(Forbidden):
        require_move(
            both, albums["A1"], albums["P"], what="album"
        )  # delete_media is not delete_album
    reader = await viewer_for(
        ctx, await _user_with(ctx, [viewer_only["_id"], dest["_id"]]), SETTINGS
    )
    with pytest.raises(Forbidden):  # a copy duplicates the original: view is not enough
        require_copy(reader, albums["A1"], albums["P"], what="media")
    originals = await create_role(ctx, "Originals", ["view", "view_original"], [albums["A"]["_id"]])
    keeper = await viewer_for(ctx, await _user_with(ctx, [originals["_id"], dest["_id"]]), SETTINGS)
    require_copy(keeper, albums["A1"], albums["P"], what="media")
    with pytest.raises(Forbidden):
        require_copy(keeper, albums["A1"], albums["P"], what="album")  # no add_album there
    with pytest.raises(Forbidden):
        require_move(reader, albums["A1"], albums["P"], what="media")
    with pytest.raises(NotFound):
        require_copy(both, albums["root"], albums["P"])  # cannot see the source
    with pytest.raises(NotAuthenticated):
        require_copy(Viewer(user=None), albums["A"], albums["A1"])


async def test_private_flows_down_the_tree_and_into_private_destinations(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    albums = await _tree(ctx)
    changed = await apply_private(ctx, albums["A"], True)
    assert changed == {"albums": 3, "media": 3}
    visitor = Viewer(user=None)
    assert await _visible(ctx, "albums", visible_albums_query(visitor)) == {"Alpha Gallery"}
    assert await _visible(ctx, "media", visible_media_query(visitor)) == {"Media root"}
    a1 = await ctx.db.albums.find_one({"_id": albums["A1"]["_id"]})
    with pytest.raises(Invalid):
        await apply_private(ctx, a1, False)  # its parent is private
    await apply_private(ctx, albums["A"], False)
    assert "Media A1a" in await _visible(ctx, "media", visible_media_query(visitor))

    # An album and a media object moved into a private album become private.
    await ctx.db.albums.update_one(
        {"_id": albums["A1"]["_id"]}, {"$set": {"parent_id": albums["P"]["_id"]}}
    )
    moved_media = await ctx.db.media.find_one({"title": "Media A"})
    await apply_destination_privacy(
        ctx, albums["P"], album_id=albums["A1"]["_id"], media_ids=[moved_media["_id"]]
    )
    assert await _visible(ctx, "media", visible_media_query(visitor)) == {"Media root"}
    await apply_destination_privacy(
        ctx, albums["A"], media_ids=[moved_media["_id"]]
    )  # public: nothing changes


async def test_owning_an_album_grants_everything_there_but_administering(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    albums = await _tree(ctx)
    owner = await _user_with(ctx, [])
    role = await give_album(ctx, albums["A1"], owner)
    viewer = await viewer_for(ctx, await ctx.db.users.find_one({"_id": owner["_id"]}), SETTINGS)
    for permission in set(PERMISSIONS) - {"administer_gallery"}:
        assert can(viewer, permission, albums["A1a"])
    assert not can(viewer, "administer_gallery", albums["A1"]) and not viewer.is_admin
    assert not can(viewer, "edit_album", albums["A"])
    assert (await ctx.db.albums.find_one({"_id": albums["A1"]["_id"]}))["owner_id"] == owner["_id"]
    assert role["builtin"] == "owner"
