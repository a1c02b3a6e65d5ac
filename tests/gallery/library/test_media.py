"""Media objects: editing, tags, move/copy/delete with their files, covers, paging."""

from datetime import UTC, datetime, timedelta

import pytest

from gallery.errors import Invalid, NotAuthenticated, NotFound
from gallery.library import albums
from gallery.library.listing import list_album_media
from gallery.library.media import (
    add_media_file,
    copy_media,
    delete_media,
    get_media,
    move_media,
    safe_filename,
    set_cover,
    update_media,
)
from gallery.library.transforms import combine_transform


async def _setup(make_gallery, viewer_of):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    a = await albums.create_album(ctx, admin, root["_id"], {"title": "A"})
    b = await albums.create_album(ctx, admin, root["_id"], {"title": "B"})
    return ctx, admin, a, b


def test_safe_filename_keeps_a_plain_name_and_drops_directories():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\x\\photo.JPG") == "photo.JPG"
    assert safe_filename('a"b\x00c\n.jpg') == "a_bc.jpg"
    assert safe_filename("...") == "file"
    assert len(safe_filename("x" * 400 + ".jpeg")) <= 150


def test_rotations_and_flips_compose():
    t = combine_transform(None, 90)
    assert t == {"rotate": 90, "mirror": False}
    t = combine_transform(t, 0, "horizontal")
    assert t == {"rotate": 90, "mirror": True}
    # After a mirror, turning clockwise turns the stored rotation back.
    assert combine_transform(t, 90) == {"rotate": 0, "mirror": True}
    assert combine_transform(None, 0, "vertical") == {"rotate": 180, "mirror": True}
    with pytest.raises(Invalid):
        combine_transform(None, 45)


async def test_editing_title_caption_and_tags(make_gallery, viewer_of, make_jpeg):
    ctx, admin, a, _ = await _setup(make_gallery, viewer_of)
    media = await add_media_file(ctx, a, make_jpeg(), "p.jpg")
    edited = await update_media(
        ctx,
        admin,
        media["_id"],
        {
            "title": "  Sunset   over sea ",
            "caption": "Nice",
            "tags": "Beach, beach ,SUN,, Évening",
        },
    )
    assert edited["title"] == "Sunset over sea" and edited["caption"] == "Nice"
    assert edited["tags"] == ["Beach", "SUN", "Évening"]
    assert edited["tag_keys"] == ["beach", "sun", "évening"]
    found = await ctx.db.media.find({"tag_keys": {"$in": ["sun"]}}).to_list()
    assert [m["_id"] for m in found] == [media["_id"]]
    with pytest.raises(Invalid) as err:
        await update_media(ctx, admin, media["_id"], {"title": "x" * 300, "album_id": "nope"})
    assert set(err.value.field_errors) == {"title", "album_id"}
    anonymous = await viewer_of(ctx, None)
    with pytest.raises(NotAuthenticated):
        await update_media(ctx, anonymous, media["_id"], {"title": "hacked"})


