"""The API's album listings and media reads come from the page cache (handlers/api_cache.py)
and, like album pages, never outlive a change and are never shared between viewers who
may see different things.

Each test proves the cache is in use (a write that bypasses ctx.db is NOT seen), then
makes the real change through the product and expects it on the very next request.
"""

from __future__ import annotations

import asyncio
import itertools
import json

from gallery.library import albums
from gallery.people import roles
from gallery.people.users import create_user
from tests.handlers.test_page_cache import PASSWORD, _server_ctx, _setup, _upload


def _json(response) -> dict:
    assert response.code == 200, (response.code, response.body[:300])
    return json.loads(response.body)


def _titles(body: dict) -> dict:
    media = body.get("media", body)
    items = media["items"] if "items" in media else [media]
    return {m["id"]: m["title"] for m in items}


async def _prove_cached(app, g, browser, url, media_id):
    """Retitle behind the cache's back (no generation move): the answer must not change."""
    server_ctx = await _server_ctx(app, g["slug"])
    raw = server_ctx.db._db.media  # the untracked collection: a write the cache cannot see
    deadline = asyncio.get_running_loop().time() + 30
    for round_no in itertools.count():
        assert asyncio.get_running_loop().time() < deadline, "the tenant never went quiet"
        before = _json(await browser.get(url))
        generation = server_ctx.generation
        sneaky = f"Sneaky untracked title {round_no}"
        await raw.update_one({"_id": media_id}, {"$set": {"title": sneaky}})
        after = _json(await browser.get(url))
        if server_ctx.generation != generation:  # processing wrote meanwhile: try again
            await asyncio.sleep(0.1)
            continue
        assert after == before, "the API answer was not served from the cache"
        return before


async def test_listings_and_media_reads_are_cached_until_the_next_write(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, album, admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg, slug="apicache")
    visitor = app.browser()
    api = f"{g['prefix']}/api/v1"
    for url in (
        f"{api}/albums/{album['_id']}",
        f"{api}/albums/{album['_id']}/media?limit=1&offset=1",
        f"{api}/media/{ids[0]}",
        f"{api}/media?ids={ids[0]},{ids[1]}&fields=title,state",
    ):
        await _prove_cached(app, g, visitor, url, ids[0] if "offset" not in url else ids[1])
        target = ids[1] if "offset" in url else ids[0]
        title = f"Harbour {url[-12:]}"
        response = await admin.api("PATCH", f"{api}/media/{target}", json_body={"title": title})
        assert response.code == 200, response.body
        assert _titles(_json(await visitor.get(url)))[target] == title, url
    # The root album's listing (`/albums`), and a new upload shows in it at once.
    await _prove_cached(app, g, visitor, f"{api}/albums/{album['_id']}", ids[0])
    new_id = await _upload(admin, g, album["_id"], make_jpeg, "third.jpg")
    assert new_id in _titles(_json(await visitor.get(f"{api}/albums/{album['_id']}")))
    assert _json(await visitor.get(f"{api}/albums"))["album"]["id"] == album["parent_id"]


async def test_an_album_made_private_is_gone_from_the_api_at_once(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, album, admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg, slug="apiprivate")
    visitor = app.browser()
    api = f"{g['prefix']}/api/v1"
    # The admin's class caches its own answers first: none of them may reach the visitor.
    for url in (f"{api}/albums/{album['_id']}", f"{api}/media/{ids[0]}", f"{api}/media?ids={ids[0]}"):
        _json(await admin.get(url))
        _json(await visitor.get(url))
    response = await admin.api("PATCH", f"{api}/albums/{album['_id']}", json_body={"private": True})
    assert response.code == 200, response.body
    assert (await visitor.get(f"{api}/albums/{album['_id']}")).code == 404
    assert (await visitor.get(f"{api}/albums/{album['_id']}/media")).code == 404
    assert (await visitor.get(f"{api}/media/{ids[0]}")).code == 404
    assert _json(await visitor.get(f"{api}/media?ids={ids[0]}"))["items"] == []
    root = _json(await visitor.get(f"{api}/albums"))
    assert album["_id"] not in [c["id"] for c in root["children"]]
    # The admin still sees it all, and only the admin's answer says it may be edited.
    assert _json(await admin.get(f"{api}/albums/{album['_id']}"))["album"]["can"]["edit_album"] is True


async def test_viewers_of_different_roles_never_share_a_cached_answer(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, album, admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg, slug="apiroles")
    await albums.set_private(ctx, await albums.get_album(ctx, album["_id"]), True)
    authenticated = await ctx.db.roles.find_one({"builtin": "authenticated"})
    looking = await roles.create_role(ctx, "Lookers", ["view"], [album["_id"]])
    await create_user(ctx, "reader", "reader@example.test", PASSWORD, role_ids=[authenticated["_id"]])
    await create_user(ctx, "looker", "looker@example.test", PASSWORD, role_ids=[looking["_id"]])
    reader, looker, visitor = app.browser(), app.browser(), app.browser()
    await reader.login(g["prefix"], "reader", PASSWORD)
    await looker.login(g["prefix"], "looker", PASSWORD)
    url = f"{g['prefix']}/api/v1/media/{ids[0]}"
    # The reader (originals everywhere) answers first; the looker (view only) must not get
    # the reader's cached answer with its original URL, and the visitor nothing at all.
    assert _json(await reader.get(url))["media"]["urls"]["original"]
    assert _json(await looker.get(url))["media"]["urls"]["original"] is None
    assert (await visitor.get(url)).code == 404
    # Two requests of one class in flight at once get the same, single build.
    first, second = await asyncio.gather(looker.get(url), looker.get(url))
    assert _json(first) == _json(second)
