"""Maintained tag counts (gallery.library.tagcounts): every write that changes media tags, albums or
privacy keeps the per-album counts equal to what a recount from media gives, and the cloud
read from them never shows a visitor a tag that lives only in a private album."""

from __future__ import annotations

from gallery.ids import new_id
from gallery.library import album_copy, albums
from gallery.library.bulk import bulk_action
from gallery.library.media import add_media_file, copy_media, delete_media, move_media, update_media
from gallery.library.privacy import apply_private
from gallery.library.search import suggest_tags, tag_cloud
from gallery.library.tagcounts import rebuild_tag_counts
from gallery.library.tags import tag_fields
from gallery.people.permissions import Viewer, viewer_for
from gallery.people.roles import create_role
from gallery.processing.process import _store

ANONYMOUS = Viewer(user=None, allow_anonymous=True)


async def _stored(ctx) -> dict[tuple[str, str], dict]:
    """{(album_id, tag_key): {count, private, album_path}} as maintained."""
    return {
        (d["album_id"], d["tag_key"]): {
            "count": d["count"], "private": bool(d["private"]), "album_path": d["album_path"],
        }
        async for d in ctx.db.tag_counts.find({})
        if d["count"] > 0
    }


async def _assert_equals_rebuild(ctx) -> dict:
    maintained = await _stored(ctx)
    await rebuild_tag_counts(ctx)
    rebuilt = await _stored(ctx)
    assert maintained == rebuilt
    return rebuilt


def _cloud(cloud) -> dict[str, int]:
    return {t["tag"].casefold(): t["count"] for t in cloud}