async def test_move_copy_and_delete_take_the_files_along(make_gallery, viewer_of, make_jpeg):
    ctx, admin, a, b = await _setup(make_gallery, viewer_of)
    media = await add_media_file(ctx, a, make_jpeg(), "p.jpg")
    (ctx.storage.derivatives / media["_id"]).mkdir()
    (ctx.storage.derivatives / media["_id"] / "thumbnail.jpg").write_bytes(b"thumb")
    await ctx.db.media.update_one(
        {"_id": media["_id"]},
        {
            "$set": {
                "derivatives.thumbnail": {
                    "path": f"derivatives/{media['_id']}/thumbnail.jpg",
                    "mime": "image/jpeg",
                }
            }
        },
    )
    await set_cover(ctx, admin, media["_id"])
    moved = await move_media(ctx, admin, media["_id"], b["_id"])
    assert moved["album_id"] == b["_id"] and moved["album_path"][-1] == b["_id"]
    assert moved["original"]["path"] == "originals/B/p.jpg"
    assert ctx.storage.resolve(moved["original"]["path"]).is_file()
    assert not (ctx.storage.originals / "A" / "p.jpg").exists()
    assert (await albums.get_album(ctx, a["_id"]))["cover_id"] is None

    copy = await copy_media(ctx, admin, media["_id"], b["_id"])
    assert copy["_id"] != media["_id"] and copy["original"]["path"] == "originals/B/p (2).jpg"
    assert copy["derivatives"]["thumbnail"]["path"] == f"derivatives/{copy['_id']}/thumbnail.jpg"
    assert ctx.storage.resolve(copy["derivatives"]["thumbnail"]["path"]).read_bytes() == b"thumb"

    await delete_media(ctx, admin, media["_id"])
    assert not (ctx.storage.originals / "B" / "p.jpg").exists()
    assert not (ctx.storage.derivatives / media["_id"]).exists()
    with pytest.raises(NotFound):
        await get_media(ctx, media["_id"])
    assert ctx.storage.resolve(copy["original"]["path"]).is_file()


async def test_cover_must_come_from_the_album_subtree(make_gallery, viewer_of, make_jpeg):
    ctx, admin, a, b = await _setup(make_gallery, viewer_of)
    media = await add_media_file(ctx, a, make_jpeg(), "p.jpg")
    root = await albums.root_album(ctx)
    assert (await set_cover(ctx, admin, media["_id"], root["_id"]))["cover_id"] == media["_id"]
    with pytest.raises(Invalid):
        await set_cover(ctx, admin, media["_id"], b["_id"])


async def _fill(ctx, album, n, make_jpeg):
    base = datetime(2020, 1, 1, tzinfo=UTC)
    ids = []
    for i in range(n):
        m = await add_media_file(
            ctx, album, make_jpeg(16, 16), f"f{i:02d}.jpg", title=f"t{(i * 7) % n:02d}"
        )
        # Every third has no date taken: the order must still page through all of them.
        taken = None if i % 3 == 0 else base + timedelta(days=(i * 5) % n)
        await ctx.db.media.update_one({"_id": m["_id"]}, {"$set": {"date_taken": taken}})
        ids.append(m["_id"])
    return ids


@pytest.mark.parametrize("sort_field", ["position", "title", "date_taken", "file_name"])
async def test_paging_with_cursor_and_offset_visits_every_item_once(
    make_gallery, viewer_of, make_jpeg, sort_field
):
    ctx, admin, a, _ = await _setup(make_gallery, viewer_of)
    ids = await _fill(ctx, a, 11, make_jpeg)
    for direction in (1, -1):
        album = await albums.update_album(
            ctx, admin, a["_id"], {"sort_field": sort_field, "sort_direction": direction}
        )
        everything = (await list_album_media(ctx, album, limit=100))["items"]
        assert sorted(m["_id"] for m in everything) == sorted(ids)
        seen, cursor = [], None
        while True:
            page = await list_album_media(ctx, album, limit=4, cursor=cursor)
            assert page["total"] == 11
            seen += [m["_id"] for m in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [m["_id"] for m in everything], (sort_field, direction)
        by_offset = []
        for offset in range(0, 11, 4):
            by_offset += [
                m["_id"]
                for m in (await list_album_media(ctx, album, offset=offset, limit=4))["items"]
            ]
        assert by_offset == seen


async def test_a_cursor_of_another_order_is_refused(make_gallery, viewer_of, make_jpeg):
    ctx, admin, a, _ = await _setup(make_gallery, viewer_of)
    await _fill(ctx, a, 3, make_jpeg)
    page = await list_album_media(ctx, a, limit=1)
    album = await albums.update_album(ctx, admin, a["_id"], {"sort_field": "title"})
    with pytest.raises(Invalid):
        await list_album_media(ctx, album, limit=1, cursor=page["next_cursor"])
    with pytest.raises(Invalid):
        await list_album_media(ctx, album, limit=1, cursor="not-base64!")
