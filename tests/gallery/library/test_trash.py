"""The trash on real documents and files: what goes in leaves every collection the gallery
reads and its files leave originals/, a restore puts both back where they were (making
the album path again when it is gone), the usage counts it until it is emptied, and
restoring and emptying never both happen."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gallery.errors import GalleryError, NotFound
from gallery.library import albums, trash, trash_restore, trash_upkeep
from gallery.library.media import add_media_file, get_media
from gallery.library.search import search_media
from gallery.settings import update_settings
from gallery.usage import current_usage


async def _setup(make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    trips = await albums.create_album(ctx, admin, root["_id"], {"title": "Trips"})
    beach = await albums.create_album(ctx, admin, trips["_id"], {"title": "Beach"})
    one = await add_media_file(ctx, trips, make_jpeg(), "one.jpg", tags=["sun"], title="Sunrise one")
    two = await add_media_file(ctx, beach, make_jpeg(), "two.jpg", tags=["sea"])
    return ctx, admin, trips, beach, one, two


async def test_a_trashed_media_object_leaves_every_read_and_comes_back(make_gallery, viewer_of, make_jpeg):
    ctx, admin, trips, _, one, _ = await _setup(make_gallery, viewer_of, make_jpeg)
    used = await current_usage(ctx)
    file = ctx.storage.resolve(one["original"]["path"])
    result = await trash.delete_media(ctx, admin, one["_id"])
    assert result["trashed"]
    with pytest.raises(NotFound):
        await get_media(ctx, one["_id"])
    assert not file.exists()  # out of originals/: a synchronization does not bring it back
    assert await ctx.db.tag_counts.count_documents({"tag_key": "sun", "count": {"$gt": 0}}) == 0
    assert (await search_media(ctx, admin, "Sunrise"))["items"] == []
    assert await current_usage(ctx) == used  # the quota counts it until it is emptied
    entries, total = await trash.list_trash(ctx, admin)
    assert total == 1 and entries[0]["trashed"]["by_name"] == "admin"
    assert entries[0]["trashed"]["album_title"] == "Trips"

    back = await trash_restore.restore(ctx, admin, entries[0]["_id"])
    assert back == {"album_id": trips["_id"], "media_id": one["_id"]}
    again = await get_media(ctx, one["_id"])
    assert ctx.storage.resolve(again["original"]["path"]).read_bytes() == file.parent.joinpath(
        again["original"]["path"].rsplit("/", 1)[-1]).read_bytes()
    assert (await search_media(ctx, admin, "Sunrise"))["items"][0]["_id"] == one["_id"]
    assert await ctx.db.trash.count_documents({}) == 0
    assert await ctx.db.trash_docs.count_documents({}) == 0


async def test_an_album_goes_with_its_subtree_and_returns_whole(make_gallery, viewer_of, make_jpeg):
    ctx, admin, trips, beach, one, two = await _setup(make_gallery, viewer_of, make_jpeg)
    root = await albums.root_album(ctx)
    await albums.update_album(ctx, admin, root["_id"], {"cover_id": two["_id"]})
    result = await trash.delete_album(ctx, admin, trips["_id"])
    assert (result["albums"], result["media"], result["trashed"]) == (2, 2, True)
    assert await ctx.db.albums.count_documents({"_id": {"$in": [trips["_id"], beach["_id"]]}}) == 0
    assert await ctx.db.media.count_documents({}) == 0
    assert (await albums.root_album(ctx))["cover_id"] is None
    assert not (ctx.storage.originals / "Trips").exists()
    # Something else may take the name meanwhile: the restore picks a free one.
    await albums.create_album(ctx, admin, root["_id"], {"title": "Trips"})
    (entry,), _ = await trash.list_trash(ctx, admin)
    assert entry["kind"] == "album" and entry["media_count"] == 2
    await trash_restore.restore(ctx, admin, entry["_id"])
    back = await albums.get_album(ctx, trips["_id"])
    assert back["dirpath"] != "Trips" and back["parent_id"] == root["_id"]
    inner = await albums.get_album(ctx, beach["_id"])
    assert inner["dirpath"] == back["dirpath"] + "/Beach" and inner["ancestors"] == [root["_id"], trips["_id"]]
    for m in (one, two):
        restored = await get_media(ctx, m["_id"])
        assert ctx.storage.resolve(restored["original"]["path"]).is_file()
    assert await ctx.db.tag_counts.count_documents({"tag_key": "sea", "count": {"$gt": 0}}) >= 1


async def test_a_media_object_whose_album_is_gone_gets_the_album_path_made_again(make_gallery, viewer_of, make_jpeg):
    ctx, admin, trips, beach, _, two = await _setup(make_gallery, viewer_of, make_jpeg)
    await trash.delete_media(ctx, admin, two["_id"])
    await update_settings(ctx, {"trash_days": 0})
    await trash.delete_album(ctx, admin, trips["_id"])  # for good: Trips and Beach are gone
    await update_settings(ctx, {"trash_days": 30})
    (entry,), _ = await trash.list_trash(ctx, admin)
    back = await trash_restore.restore(ctx, admin, entry["_id"])
    assert back["album_id"] == beach["_id"]
    made = await albums.get_album(ctx, beach["_id"])
    assert made["title"] == "Beach" and made["ancestors"][-1] == trips["_id"]
    assert (await albums.get_album(ctx, trips["_id"]))["title"] == "Trips"
    restored = await get_media(ctx, two["_id"])
    assert restored["album_path"][-2:] == [trips["_id"], beach["_id"]]
    assert ctx.storage.resolve(restored["original"]["path"]).is_file()


async def test_emptying_takes_files_and_usage_once_and_only_when_due(make_gallery, viewer_of, make_jpeg):
    ctx, admin, trips, _, one, two = await _setup(make_gallery, viewer_of, make_jpeg)
    used = await current_usage(ctx)
    await trash.delete_album(ctx, admin, trips["_id"])
    assert await trash_upkeep.empty_due(ctx) == 0  # not due for 30 days
    later = datetime.now(UTC) + timedelta(days=31)
    assert await trash_upkeep.empty_due(ctx, later) == 1
    assert await trash_upkeep.empty_due(ctx, later) == 0  # a second run deletes nothing twice
    assert await current_usage(ctx) == used - one["original"]["size"] - two["original"]["size"]
    assert not list((ctx.storage.path / "trash").iterdir())
    assert not (ctx.storage.derivatives / one["_id"]).exists()
    assert await ctx.db.trash_docs.count_documents({}) == 0


async def test_members_see_and_restore_only_what_they_deleted(make_gallery, viewer_of, make_jpeg):
    ctx, admin, _, _, one, _ = await _setup(make_gallery, viewer_of, make_jpeg)
    await trash.delete_media(ctx, admin, one["_id"])
    member = await viewer_of(ctx, None)
    assert await trash.list_trash(ctx, member) == ([], 0)
    (entry,), _ = await trash.list_trash(ctx, admin)
    with pytest.raises(NotFound):
        await trash_restore.restore(ctx, member, entry["_id"])
    with pytest.raises(NotFound):
        await trash.purge(ctx, member, entry["_id"])
    with pytest.raises(NotFound):
        await trash_restore.restore(ctx, admin, "../../etc")


async def test_restore_and_delete_for_good_racing_never_both_happen(make_gallery, viewer_of, make_jpeg):
    ctx, admin, _, _, one, _ = await _setup(make_gallery, viewer_of, make_jpeg)
    for _ in range(3):
        await trash.delete_media(ctx, admin, one["_id"])
        (entry,), _ = await trash.list_trash(ctx, admin)
        outcomes = await asyncio.gather(
            trash_restore.restore(ctx, admin, entry["_id"]), trash.purge(ctx, admin, entry["_id"]),
            trash_restore.restore(ctx, admin, entry["_id"]), return_exceptions=True)
        wins = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(wins) == 1, outcomes
        restored = await ctx.db.media.find_one({"_id": one["_id"]})
        if restored is None:  # deleted for good: nothing left anywhere
            assert await ctx.db.trash.count_documents({}) == 0
            return
        assert ctx.storage.resolve(restored["original"]["path"]).is_file()


async def test_an_item_restored_before_its_trashed_album_then_the_album_merges_in(make_gallery, viewer_of, make_jpeg):
    ctx, admin, trips, beach, one, two = await _setup(make_gallery, viewer_of, make_jpeg)
    await trash.delete_media(ctx, admin, two["_id"])
    await trash.delete_album(ctx, admin, trips["_id"])
    item = await ctx.db.trash.find_one({"kind": "media"})
    await trash_restore.restore(ctx, admin, item["_id"])  # Trips and Beach made again, empty
    remade = await albums.get_album(ctx, beach["_id"])
    assert remade["dirpath"] == "Trips/Beach"
    album = await ctx.db.trash.find_one({"kind": "album"})
    await trash_restore.restore(ctx, admin, album["_id"])
    for m in (one, two):
        doc = await get_media(ctx, m["_id"])
        assert ctx.storage.resolve(doc["original"]["path"]).is_file(), doc["original"]["path"]
    assert (await albums.get_album(ctx, trips["_id"]))["dirpath"] == "Trips"
    assert await ctx.db.albums.count_documents({"title": {"$in": ["Trips", "Beach"]}}) == 2
    assert not any((ctx.storage.path / "trash").iterdir())


async def test_two_deletes_of_one_item_trash_it_once(make_gallery, viewer_of, make_jpeg):
    ctx, admin, _, _, one, _ = await _setup(make_gallery, viewer_of, make_jpeg)
    # What a delete killed before writing its entry left (an hour ago) is no obstacle.
    await ctx.db.trash_docs.insert_one({"_id": one["_id"], "entry_id": "0" * 24, "coll": "media",
                                        "doc": one, "at": datetime.now(UTC) - timedelta(hours=1)})
    outcomes = await asyncio.gather(*(trash.delete_media(ctx, admin, one["_id"]) for _ in range(3)),
                                    return_exceptions=True)
    assert sum(1 for o in outcomes if isinstance(o, dict)) == 1, outcomes
    assert all(isinstance(o, (dict, GalleryError)) for o in outcomes), outcomes
    assert await ctx.db.trash.count_documents({}) == 1
    assert await ctx.db.trash_docs.count_documents({}) == 1


async def test_a_restore_left_halfway_is_finished_by_the_job_once_stale(make_gallery, viewer_of, make_jpeg):
    ctx, admin, trips, _, one, two = await _setup(make_gallery, viewer_of, make_jpeg)
    await trash.delete_album(ctx, admin, trips["_id"])
    entry = await ctx.db.trash.find_one({})
    # As a killed restore leaves it: claimed, not finished.
    await ctx.db.trash.update_one({"_id": entry["_id"]}, {"$set": {"state": "restoring"}})
    assert await trash_upkeep.finish_stale(ctx) == 0  # maybe still running somewhere: wait
    assert await ctx.db.media.count_documents({}) == 0
    later = datetime.now(UTC) + trash.STALE + timedelta(seconds=1)
    assert await trash_upkeep.finish_stale(ctx, later) == 1
    for m in (one, two):
        doc = await get_media(ctx, m["_id"])
        assert ctx.storage.resolve(doc["original"]["path"]).is_file()
    assert await ctx.db.trash.count_documents({}) == 0
