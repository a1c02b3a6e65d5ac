"""Albums: nesting, directories that mirror the tree, move/copy/delete of whole subtrees."""

import pytest

from gallery.errors import Invalid, NotAuthenticated, NotFound
from gallery.library import album_copy, albums, filenames
from gallery.library.media import add_media_file


def test_safe_dirname_strips_separators_control_characters_and_dots():
    assert filenames.safe_dirname("a/b\\c") == "a-b-c"
    assert filenames.safe_dirname("..") == "album"
    assert filenames.safe_dirname(".hidden.") == "hidden"
    assert filenames.safe_dirname("tab\there\x00\x1f new\nline") == "tab here new line"
    assert len(filenames.safe_dirname("x" * 500)) == filenames.MAX_DIRNAME
    assert filenames.safe_dirname("Trip", ["trip", "Trip (2)"]) == "Trip (3)"
    assert filenames.safe_dirname("x" * 500, ["x" * filenames.MAX_DIRNAME]).endswith(" (2)")


async def _setup(make_gallery, viewer_of, slug="alpha"):
    g = await make_gallery(slug)
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    return ctx, root, await viewer_of(ctx)


async def test_albums_nest_and_mirror_the_tree_on_disk(make_gallery, viewer_of):
    ctx, root, admin = await _setup(make_gallery, viewer_of)
    trips = await albums.create_album(ctx, admin, root["_id"], {"title": "Trips"})
    paris = await albums.create_album(ctx, admin, trips["_id"], {"title": "Paris / 2024"})
    deep = await albums.create_album(
        ctx,
        admin,
        paris["_id"],
        {"title": "Day 1", "sort_field": "date_taken", "sort_direction": -1},
    )
    again = await albums.create_album(ctx, admin, trips["_id"], {"title": "paris - 2024"})
    assert deep["ancestors"] == [root["_id"], trips["_id"], paris["_id"]]
    assert deep["dirpath"] == "Trips/Paris - 2024/Day 1"
    assert again["dirname"] == "paris - 2024 (2)"
    assert (ctx.storage.originals / "Trips" / "Paris - 2024" / "Day 1").is_dir()
    assert [c["_id"] for c in await albums.child_albums(ctx, trips["_id"])] == [
        paris["_id"],
        again["_id"],
    ]
    with pytest.raises(Invalid) as err:
        await albums.create_album(ctx, admin, root["_id"], {"title": "  ", "sort_field": "colour"})
    assert set(err.value.field_errors) == {"title", "sort_field"}


async def test_anonymous_visitors_cannot_create_albums(make_gallery, viewer_of):
    ctx, root, _ = await _setup(make_gallery, viewer_of)
    anonymous = await viewer_of(ctx, None)
    with pytest.raises(NotAuthenticated):
        await albums.create_album(ctx, anonymous, root["_id"], {"title": "Nope"})


async def test_moving_a_subtree_updates_ancestors_paths_and_files(
    make_gallery, viewer_of, make_jpeg
):
    ctx, root, admin = await _setup(make_gallery, viewer_of)
    a = await albums.create_album(ctx, admin, root["_id"], {"title": "A"})
    b = await albums.create_album(ctx, admin, a["_id"], {"title": "B"})
    c = await albums.create_album(ctx, admin, b["_id"], {"title": "C"})
    target = await albums.create_album(ctx, admin, root["_id"], {"title": "Target"})
    photo = await add_media_file(ctx, c, make_jpeg(), "deep.jpg")

    moved = await albums.move_album(ctx, admin, b["_id"], target["_id"])
    assert moved["ancestors"] == [root["_id"], target["_id"]] and moved["dirpath"] == "Target/B"
    c2 = await albums.get_album(ctx, c["_id"])
    assert (
        c2["ancestors"] == [root["_id"], target["_id"], b["_id"]] and c2["dirpath"] == "Target/B/C"
    )
    m = await ctx.db.media.find_one({"_id": photo["_id"]})
    assert m["album_path"] == [root["_id"], target["_id"], b["_id"], c["_id"]]
    assert m["original"]["path"] == "originals/Target/B/C/deep.jpg"
    assert ctx.storage.resolve(m["original"]["path"]).is_file()
    assert not (ctx.storage.originals / "A" / "B").exists()

    for bad_parent in (b["_id"], c["_id"]):
        with pytest.raises(Invalid):
            await albums.move_album(ctx, admin, b["_id"], bad_parent)
    with pytest.raises(Invalid):
        await albums.move_album(ctx, admin, root["_id"], a["_id"])


async def test_moving_into_a_private_album_makes_the_subtree_private(
    make_gallery, viewer_of, make_jpeg
):
    ctx, root, admin = await _setup(make_gallery, viewer_of)
    secret = await albums.create_album(
        ctx, admin, root["_id"], {"title": "Secret", "private": True}
    )
    open_ = await albums.create_album(ctx, admin, root["_id"], {"title": "Open"})
    photo = await add_media_file(ctx, open_, make_jpeg(), "p.jpg")
    await albums.move_album(ctx, admin, open_["_id"], secret["_id"])
    # (The embedded server stores a multi-document $set of True as 1: compare truth.)
    assert bool((await albums.get_album(ctx, open_["_id"]))["private"])
    assert bool((await ctx.db.media.find_one({"_id": photo["_id"]}))["private"])


