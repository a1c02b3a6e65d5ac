"""Search over words, tags and metadata; tag cloud and suggestions; recent media — always
through the viewer's permissions, and always as plain text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gallery.errors import Invalid
from gallery.ids import new_id
from gallery.library import albums
from gallery.library.media import copy_media, media_document, update_media
from gallery.library.privacy import apply_private
from gallery.library.search import (
    keys_after_update,
    recent_media,
    reindex,
    search_keys,
    search_media,
    suggest_tags,
    tag_cloud,
)
from gallery.people.permissions import Viewer, viewer_for
from gallery.people.roles import create_role

SETTINGS = {"allow_anonymous_browsing": True, "allow_anonymous_original": False}
_clock = [datetime(2024, 1, 1, tzinfo=UTC)]


async def _media(ctx, album, file_name="photo.jpg", **fields) -> dict:
    doc = media_document(
        album,
        file_name=file_name,
        kind="image",
        mime="image/jpeg",
        extension="jpg",
        original_path=None,
        title=fields.pop("title", ""),
        caption=fields.pop("caption", ""),
        tags=fields.pop("tags", ()),
    )
    _clock[0] += timedelta(seconds=1)
    doc["date_added"] = _clock[0]
    if "metadata" in fields:
        doc["metadata"] = fields.pop("metadata")
        doc.update(await keys_after_update(ctx, doc["_id"], doc))
    await ctx.db.media.insert_one(doc)
    return doc


async def _setup(make_gallery, viewer_of, slug="alpha"):
    g = await make_gallery(slug)
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    public = await albums.create_album(ctx, admin, root["_id"], {"title": "Public"})
    secret = await albums.create_album(ctx, admin, root["_id"], {"title": "Secret"})
    await apply_private(ctx, secret, True)
    secret = await albums.get_album(ctx, secret["_id"])
    return ctx, admin, public, secret


def test_keys_are_folded_words_with_prefixes_and_metadata_values():
    keys = search_keys(
        {
            "title": "Rosé Garden",
            "file_name": "IMG_0042.JPG",
            "tags": ["Été"],
            "metadata": {"camera": {"model": "Canon EOS R5", "lens": "RF 24-70mm"}},
        }
    )
    for key in ("rose", "ros", "garden", "img", "0042", "ete", "canon", "eos", "r5", "70mm"):
        assert key in keys, key
    assert "Rosé" not in keys and "img_0042" not in keys


async def test_multi_word_search_ands_the_words_across_fields(app, make_gallery, viewer_of):
    ctx, admin, public, _ = await _setup(make_gallery, viewer_of)
    both = await _media(ctx, public, "sunset.jpg", title="Red rose", tags=["Garden"])
    only_red = await _media(ctx, public, "car.jpg", title="Red car")
    camera = await _media(
        ctx, public, "x.jpg", metadata={"camera": {"model": "Nikon Z6"}, "keywords": ["Ölberg"]}
    )
    ids = lambda found: [m["_id"] for m in found["items"]]
    assert ids(await search_media(ctx, admin, "red")) == [only_red["_id"], both["_id"]]
    assert ids(await search_media(ctx, admin, "RED garden")) == [both["_id"]]
    assert ids(await search_media(ctx, admin, "ros")) == [both["_id"]]  # a prefix
    assert ids(await search_media(ctx, admin, "sunset")) == [both["_id"]]  # the file name
    assert ids(await search_media(ctx, admin, "nikon z6")) == [camera["_id"]]
    assert ids(await search_media(ctx, admin, "olberg")) == [camera["_id"]]  # accents folded
    assert ids(await search_media(ctx, admin, "red blue")) == []


async def test_edits_and_copies_keep_the_keys_current(app, make_gallery, viewer_of):
    ctx, admin, public, _ = await _setup(make_gallery, viewer_of)
    doc = await _media(ctx, public, "plain.jpg", title="Before")
    await update_media(ctx, admin, doc["_id"], {"title": "Aurora", "tags": ["Iceland"]})
    assert [m["_id"] for m in (await search_media(ctx, admin, "aurora iceland"))["items"]] == [
        doc["_id"]
    ]
    assert (await search_media(ctx, admin, "before"))["items"] == []
    await ctx.db.media.update_one({"_id": doc["_id"]}, {"$unset": {"search_keys": ""}})
    assert await reindex(ctx) >= 1
    copy = await copy_media(ctx, admin, doc["_id"], public["_id"])
    found = {m["_id"] for m in (await search_media(ctx, admin, "aurora"))["items"]}
    assert found == {doc["_id"], copy["_id"]}


async def test_results_never_come_from_albums_the_viewer_cannot_see(app, make_gallery, viewer_of):
    ctx, admin, public, secret = await _setup(make_gallery, viewer_of)
    seen = await _media(ctx, public, title="Holiday beach")
    hidden = await _media(ctx, secret, title="Holiday secret", tags=["hush"])
    visitor = Viewer(user=None, allow_anonymous=True)
    assert [m["_id"] for m in (await search_media(ctx, visitor, "holiday"))["items"]] == [
        seen["_id"]
    ]
    assert (await search_media(ctx, visitor, "secret"))["items"] == []
    assert "hush" not in {t["tag"] for t in await tag_cloud(ctx, visitor)}
    assert hidden["_id"] not in {m["_id"] for m in await recent_media(ctx, visitor)}
    closed = Viewer(user=None, allow_anonymous=False)
    assert (await search_media(ctx, closed, "holiday"))["items"] == []
    assert await recent_media(ctx, closed) == [] and await tag_cloud(ctx, closed) == []

    role = await create_role(ctx, "Secret viewers", ["view"], [secret["_id"]])
    user = {"_id": new_id(), "username": "member", "role_ids": [role["_id"]], "status": "active"}
    await ctx.db.users.insert_one(user)
    member = await viewer_for(ctx, user, SETTINGS)
    assert [m["_id"] for m in (await search_media(ctx, member, "holiday"))["items"]] == [
        hidden["_id"]
    ]
    assert [m["_id"] for m in (await search_media(ctx, admin, "holiday"))["items"]] == [
        hidden["_id"],
        seen["_id"],
    ]


@pytest.mark.parametrize(
    "query", [".*", "$where", '{"$gt": ""}', "'; return true", "^(a+)+$", "\\"]
)
async def test_regex_and_operators_are_plain_text(app, make_gallery, viewer_of, query):
    ctx, admin, public, _ = await _setup(make_gallery, viewer_of)
    await _media(ctx, public, title="Nothing special")
    literal = await _media(ctx, public, title="where gt true")
    found = (await search_media(ctx, admin, query))["items"]
    # Operators and regex syntax are words like any other: every word must match, so they find
    # the item whose title holds them ("where", "gt") and nothing else ("return" is in no title);
    # pure punctuation finds nothing.
    words = {".*": [], "$where": [literal["_id"]], '{"$gt": ""}': [literal["_id"]],
             "'; return true": [], "^(a+)+$": [], "\\": []}
    assert [m["_id"] for m in found] == words[query]


async def test_paging_by_cursor_and_bad_cursors(app, make_gallery, viewer_of):
    ctx, admin, public, _ = await _setup(make_gallery, viewer_of)
    made = [await _media(ctx, public, title=f"Lake {i}") for i in range(5)]
    first = await search_media(ctx, admin, "lake", limit=2)
    second = await search_media(ctx, admin, "lake", limit=2, cursor=first["next_cursor"])
    third = await search_media(ctx, admin, "lake", limit=2, cursor=second["next_cursor"])
    got = [m["_id"] for page in (first, second, third) for m in page["items"]]
    assert got == [m["_id"] for m in reversed(made)] and third["next_cursor"] is None
    # The first page says how many match; later pages do not count again.
    assert (first["total"], first["total_capped"]) == (5, False)
    assert second["total"] is None and third["total"] is None
    for bad in ("zz", "eyJ4IjoxfQ", "W10"):
        with pytest.raises(Invalid):
            await search_media(ctx, admin, "lake", cursor=bad)
    for limit in (0, -5, 10**9):
        with pytest.raises(Invalid):
            await search_media(ctx, admin, "lake", limit=limit)


async def test_tag_cloud_counts_and_suggestions(app, make_gallery, viewer_of):
    ctx, admin, public, _ = await _setup(make_gallery, viewer_of)
    await _media(ctx, public, tags=["Beach", "Sun"])
    await _media(ctx, public, tags=["beach", "<script>alert(1)</script>"])
    await _media(ctx, public, tags=["Bergen"])
    cloud = await tag_cloud(ctx, admin)
    # Tags that differ only in case are one tag, shown as first written.
    assert cloud[0] == {"tag": "Beach", "count": 2}
    assert {t["tag"] for t in cloud[1:]} == {"Sun", "<script>alert(1)</script>", "Bergen"}
    assert [t.casefold() for t in await suggest_tags(ctx, admin, "BE")] == ["beach", "bergen"]
    assert await suggest_tags(ctx, admin, "zz") == []
    assert await suggest_tags(ctx, admin, ".*") == []


async def test_metadata_read_by_processing_becomes_searchable(app, make_gallery, viewer_of):
    from gallery.processing.process import _store

    ctx, admin, public, _ = await _setup(make_gallery, viewer_of)
    doc = await _media(ctx, public, "dsc.jpg", title="Untitled")
    update = {"state": "ready", "metadata": {"camera": {"make": "FUJIFILM", "model": "X-T4"}}}
    assert await _store(ctx, doc["_id"], update)
    found = await search_media(ctx, admin, "fujifilm untitled")
    assert [m["_id"] for m in found["items"]] == [doc["_id"]]
    assert "search_keys" not in found["items"][0]  # not sent to clients


async def test_result_counts_stop_at_the_cap_and_follow_permissions(
    app, make_gallery, viewer_of, monkeypatch
):
    import gallery.library.search

    ctx, admin, public, secret = await _setup(make_gallery, viewer_of)
    for i in range(4):
        await _media(ctx, public, title=f"Pier {i}")
    await _media(ctx, secret, title="Pier hidden")
    anonymous = Viewer(user=None, allow_anonymous=True)
    assert (await search_media(ctx, admin, "pier", limit=2))["total"] == 5
    seen = await search_media(ctx, anonymous, "pier", limit=2)
    assert (seen["total"], seen["total_capped"]) == (4, False)
    monkeypatch.setattr(gallery.library.search, "COUNT_CAP", 3)
    capped = await search_media(ctx, admin, "pier", limit=2)
    assert capped["total_capped"] is True and capped["total"] > 3