async def _setup(make_gallery, viewer_of):
    ctx = (await make_gallery("alpha"))["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    trips = await albums.create_album(ctx, admin, root["_id"], {"title": "Trips"})
    home = await albums.create_album(ctx, admin, root["_id"], {"title": "Home"})
    return ctx, admin, root, trips, home


async def test_counts_follow_every_media_write_and_equal_a_rebuild(
    app, make_gallery, viewer_of, make_jpeg
):
    ctx, admin, _, trips, home = await _setup(make_gallery, viewer_of)
    a = await add_media_file(ctx, trips, make_jpeg(), "a.jpg", tags=["Sea", "Sun"])
    b = await add_media_file(ctx, trips, make_jpeg(), "b.jpg", tags="sea, Boat")
    c = await add_media_file(ctx, home, make_jpeg(), "c.jpg", tags=["Cat"])
    counts = await _stored(ctx)
    assert counts[(trips["_id"], "sea")]["count"] == 2
    assert counts[(trips["_id"], "boat")]["count"] == 1
    assert counts[(home["_id"], "cat")]["count"] == 1
    assert _cloud(await tag_cloud(ctx, admin)) == {"sea": 2, "sun": 1, "boat": 1, "cat": 1}

    # Edit: "Sun" goes, "Beach" comes; the same key in another spelling changes nothing.
    await update_media(ctx, admin, a["_id"], {"tags": ["SEA", "Beach"]})
    counts = await _stored(ctx)
    assert (trips["_id"], "sun") not in counts
    assert counts[(trips["_id"], "beach")]["count"] == 1
    assert counts[(trips["_id"], "sea")]["count"] == 2

    # Bulk tag (one already has it) and untag.
    result = await bulk_action(ctx, admin, "tag", [a["_id"], b["_id"], c["_id"]], tags="boat")
    assert result["failed"] == []
    assert (await _stored(ctx))[(trips["_id"], "boat")]["count"] == 2
    assert (await _stored(ctx))[(home["_id"], "boat")]["count"] == 1
    await bulk_action(ctx, admin, "untag", [a["_id"], c["_id"], new_id()], tags=["Boat", "cat"])
    counts = await _stored(ctx)
    assert counts[(trips["_id"], "boat")]["count"] == 1
    assert (home["_id"], "boat") not in counts and (home["_id"], "cat") not in counts

    # Move, copy, delete (single and bulk).
    await move_media(ctx, admin, b["_id"], home["_id"])
    counts = await _stored(ctx)
    assert (trips["_id"], "boat") not in counts
    assert counts[(home["_id"], "boat")]["count"] == 1
    assert counts[(trips["_id"], "sea")]["count"] == 1 and counts[(home["_id"], "sea")]["count"] == 1
    copy = await copy_media(ctx, admin, a["_id"], home["_id"])
    assert (await _stored(ctx))[(home["_id"], "beach")]["count"] == 1
    await bulk_action(ctx, admin, "copy", [b["_id"]], album_id=trips["_id"])
    assert (await _stored(ctx))[(trips["_id"], "boat")]["count"] == 1
    await delete_media(ctx, admin, copy["_id"])
    assert (home["_id"], "beach") not in await _stored(ctx)
    await bulk_action(ctx, admin, "move", [a["_id"]], album_id=home["_id"])
    await _assert_equals_rebuild(ctx)
    await bulk_action(ctx, admin, "delete", [b["_id"]])
    await _assert_equals_rebuild(ctx)
    assert _cloud(await tag_cloud(ctx, admin)) == {"sea": 2, "beach": 1, "boat": 1}


async def test_processing_keywords_become_counted_tags(app, make_gallery, viewer_of, make_jpeg):
    ctx, admin, _, trips, _ = await _setup(make_gallery, viewer_of)
    media = await add_media_file(ctx, trips, make_jpeg(), "k.jpg")
    assert await tag_cloud(ctx, admin) == []
    assert await _store(ctx, media["_id"], {"state": "ready", **tag_fields(["Fjord", "Norway"])})
    assert _cloud(await tag_cloud(ctx, admin)) == {"fjord": 1, "norway": 1}  # no 60 s wait
    await _assert_equals_rebuild(ctx)


async def test_album_privacy_move_copy_and_delete_carry_the_counts(
    app, make_gallery, viewer_of, make_jpeg
):
    ctx, admin, root, trips, home = await _setup(make_gallery, viewer_of)
    inner = await albums.create_album(ctx, admin, trips["_id"], {"title": "Oslo"})
    await add_media_file(ctx, inner, make_jpeg(), "o.jpg", tags=["Opera", "Shared"])
    await add_media_file(ctx, home, make_jpeg(), "h.jpg", tags=["Shared"])
    assert _cloud(await tag_cloud(ctx, ANONYMOUS)) == {"opera": 1, "shared": 2}

    # Private album: its tags leave the visitor's cloud at once, counts and all.
    await apply_private(ctx, trips, True)
    assert _cloud(await tag_cloud(ctx, ANONYMOUS)) == {"shared": 1}
    assert await suggest_tags(ctx, ANONYMOUS, "op") == []
    assert _cloud(await tag_cloud(ctx, admin)) == {"opera": 1, "shared": 2}
    assert (await _stored(ctx))[(inner["_id"], "opera")]["private"] is True

    # A member whose role sees Home only; then Oslo moves below Home and is public again.
    role = await create_role(ctx, "Home viewers", ["view"], [home["_id"]])
    user = {"_id": new_id(), "username": "member", "role_ids": [role["_id"]], "status": "active"}
    await ctx.db.users.insert_one(user)
    member = await viewer_for(ctx, user, {"allow_anonymous_browsing": True})
    assert _cloud(await tag_cloud(ctx, member)) == {"shared": 1}
    await albums.move_album(ctx, admin, inner["_id"], home["_id"])
    moved = await albums.get_album(ctx, inner["_id"])
    assert _cloud(await tag_cloud(ctx, member)) == {"opera": 1, "shared": 2}
    assert (await _stored(ctx))[(inner["_id"], "opera")]["album_path"] == [
        root["_id"], home["_id"], inner["_id"],
    ]
    await apply_private(ctx, moved, False)
    assert _cloud(await tag_cloud(ctx, ANONYMOUS)) == {"opera": 1, "shared": 2}

    # Copying an album copies its counts; deleting one removes them with its media.
    copied = await album_copy.copy_album(ctx, admin, home["_id"], trips["_id"])
    assert _cloud(await tag_cloud(ctx, admin)) == {"opera": 2, "shared": 4}
    await _assert_equals_rebuild(ctx)
    await albums.delete_album(ctx, admin, copied["_id"])
    assert _cloud(await tag_cloud(ctx, admin)) == {"opera": 1, "shared": 2}
    await albums.delete_album(ctx, admin, home["_id"])
    assert await tag_cloud(ctx, admin) == [] and await _stored(ctx) == {}
    await _assert_equals_rebuild(ctx)


async def test_a_tag_only_in_a_private_album_never_reaches_a_visitor(
    app, make_gallery, viewer_of, make_jpeg
):
    ctx, admin, root, _, home = await _setup(make_gallery, viewer_of)
    secret = await albums.create_album(ctx, admin, root["_id"], {"title": "Secret"})
    await apply_private(ctx, secret, True)
    secret = await albums.get_album(ctx, secret["_id"])
    await add_media_file(ctx, secret, make_jpeg(), "s.jpg", tags=["<b>Hush</b>", "Common"])
    public = await add_media_file(ctx, home, make_jpeg(), "p.jpg", tags=["common"])
    # Moved into the private album, a public item's tags go private with it.
    await move_media(ctx, admin, public["_id"], secret["_id"])
    assert await tag_cloud(ctx, ANONYMOUS) == []
    await move_media(ctx, admin, public["_id"], home["_id"])
    assert _cloud(await tag_cloud(ctx, ANONYMOUS)) == {"common": 1}
    assert await suggest_tags(ctx, ANONYMOUS, "<b>") == []
    assert _cloud(await tag_cloud(ctx, admin)) == {"<b>hush</b>": 1, "common": 2}
    closed = Viewer(user=None, allow_anonymous=False)
    assert await tag_cloud(ctx, closed) == []


async def test_a_gallery_without_counts_builds_them_on_first_read(app, make_gallery, viewer_of):
    from gallery.library.media import media_document

    ctx, admin, _, trips, _ = await _setup(make_gallery, viewer_of)
    # Media written before tag counts existed (straight into the database).
    for tags in (["Old", "Tag"], ["old"]):
        doc = media_document(
            trips, file_name="x.jpg", kind="image", mime="image/jpeg", extension="jpg",
            original_path=None, tags=tags,
        )
        await ctx.db.media.insert_one(doc)
    await ctx.db.tag_counts.delete_many({})
    await ctx.db.meta.delete_one({"_id": "tag_counts"})
    assert _cloud(await tag_cloud(ctx, admin)) == {"old": 2, "tag": 1}
    assert await ctx.db.meta.find_one({"_id": "tag_counts"}) is not None


async def test_concurrent_uploads_and_imports_with_one_new_tag_all_count(
    app, make_gallery, viewer_of, make_jpeg
):
    import asyncio
    import hashlib

    from gallery.intake import ingest

    ctx, _, _, trips, _ = await _setup(make_gallery, viewer_of)
    user = await ctx.db.users.find_one({"username": "admin"})

    async def imported(i: int) -> dict:
        path = make_jpeg(name=f"in{i}.jpg")
        data = path.read_bytes()
        tmp = ctx.storage.temp_path()
        tmp.write_bytes(data)
        return await ingest.ingest_file(
            ctx, None, user, trips, tmp, f"in{i}.jpg", size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), tags="Crowd, Imported",
        )

    uploads = [add_media_file(ctx, trips, make_jpeg(), f"u{i}.jpg", tags=["crowd"]) for i in range(8)]
    await asyncio.gather(*uploads, *(imported(i) for i in range(4)))
    counts = await _assert_equals_rebuild(ctx)
    assert counts[(trips["_id"], "crowd")]["count"] == 12
    assert counts[(trips["_id"], "imported")]["count"] == 4


