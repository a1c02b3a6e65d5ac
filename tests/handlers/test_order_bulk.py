"""Custom order (drag and drop) and bulk actions through the JSON API; search/tags/recent
endpoints and the album listing's sort override with hostile input."""

from __future__ import annotations

import json
from urllib.parse import quote

from gallery.ids import new_id
from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.library.privacy import apply_private
from gallery.people.roles import create_role
from gallery.people.users import create_user


def _json(response):
    return json.loads(response.body)


async def _setup(app, make_gallery, make_jpeg, count=4):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    b = app.browser()
    await b.login(g["prefix"], "admin", g["password"])
    root = await albums.root_album(ctx)
    ids = [
        (await add_media_file(ctx, root, make_jpeg(16, 16), f"p{i}.jpg", title=f"Photo {i}"))["_id"]
        for i in range(count)
    ]
    return g, ctx, b, root, ids, f"{g['prefix']}/api/v1"


async def _order(b, api, album_id, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    page = _json(await b.api("GET", f"{api}/albums/{album_id}/media?limit=100&{qs}"))
    return [m["id"] for m in page["items"]]


async def test_reordering_media_keeps_the_new_order_and_switches_to_position_sort(
    app, make_gallery, make_jpeg
):
    _g, _ctx, b, root, ids, api = await _setup(app, make_gallery, make_jpeg)
    await b.api(
        "PATCH", f"{api}/albums/{root['_id']}", {"sort_field": "title", "sort_direction": -1}
    )
    moved = [ids[2], ids[0], ids[1]]  # drag the third item to the front
    response = await b.api("POST", f"{api}/albums/{root['_id']}/order", {"media": moved})
    assert response.code == 200, response.body
    assert _json(response)["album"]["sort_field"] == "position"
    assert await _order(b, api, root["_id"]) == [ids[2], ids[0], ids[1], ids[3]]


async def test_reordering_refuses_foreign_invisible_or_repeated_ids_and_changes_nothing(
    app, make_gallery, make_jpeg
):
    g, ctx, b, root, ids, api = await _setup(app, make_gallery, make_jpeg)
    admin_view = await albums.get_album(ctx, root["_id"])
    other = await albums.create_album(ctx, await _admin(ctx), admin_view["_id"], {"title": "Other"})
    foreign = (await add_media_file(ctx, other, make_jpeg(16, 16), "x.jpg"))["_id"]
    for body in (
        {"media": [ids[1], foreign]},
        {"media": [ids[1], ids[1]]},
        {"media": [ids[1], new_id()]},
        {"media": ["$gt", ids[0]]},
        {"media": {"$ne": None}},
        {"media": []},
        {},
        {"albums": [ids[0]]},
    ):
        response = await b.api("POST", f"{api}/albums/{root['_id']}/order", body)
        assert response.code == 400, (body, response.body)
        assert _json(response)["error"]["code"] in ("invalid", "bad_request")
    assert await _order(b, api, root["_id"]) == ids

    visitor = app.browser()
    await visitor.get(f"{g['prefix']}/login")
    denied = await visitor.api("POST", f"{api}/albums/{root['_id']}/order", {"media": ids[:2]})
    assert denied.code == 401


async def _admin(ctx):
    from gallery.people.permissions import viewer_for
    from gallery.settings import get_settings

    user = await ctx.db.users.find_one({"username_key": "admin"})
    return await viewer_for(ctx, user, await get_settings(ctx))


async def test_reordering_child_albums(app, make_gallery, make_jpeg):
    _g, _ctx, b, root, _ids, api = await _setup(app, make_gallery, make_jpeg, count=0)
    made = []
    for title in ("One", "Two", "Three"):
        r = await b.api("POST", f"{api}/albums", {"parent_id": root["_id"], "title": title})
        made.append(_json(r)["album"]["id"])
    r = await b.api("POST", f"{api}/albums/{root['_id']}/order", {"albums": [made[2], made[0]]})
    assert r.code == 200, r.body
    page = _json(await b.api("GET", f"{api}/albums/{root['_id']}"))
    # The two albums named swap the places they held (first and third); "Two", not named,
    # keeps the second place.
    assert [c["id"] for c in page["children"]] == [made[2], made[1], made[0]]


async def test_bulk_tag_untag_move_copy_delete(app, make_gallery, make_jpeg):
    _g, _ctx, b, root, ids, api = await _setup(app, make_gallery, make_jpeg)
    target = _json(
        await b.api("POST", f"{api}/albums", {"parent_id": root["_id"], "title": "Target"})
    )["album"]["id"]
    xss = "<img src=x onerror=alert(1)>"
    r = _json(
        await b.api(
            "POST", f"{api}/media/bulk", {"action": "tag", "ids": ids, "tags": ["Sea", xss]}
        )
    )
    assert r == {"done": ids, "failed": []}
    found = _json(await b.api("GET", f"{api}/search?q=sea"))
    assert {m["id"] for m in found["items"]} == set(ids)
    assert xss in found["items"][0]["tags"]  # stays text in JSON; pages escape it
    tags = _json(await b.api("GET", f"{api}/tags"))["tags"]
    assert {"tag": "Sea", "count": 4} in tags
    assert _json(await b.api("GET", f"{api}/tags?prefix=se"))["tags"] == ["Sea"]

    r = _json(
        await b.api(
            "POST", f"{api}/media/bulk", {"action": "untag", "ids": ids[:1], "tags": ["sea"]}
        )
    )
    assert r["done"] == ids[:1]
    assert len(_json(await b.api("GET", f"{api}/search?q=sea"))["items"]) == 3

    missing = new_id()
    r = _json(
        await b.api(
            "POST",
            f"{api}/media/bulk",
            {"action": "move", "ids": [ids[0], missing, "../../x"], "album_id": target},
        )
    )
    assert r["done"] == [ids[0]]
    assert r["failed"] == [
        {"id": missing, "error": "not found"},
        {"id": "../../x", "error": "not found"},
    ]
    assert await _order(b, api, target) == [ids[0]]
    r = _json(
        await b.api(
            "POST", f"{api}/media/bulk", {"action": "copy", "ids": ids[1:3], "album_id": target}
        )
    )
    assert r["done"] == ids[1:3] and len(await _order(b, api, target)) == 3
    r = _json(await b.api("POST", f"{api}/media/bulk", {"action": "delete", "ids": ids[2:]}))
    assert r["done"] == ids[2:] and await _order(b, api, root["_id"]) == [ids[1]]

    for bad in (
        {"action": "explode", "ids": ids},
        {"action": "tag", "ids": ids},
        {"action": "move", "ids": ids},
        {"action": "delete", "ids": "all"},
        {"action": "delete", "ids": [{"$gt": ""}]},
        {"action": "delete", "ids": ["x"] * 1001},
    ):
        response = await b.api("POST", f"{api}/media/bulk", bad)
        assert response.code == 400, bad


async def test_bulk_reports_invisible_items_as_not_found(app, make_gallery, make_jpeg):
    g, ctx, _b, root, _ids, api = await _setup(app, make_gallery, make_jpeg, count=1)
    admin = await _admin(ctx)
    secret = await albums.create_album(ctx, admin, root["_id"], {"title": "Secret"})
    await apply_private(ctx, secret, True)
    secret = await albums.get_album(ctx, secret["_id"])
    hidden = (await add_media_file(ctx, secret, make_jpeg(16, 16), "h.jpg"))["_id"]
    public = await albums.create_album(ctx, admin, root["_id"], {"title": "Public"})
    mine = (await add_media_file(ctx, public, make_jpeg(16, 16), "m.jpg"))["_id"]
    role = await create_role(
        ctx, "Editors", ["view", "edit_media", "delete_media"], [public["_id"]]
    )
    await create_user(
        ctx, "editor", "editor@example.test", "Correct-Horse-Battery-9", role_ids=[role["_id"]]
    )
    editor = app.browser()
    await editor.login(g["prefix"], "editor", "Correct-Horse-Battery-9")
    r = await editor.api("POST", f"{api}/media/bulk", {"action": "delete", "ids": [hidden, mine]})
    assert r.code == 200, r.body
    assert _json(r) == {"done": [mine], "failed": [{"id": hidden, "error": "not found"}]}
    assert await ctx.db.media.find_one({"_id": hidden}) is not None


async def test_listing_sort_override_and_hostile_paging(app, make_gallery, make_jpeg):
    _g, _ctx, b, root, ids, api = await _setup(app, make_gallery, make_jpeg)
    assert await _order(b, api, root["_id"], sort="title", dir="-1") == list(reversed(ids))
    assert await _order(b, api, root["_id"], sort="file_name", dir="1") == ids
    page = _json(await b.api("GET", f"{api}/albums/{root['_id']}/media?offset=100"))
    assert page["items"] == [] and page["total"] == 4
    for query in ("sort=colour", "sort=$where", "dir=2", "dir=sideways", "limit=-3", "limit=99999"):
        r = await b.api("GET", f"{api}/albums/{root['_id']}/media?{query}")
        assert r.code == 400, query
        assert _json(r)["error"]["code"] == "invalid"
    for q in (".*", "$where", '{"$gt": ""}'):
        r = await b.api("GET", f"{api}/search?q={quote(q)}")
        assert r.code == 200 and _json(r)["items"] == [], q
    for query in ("limit=0", "limit=-1", "limit=100000", "cursor=abc"):
        r = await b.api("GET", f"{api}/search?q=photo&{query}")
        assert r.code == 400, query
    recent = _json(await b.api("GET", f"{api}/media/recent?limit=2"))["items"]
    assert [m["id"] for m in recent] == [ids[3], ids[2]]
