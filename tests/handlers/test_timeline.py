"""Issue 17, item 15: the timeline — everything the viewer may see by date taken, grouped by
month, paged by cursor, with a scrubber of months that jumps; never an item of an album the
viewer may not see, and clear errors for bad cursors and months."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from gallery.library import albums, timeline
from gallery.library.media import add_media_file
from gallery.library.privacy import apply_private
from gallery.people.roles import create_role
from gallery.people.users import create_user
from media.dates import taken_key
from tests.client import text

PASSWORD = "Quiet-Lantern-Harbour-42"


async def _world(app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    open_album = await albums.create_album(ctx, admin, root["_id"], {"title": "Open"})
    hidden = await albums.create_album(ctx, admin, root["_id"], {"title": "Hidden"})
    await apply_private(ctx, hidden, True)
    dates = [datetime(2024, 5, d, 12, tzinfo=UTC) for d in (3, 3, 3, 20)]  # ties on purpose
    dates += [datetime(2023, 12, 31, 23, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC), None]
    visible = []
    for i, when in enumerate(dates):
        doc = await add_media_file(ctx, open_album, make_jpeg(30, 20), f"moment-{i}.jpg")
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", "date_taken": when, "taken_key": taken_key(when)}})
        visible.append((when, doc["_id"]))
    secret = await add_media_file(ctx, hidden, make_jpeg(30, 20), "secret.jpg")
    await ctx.db.media.update_one({"_id": secret["_id"]}, {"$set": {
        "state": "ready", "date_taken": datetime(2024, 5, 10, tzinfo=UTC),
        "taken_key": taken_key(datetime(2024, 5, 10, tzinfo=UTC))}})
    # Newest first by (date, id); the undated last.
    order = [i for _, i in sorted((v for v in visible if v[0]), key=lambda v: (v[0], v[1]), reverse=True)]
    order += [i for w, i in visible if w is None]
    return g, order, secret["_id"]


async def test_the_timeline_pages_every_visible_item_once_in_date_order(
    app, make_gallery, viewer_of, make_jpeg
):
    g, order, secret = await _world(app, make_gallery, viewer_of, make_jpeg)
    visitor = app.browser()
    seen, url = [], f"{g['prefix']}/api/v1/timeline?limit=2"
    while url:
        answer = json.loads((await visitor.get(url)).body)
        seen += [m["id"] for m in answer["items"]]
        cursor = answer["next_cursor"]
        url = f"{g['prefix']}/api/v1/timeline?limit=2&cursor={cursor}" if cursor else None
    assert seen == order and secret not in seen

    months = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline/months")).body)["months"]
    assert months == [{"month": "2024-05", "count": 4}, {"month": "2023-12", "count": 1},
                      {"month": "2021-01", "count": 1}, {"month": None, "count": 1}]
    admin = app.browser()
    await admin.login(g["prefix"], "admin", g["password"])
    months = json.loads((await admin.get(f"{g['prefix']}/api/v1/timeline/months")).body)["months"]
    assert months[0] == {"month": "2024-05", "count": 5}  # the admin sees the hidden one too

    # A jump to a month starts at its end.
    jumped = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline?month=2023-12")).body)
    assert [m["id"] for m in jumped["items"]] == order[4:]

    page = text(await visitor.get(f"{g['prefix']}/timeline"))
    headings = re.findall(r'<li class="timeline-month" data-month="([^"]*)"><h2>([^<]+)</h2>', page)
    assert headings == [("2024-05", "May 2024"), ("2023-12", "December 2023"),
                        ("2021-01", "January 2021"), ("", "No date")]
    assert secret not in page and "Hidden" not in page
    assert f'href="{g["prefix"]}/timeline?month=2023-12"' in page  # the scrubber

    # Pages and answers are kept in the page cache until a write: the next request shows it.
    newest = datetime(2025, 1, 1, tzinfo=UTC)
    await g["ctx"].db.media.update_one({"_id": order[-1]}, {"$set": {
        "date_taken": newest, "taken_key": taken_key(newest)}})
    first = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline?limit=2")).body)
    assert [m["id"] for m in first["items"]] == [order[-1], order[0]]
    page = text(await visitor.get(f"{g['prefix']}/timeline"))
    assert "January 2025" in page and page.index(order[-1]) < page.index(order[0])


async def test_bad_cursors_and_months_are_clear_errors(app, make_gallery):
    g = await make_gallery("alpha")
    visitor = app.browser()
    for query, field in (("month=2024-13", "month"), ("month=24-01", "month"),
                         ("month=2024-1x", "month"), ("cursor=not-a-cursor", "cursor"),
                         ("cursor=" + "A" * 3000, "cursor"), ("limit=0", "limit")):
        answer = await visitor.get(f"{g['prefix']}/api/v1/timeline?{query}")
        assert answer.code == 400, (query, answer.body)
        assert field in json.loads(answer.body)["error"].get("fields", {}), answer.body
    # The page falls back to the newest for a bad jump, and shows it is empty here.
    page = await visitor.get(f"{g['prefix']}/timeline?month=9999-99")
    assert page.code == 200 and "Nothing to show yet" in text(page)


async def test_a_member_who_sees_some_albums_pages_them_by_album_or_in_one_range_alike(
    app, make_gallery, viewer_of, make_jpeg, monkeypatch
):
    g, _order, secret = await _world(app, make_gallery, viewer_of, make_jpeg)
    ctx = g["ctx"]
    open_album = await ctx.db.albums.find_one({"title": "Open"})
    inner = await albums.create_album(ctx, await viewer_of(ctx), open_album["_id"], {"title": "Inner"})
    doc = await add_media_file(ctx, inner, make_jpeg(30, 20), "inner.jpg")
    tie = datetime(2024, 5, 3, 12, tzinfo=UTC)  # ties with three items of the parent album
    await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
        "state": "ready", "date_taken": tie, "taken_key": taken_key(tie)}})
    role = await create_role(ctx, "Open only", ["view"], [open_album["_id"]])
    await create_user(ctx, "friend", "friend@alpha.test", PASSWORD, role_ids=[role["_id"]])
    member = app.browser()
    await member.login(g["prefix"], "friend", PASSWORD)
    stored = await ctx.db.media.find({"album_path": {"$in": [open_album["_id"]]}}).to_list()
    dated = sorted(((d["date_taken"], d["_id"]) for d in stored if d["date_taken"]), reverse=True)
    expected = [i for _, i in dated] + [d["_id"] for d in stored if not d["date_taken"]]
    assert len(expected) == 8

    # Two albums: read one by one and merged; with the limit at 0, as one filtered range.
    for most in (timeline.PER_ALBUM_MAX, 0):
        monkeypatch.setattr(timeline, "PER_ALBUM_MAX", most)
        seen, url = [], f"{g['prefix']}/api/v1/timeline?limit=3"
        while url:
            answer = json.loads((await member.get(url)).body)
            seen += [m["id"] for m in answer["items"]]
            cursor = answer["next_cursor"]
            url = f"{g['prefix']}/api/v1/timeline?limit=3&cursor={cursor}" if cursor else None
        assert seen == expected and secret not in seen, most
        jumped = json.loads((await member.get(f"{g['prefix']}/api/v1/timeline?month=2023-12")).body)
        assert [m["id"] for m in jumped["items"]] == expected[5:], most
    months = json.loads((await member.get(f"{g['prefix']}/api/v1/timeline/months")).body)["months"]
    assert months[0] == {"month": "2024-05", "count": 5}


def _cursor_of(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_hostile_cursors_are_400_on_the_api_and_the_page(app, make_gallery):
    g = await make_gallery("alpha")
    visitor = app.browser()
    hostile = [
        _cursor_of(b"[" * 1400),  # deep enough to stop the JSON decoder
        _cursor_of(b"[" * 300),
        _cursor_of(b'["taken_key", -1, 5, "6b0f156f23668b095d6fbe18"]'),  # not a key
        _cursor_of(b'["taken_key", -1, {"$d": "2020-01-01T00:00:00"}, "6b0f156f23668b095d6fbe18"]'),
        _cursor_of(b'["taken_key", -1, {"$gt": ""}, "6b0f156f23668b095d6fbe18"]'),
        _cursor_of(b'["taken_key", -1, "x2020", "6b0f156f23668b095d6fbe18"]'),  # not a key's text
        _cursor_of(b'["taken_key", -1, "t2020", {"$ne": null}]'),
        _cursor_of(b'["position", 1, 3, "6b0f156f23668b095d6fbe18"]'),  # an album's cursor
        _cursor_of(b"\xff\xfe\x00"),
        _cursor_of(b'{"a": 1, "b": 2, "c": 3, "d": 4}'),
        "====", "A" * 600,
    ]
    for cursor in hostile:
        answer = await visitor.get(f"{g['prefix']}/api/v1/timeline?cursor={cursor}")
        assert answer.code == 400, (cursor[:40], answer.code, answer.body[:200])
        assert "cursor" in json.loads(answer.body)["error"].get("fields", {})
        page = await visitor.get(f"{g['prefix']}/timeline?cursor={cursor}")
        assert page.code == 400, (cursor[:40], page.code)
    # Not UTF-8 at all: Tornado refuses the argument itself.
    assert (await visitor.get(f"{g['prefix']}/api/v1/timeline?cursor=%FF")).code == 400


async def test_a_cursor_holds_across_writes(app, make_gallery, viewer_of, make_jpeg):
    """A visitor scrolling while items are added, re-dated and deleted above and below the
    cursor sees no item twice, and every item still there below it once."""
    g, order, secret = await _world(app, make_gallery, viewer_of, make_jpeg)
    ctx = g["ctx"]
    visitor = app.browser()
    first = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline?limit=3")).body)
    assert [m["id"] for m in first["items"]] == order[:3]
    open_album = await ctx.db.albums.find_one({"title": "Open"})
    newer = await add_media_file(ctx, open_album, make_jpeg(30, 20), "newer.jpg")
    when = datetime(2030, 1, 1, tzinfo=UTC)
    await ctx.db.media.update_one({"_id": newer["_id"]}, {"$set": {
        "state": "ready", "date_taken": when, "taken_key": taken_key(when)}})
    await ctx.db.media.delete_one({"_id": order[1]})  # above the cursor: changes nothing below
    await ctx.db.media.delete_one({"_id": order[4]})  # below it: simply gone
    seen, cursor = [], first["next_cursor"]
    while cursor:
        answer = json.loads((await visitor.get(
            f"{g['prefix']}/api/v1/timeline?limit=2&cursor={cursor}")).body)
        seen += [m["id"] for m in answer["items"]]
        cursor = answer["next_cursor"]
    assert seen == [i for i in order[3:] if i != order[4]]
    assert newer["_id"] not in seen and secret not in seen
    # The next first page shows the new item at the top.
    again = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline?limit=3")).body)
    assert [m["id"] for m in again["items"]] == [newer["_id"], order[0], order[2]]


async def test_months_are_cut_at_utc_midnight_of_the_first(app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Edges"})
    edges = [datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC),
             datetime(2023, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
             datetime(2023, 12, 1, 0, 0, 0, tzinfo=UTC),
             datetime(2023, 11, 30, 23, 59, 59, tzinfo=UTC)]
    ids = []
    for i, when in enumerate(edges):
        doc = await add_media_file(ctx, album, make_jpeg(30, 20), f"edge-{i}.jpg")
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", "date_taken": when, "taken_key": taken_key(when)}})
        ids.append(doc["_id"])
    visitor = app.browser()
    months = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline/months")).body)["months"]
    assert months == [{"month": "2024-01", "count": 1}, {"month": "2023-12", "count": 2},
                      {"month": "2023-11", "count": 1}]
    for month, expected in (("2024-01", ids), ("2023-12", ids[1:]), ("2023-11", ids[3:]),
                            ("2023-10", []), ("2024-02", ids)):
        jumped = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline?month={month}")).body)
        assert [m["id"] for m in jumped["items"]] == expected, month


async def test_a_member_of_several_albums_meets_ties_across_them_in_order(
    app, make_gallery, viewer_of, make_jpeg, monkeypatch
):
    """Album by album, each read only down to the last key of a page found so far: items of
    one instant spread over three albums come out in (key, id) order, as from one range."""
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    hidden = await albums.create_album(ctx, admin, root["_id"], {"title": "Hidden"})
    await apply_private(ctx, hidden, True)
    parts = [await albums.create_album(ctx, admin, hidden["_id"], {"title": f"Part {n}"}) for n in range(3)]
    other = await albums.create_album(ctx, admin, root["_id"], {"title": "Other"})
    tie = datetime(2022, 6, 1, 12, tzinfo=UTC)
    days = [tie, datetime(2022, 7, 1, tzinfo=UTC), tie, datetime(2021, 1, 1, tzinfo=UTC), None]
    for n, album in enumerate([*parts, other]):
        for i, when in enumerate(days[n % 2:] + [tie]):
            doc = await add_media_file(ctx, album, make_jpeg(30, 20), f"p{n}-{i}.jpg")
            await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
                "state": "ready", "date_taken": when, "taken_key": taken_key(when)}})
    role = await create_role(ctx, "Parts", ["view"], [hidden["_id"]])
    await create_user(ctx, "friend", "friend@alpha.test", PASSWORD, role_ids=[role["_id"]])
    member = app.browser()
    await member.login(g["prefix"], "friend", PASSWORD)
    stored = await ctx.db.media.find({"album_id": {"$in": [p["_id"] for p in parts]}}).to_list()
    expected = [d["_id"] for d in sorted(stored, key=lambda d: (d["taken_key"], d["_id"]), reverse=True)]
    assert len(expected) == 17
    for most, limit in ((timeline.PER_ALBUM_MAX, 2), (timeline.PER_ALBUM_MAX, 4), (0, 4)):
        monkeypatch.setattr(timeline, "PER_ALBUM_MAX", most)
        seen, url = [], f"{g['prefix']}/api/v1/timeline?limit={limit}"
        while url:
            answer = json.loads((await member.get(url)).body)
            seen += [m["id"] for m in answer["items"]]
            cursor = answer["next_cursor"]
            url = f"{g['prefix']}/api/v1/timeline?limit={limit}&cursor={cursor}" if cursor else None
        assert seen == expected, (most, limit)


async def test_tiles_and_api_items_are_those_of_the_album_for_every_kind_of_item(
    app, make_gallery, viewer_of, make_jpeg
):
    """The timeline reads only some fields of each item (gallery.library.timeline
    TILE_FIELDS for the page, all but the search fields for the API): its tiles and API items
    are the album page's and the album API's, for videos, documents with and without a
    first-page picture, failed and pending items, captions and titles."""
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Kinds"})
    thumb = {"path": "t.jpg", "width": 40, "height": 90, "mime": "image/jpeg", "size": 3}
    shapes = [
        {"kind": "video", "duration": 75.5, "derivatives": {"thumbnail": thumb, "web": {"path": "w.mp4"}}},
        {"kind": "document", "extension": "pdf", "derivatives": {"thumbnail": thumb, "optimized": {"path": "o.jpg"}}},
        {"kind": "document", "extension": "docx", "derivatives": {"thumbnail": {**thumb, "icon": True}, "optimized": {"path": "o.jpg"}}},
        {"state": "failed", "failure": "broken", "derivatives": {}},
        {"state": "pending", "derivatives": {}},
        {"title": "  Harbour <at> dawn ", "caption": "A \"quiet\" <b>sea</b>", "width": 300, "height": 100,
         "derivatives": {"thumbnail": thumb}},
        {"kind": "audio", "duration": 5, "derivatives": {}},
    ]
    ids = []
    for i, shape in enumerate(shapes):
        doc = await add_media_file(ctx, album, make_jpeg(30, 20), f"kind-{i}.jpg")
        when = datetime(2022, 3, 1 + i, tzinfo=UTC)
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", **shape, "date_taken": when, "taken_key": taken_key(when)}})
        ids.append(doc["_id"])
    visitor = app.browser()

    def tiles(body: bytes) -> dict:
        found = re.findall(r'<li class="media-tile" data-media-id="([^"]+)".*?</li>', body.decode(), re.S)
        blocks = re.findall(r'<li class="media-tile" data-media-id="[^"]+".*?</li>', body.decode(), re.S)
        return dict(zip(found, blocks))

    album_tiles = tiles((await visitor.get(f"{g['prefix']}/albums/{album['_id']}")).body)
    timeline_tiles = tiles((await visitor.get(f"{g['prefix']}/timeline")).body)
    assert set(album_tiles) == set(ids) == set(timeline_tiles)
    for mid in ids:
        assert timeline_tiles[mid] == album_tiles[mid]
    assert "data-preview" in timeline_tiles[ids[1]] and "data-preview" not in timeline_tiles[ids[2]]

    listed = json.loads((await visitor.get(f"{g['prefix']}/api/v1/albums/{album['_id']}/media?limit=60")).body)
    ours = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline?limit=60")).body)
    by_id = {m["id"]: m for m in listed["items"]}
    assert [m["id"] for m in ours["items"]] == ids[::-1]
    for item in ours["items"]:
        assert item == by_id[item["id"]]


async def test_the_scrubber_names_and_links_months_in_the_visitors_language(
    app, make_gallery, viewer_of, make_jpeg
):
    """The scrubber's month names and links are remembered across pages (handlers/timeline.py
    _month_text, _month_url): each language still gets its own names, each gallery its links."""
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    album = await albums.create_album(ctx, admin, (await albums.root_album(ctx))["_id"], {"title": "Year"})
    for i, when in enumerate((datetime(2021, 3, 9, tzinfo=UTC), datetime(2020, 12, 1, tzinfo=UTC))):
        doc = await add_media_file(ctx, album, make_jpeg(30, 20), f"m-{i}.jpg")
        await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
            "state": "ready", "date_taken": when, "taken_key": taken_key(when)}})
    other = await make_gallery("beta")
    visitor = app.browser()
    await visitor.get(f"{g['prefix']}/api/v1/timeline/months")  # counted before the pages
    for language, march, december in (("en", "March 2021", "December 2020"), ("de", "März 2021", "Dezember 2020"),
                                      ("en", "March 2021", "December 2020")):
        page = await visitor.get(f"{g['prefix']}/timeline?month=2021-03",
                                 headers={"Accept-Language": language})
        body = text(page)
        assert march in body and december in body, language
        assert f'href="{g["prefix"]}/timeline?month=2020-12"' in page.body.decode(), language
    # Another gallery, same month: its own links.
    octx = other["ctx"]
    oalbum = await albums.create_album(octx, await viewer_of(octx), (await albums.root_album(octx))["_id"], {"title": "B"})
    doc = await add_media_file(octx, oalbum, make_jpeg(30, 20), "b.jpg")
    when = datetime(2020, 12, 5, tzinfo=UTC)
    await octx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
        "state": "ready", "date_taken": when, "taken_key": taken_key(when)}})
    await visitor.get(f"{other['prefix']}/api/v1/timeline/months")
    body = (await visitor.get(f"{other['prefix']}/timeline")).body.decode()
    assert other["prefix"] != g["prefix"] and f'href="{other["prefix"]}/timeline?month=2020-12"' in body
    assert f'href="{g["prefix"]}/timeline?month=2020-12"' not in body


async def test_a_cursor_past_the_last_of_its_date_reads_below_it_alone(app, make_gallery, viewer_of, make_jpeg):
    """A page whose next item has another date ends in a cursor with the least id
    (timeline.BEFORE_ALL: nothing of that date is left, its page is one range, one read
    less); at a tie the cursor keeps the last id. Both walk every item once, in order, and a
    cursor of the other kind at the same place gives the same page."""
    from gallery.library.listing import decode_cursor, encode_cursor

    g, order, _secret = await _world(app, make_gallery, viewer_of, make_jpeg)
    ctx = g["ctx"]
    stored = {d["_id"]: d for d in await ctx.db.media.find({"_id": {"$in": order}}).to_list()}
    visitor = app.browser()
    seen, url, kinds = [], f"{g['prefix']}/api/v1/timeline?limit=1", []
    while url:
        answer = json.loads((await visitor.get(url)).body)
        seen += [m["id"] for m in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor:
            key, last_id = decode_cursor(cursor, "taken_key", -1)
            now, after = stored[seen[-1]], stored[order[len(seen)]]
            assert key == now["taken_key"]
            if after["taken_key"] == key:
                assert last_id == seen[-1]  # a tie: the next item has the same date
            else:
                assert last_id == timeline.BEFORE_ALL
                kinds.append(key)
                # The cursor naming the last item itself finds the same next page.
                old = encode_cursor("taken_key", -1, now)
                same = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline?limit=1&cursor={old}")).body)
                assert [m["id"] for m in same["items"]] == [after["_id"]]
        url = f"{g['prefix']}/api/v1/timeline?limit=1&cursor={cursor}" if cursor else None
    assert seen == order and len(kinds) >= 3