async def test_tags_that_look_like_paths_or_operators_are_plain_counts(
    app, make_gallery, viewer_of, make_jpeg
):
    import asyncio

    ctx, admin, _, trips, home = await _setup(make_gallery, viewer_of)
    hostile = ["$where", "a.b.c", "../x/y", '{"$gt": ""}', "tag/with/slashes", "ÉTÉ"]
    media = await add_media_file(ctx, trips, make_jpeg(), "h.jpg", tags=hostile)
    await move_media(ctx, admin, media["_id"], home["_id"])
    await update_media(ctx, admin, media["_id"], {"tags": [*hostile[:3], "été"]})
    assert _cloud(await tag_cloud(ctx, admin)) == {"$where": 1, "a.b.c": 1, "../x/y": 1, "été": 1}
    assert await suggest_tags(ctx, admin, "$") == ["$where"]
    assert await suggest_tags(ctx, admin, ".*") == []
    await _assert_equals_rebuild(ctx)
    # Two first clouds at once on a database without counts build them once, correctly.
    await ctx.db.meta.delete_one({"_id": "tag_counts"})
    clouds = await asyncio.gather(*(tag_cloud(ctx, admin) for _ in range(3)))
    assert all(_cloud(c) == _cloud(clouds[0]) for c in clouds) and len(clouds[0]) == 4