async def test_copying_a_subtree_copies_records_and_files(make_gallery, viewer_of, make_jpeg):
    ctx, root, admin = await _setup(make_gallery, viewer_of)
    a = await albums.create_album(ctx, admin, root["_id"], {"title": "A"})
    b = await albums.create_album(ctx, admin, a["_id"], {"title": "B"})
    p1 = await add_media_file(ctx, a, make_jpeg(), "one.jpg")
    await add_media_file(ctx, b, make_jpeg(), "two.jpg")
    await albums.update_album(ctx, admin, a["_id"], {"cover_id": p1["_id"]})
    copy = await album_copy.copy_album(ctx, admin, a["_id"], root["_id"])
    assert copy["_id"] != a["_id"] and copy["dirname"] == "A (2)" and copy["title"] == "A"
    copied_children = await albums.child_albums(ctx, copy["_id"])
    assert [c["title"] for c in copied_children] == ["B"]
    copied_media = await ctx.db.media.find({"album_path": {"$in": [copy["_id"]]}}).to_list()
    assert sorted(m["file_name"] for m in copied_media) == ["one.jpg", "two.jpg"]
    for m in copied_media:
        assert m["original"]["path"].startswith("originals/A (2)/")
        assert ctx.storage.resolve(m["original"]["path"]).is_file()
    assert copy["cover_id"] in {m["_id"] for m in copied_media}
    # The source is untouched.
    assert await ctx.db.media.count_documents({"album_path": a["_id"]}) == 2
    with pytest.raises(Invalid):
        await album_copy.copy_album(ctx, admin, a["_id"], b["_id"])


async def test_deleting_a_subtree_with_and_without_files(make_gallery, viewer_of, make_jpeg):
    ctx, root, admin = await _setup(make_gallery, viewer_of)
    a = await albums.create_album(ctx, admin, root["_id"], {"title": "A"})
    b = await albums.create_album(ctx, admin, a["_id"], {"title": "B"})
    photo = await add_media_file(ctx, b, make_jpeg(), "x.jpg")
    (ctx.storage.derivatives / photo["_id"]).mkdir()
    keep = await albums.create_album(ctx, admin, root["_id"], {"title": "Keep"})
    kept = await add_media_file(ctx, keep, make_jpeg(), "k.jpg")
    await albums.update_album(ctx, admin, root["_id"], {"cover_id": photo["_id"]})

    counts = await albums.delete_album(ctx, admin, a["_id"])
    assert counts == {"albums": 2, "media": 1}
    assert not (ctx.storage.originals / "A").exists()
    assert not (ctx.storage.derivatives / photo["_id"]).exists()
    assert (await albums.root_album(ctx))["cover_id"] is None
    with pytest.raises(NotFound):
        await albums.get_album(ctx, b["_id"])

    counts = await albums.delete_album(ctx, admin, keep["_id"], delete_files=False)
    assert counts == {"albums": 1, "media": 1}
    assert ctx.storage.resolve(kept["original"]["path"]).is_file()
    with pytest.raises(Invalid):
        await albums.delete_album(ctx, admin, root["_id"])


async def test_delete_needs_delete_album_on_the_parent(make_gallery, viewer_of):
    from gallery.people.roles import role_document
    from gallery.people.users import create_user

    ctx, root, admin = await _setup(make_gallery, viewer_of)
    mine = await albums.create_album(ctx, admin, root["_id"], {"title": "Mine"})
    child = await albums.create_album(ctx, admin, mine["_id"], {"title": "Child"})
    role = role_document("Editors", ["view", "delete_album"], [child["_id"]])
    await ctx.db.roles.insert_one(role)
    await create_user(
        ctx, "editor", "editor@alpha.test", "Another-Horse-Battery-7", role_ids=[role["_id"]]
    )
    editor = await viewer_of(ctx, "editor")
    from gallery.errors import Forbidden

    with pytest.raises(Forbidden):  # delete_album on the child itself is not enough
        await albums.delete_album(ctx, editor, child["_id"])


async def test_renaming_keeps_directory_unless_the_setting_says_so(
    make_gallery, viewer_of, make_jpeg
):
    ctx, root, admin = await _setup(make_gallery, viewer_of)
    a = await albums.create_album(ctx, admin, root["_id"], {"title": "Old"})
    photo = await add_media_file(ctx, a, make_jpeg(), "x.jpg")
    renamed = await albums.update_album(
        ctx, admin, a["_id"], {"title": "New"}, {"sync_dirnames_with_titles": False}
    )
    assert renamed["title"] == "New" and renamed["dirname"] == "Old"
    renamed = await albums.update_album(
        ctx, admin, a["_id"], {"title": "Newer"}, {"sync_dirnames_with_titles": True}
    )
    assert renamed["dirname"] == "Newer" and (ctx.storage.originals / "Newer").is_dir()
    m = await ctx.db.media.find_one({"_id": photo["_id"]})
    assert (
        m["original"]["path"] == "originals/Newer/x.jpg"
        and ctx.storage.resolve(m["original"]["path"]).is_file()
    )
