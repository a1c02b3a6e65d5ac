"""The album page's cached body (handlers/pages.py, ctx.page_entry) never outlives a change
and is never shared between visitors who may see different things.

Each test first proves the cache is really in use (a write that bypasses ctx.db, and so
does not move the tenant's generation, is NOT seen), then makes the real change through
the product (HTTP API or the gallery layer) and expects it on the very next request.
"""

import asyncio
import itertools
import json
import re
from urllib.parse import quote

from gallery.library import albums
from gallery.people import roles
from gallery.people.users import create_user

PASSWORD = "Another-Horse-Battery-7"


def _html(response) -> str:
    assert response.code == 200, response.code
    return response.body.decode()


def _tiles(html: str) -> list[str]:
    return re.findall(r'<li class="media-tile" data-media-id="([0-9a-f]{24})"', html)


async def _server_ctx(app, slug):
    return await app.services.registry.context_for_slug(slug)


async def _setup(app, make_gallery, viewer_of, make_jpeg, slug="pagecache"):
    g = await make_gallery(slug)
    ctx = g["ctx"]
    admin_viewer = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin_viewer, root["_id"], {"title": "Holidays"})
    admin = app.browser()
    await admin.login(g["prefix"], "admin", g["password"])
    ids = [await _upload(admin, g, album["_id"], make_jpeg, f"first-{i}.jpg") for i in range(2)]
    return g, ctx, album, admin, ids


async def _upload(browser, g, album_id, make_jpeg, name) -> str:
    path = make_jpeg(80, 60, name=name)
    response = await browser.api(
        "POST",
        f"{g['prefix']}/api/v1/albums/{album_id}/upload",
        body=path.read_bytes(),
        headers={"X-File-Name": quote(name)},
    )
    assert response.code in (200, 201, 202), response.body
    body = json.loads(response.body)
    return (body.get("media") or body)["_id"]


async def _prove_cached(app, g, browser, url, media_id):
    """Retitle behind the cache's back (no generation move): the page must not change.

    Background processing of fresh uploads writes too (and rightly empties the cache); when
    the generation moved during a round, the round proves nothing and is tried again.
    """
    server_ctx = await _server_ctx(app, g["slug"])
    raw = server_ctx.db._db.media  # the untracked collection: a write the cache cannot see
    deadline = asyncio.get_running_loop().time() + 30
    for round_no in itertools.count():
        assert asyncio.get_running_loop().time() < deadline, "the tenant never went quiet"
        before = _html(await browser.get(url))
        generation = server_ctx.generation
        sneaky = f"Sneaky untracked title {round_no}"
        await raw.update_one({"_id": media_id}, {"$set": {"title": sneaky}})
        after = _html(await browser.get(url))
        if server_ctx.generation != generation:
            await asyncio.sleep(0.1)
            continue
        assert sneaky not in after, "the album page was not served from the cache"
        assert _tiles(after) == _tiles(before)
        return before


async def test_upload_edit_and_delete_show_on_the_next_request(
    app, make_gallery, viewer_of, make_jpeg
):
    g, _ctx, album, admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg)
    url = f"{g['prefix']}/albums/{album['_id']}"
    visitor = app.browser()
    await _prove_cached(app, g, visitor, url, ids[0])

    new_id = await _upload(admin, g, album["_id"], make_jpeg, "late-arrival.jpg")
    assert new_id in _tiles(_html(await visitor.get(url)))

    response = await admin.api(
        "PATCH", f"{g['prefix']}/api/v1/media/{ids[1]}", json_body={"title": "Renamed Sunset"}
    )
    assert response.code == 200, response.body
    assert "Renamed Sunset" in _html(await visitor.get(url))

    response = await admin.api("DELETE", f"{g['prefix']}/api/v1/media/{ids[1]}")
    assert response.code in (200, 204), response.body
    html = _html(await visitor.get(url))
    assert ids[1] not in _tiles(html) and "Renamed Sunset" not in html


async def test_an_album_made_private_is_gone_for_visitors_at_once(
    app, make_gallery, viewer_of, make_jpeg
):
    g, _ctx, album, admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg)
    url = f"{g['prefix']}/albums/{album['_id']}"
    visitor = app.browser()
    await _prove_cached(app, g, visitor, url, ids[0])
    home = _html(await visitor.get(f"{g['prefix']}/"))
    assert "Holidays" in home

    response = await admin.api(
        "PATCH", f"{g['prefix']}/api/v1/albums/{album['_id']}", json_body={"private": True}
    )
    assert response.code == 200, response.body
    assert (await visitor.get(url)).code == 404
    assert "Holidays" not in _html(await visitor.get(f"{g['prefix']}/"))
    # the administrator still sees it (a different visibility class, its own entry)
    assert ids[0] in _tiles(_html(await admin.get(url)))


async def test_a_role_change_shows_on_the_next_request(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, album, _admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg)
    await albums.set_private(ctx, await albums.get_album(ctx, album["_id"]), True)
    role = await ctx.db.roles.find_one({"builtin": "authenticated"})
    await create_user(ctx, "reader", "reader@example.test", PASSWORD, role_ids=[role["_id"]])
    reader = app.browser()
    await reader.login(g["prefix"], "reader", PASSWORD)
    url = f"{g['prefix']}/albums/{album['_id']}"
    await _prove_cached(app, g, reader, url, ids[0])

    await roles.update_role(ctx, role["_id"], permissions=[])
    assert (await reader.get(url)).code == 404
    await roles.update_role(ctx, role["_id"], permissions=["view"])
    assert ids[0] in _tiles(_html(await reader.get(url)))


async def test_viewers_of_different_roles_never_share_a_cached_page(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, album, admin, _ids = await _setup(app, make_gallery, viewer_of, make_jpeg)
    url = f"{g['prefix']}/albums/{album['_id']}"
    secret = await albums.create_album(
        ctx, await viewer_of(ctx), album["_id"], {"title": "Staff Only Party"}
    )
    await albums.set_private(ctx, secret, True)
    # reader: the built-in role (view and originals everywhere); looker: view only, here.
    authenticated = await ctx.db.roles.find_one({"builtin": "authenticated"})
    looking = await roles.create_role(ctx, "Lookers", ["view"], [album["_id"]])
    await create_user(
        ctx, "reader", "reader@example.test", PASSWORD, role_ids=[authenticated["_id"]]
    )
    await create_user(ctx, "looker", "looker@example.test", PASSWORD, role_ids=[looking["_id"]])
    reader, looker, visitor = app.browser(), app.browser(), app.browser()
    await reader.login(g["prefix"], "reader", PASSWORD)
    await looker.login(g["prefix"], "looker", PASSWORD)
    originals = f"/download/album/{album['_id']}?size=original"

    # The admin fills the cache first; nobody else may get the admin's page from it.
    for _ in range(2):
        html = _html(await admin.get(url))
        assert "Staff Only Party" in html and 'data-can-edit="1"' in html and originals in html
    for _ in range(2):
        html = _html(await reader.get(url))
        assert "Staff Only Party" in html and originals in html
        assert 'data-can-edit="0"' in html and "js/edit.js" not in html
    for _ in range(2):
        html = _html(await looker.get(url))
        assert "Staff Only Party" in html and originals not in html
        assert 'data-can-edit="0"' in html
    for _ in range(2):
        html = _html(await visitor.get(url))
        assert "Staff Only Party" not in html and originals not in html
        assert 'data-can-edit="0"' in html and "Sign in" in html and "Sign out" not in html
    # and the other way round: the visitor's entry does not reach the admin
    html = _html(await admin.get(url))
    assert "Staff Only Party" in html and 'data-can-edit="1"' in html


async def test_layout_name_and_xsrf_token_are_each_visitors_own(
    app, make_gallery, viewer_of, make_jpeg
):
    g, ctx, album, admin, _ids = await _setup(app, make_gallery, viewer_of, make_jpeg)
    role = await ctx.db.roles.find_one({"builtin": "authenticated"})
    for name in ("alice", "bob"):
        await create_user(ctx, name, f"{name}@example.test", PASSWORD, role_ids=[role["_id"]])
    url = f"{g['prefix']}/albums/{album['_id']}"
    pages = {}
    for name in ("alice", "bob"):  # same roles: the same cached body, their own layout
        b = app.browser()
        await b.login(g["prefix"], name, PASSWORD)
        html = _html(await b.get(url))
        token = re.search(r'name="_xsrf" value="([^"]+)"', html).group(1)
        pages[name] = (html, token, b.xsrf())
    alice_html, alice_token, _ = pages["alice"]
    bob_html, bob_token, _ = pages["bob"]
    assert ">alice</a>" in alice_html and ">bob</a>" not in alice_html
    assert ">bob</a>" in bob_html and ">alice</a>" not in bob_html
    assert alice_token != bob_token
    # the tiles are the same page: the body really was shared
    assert _tiles(alice_html) == _tiles(bob_html) == _tiles(_html(await admin.get(url)))


async def test_tenants_never_share_a_cached_page(app, make_gallery, viewer_of, make_jpeg):
    g1, _, album1, _, ids1 = await _setup(app, make_gallery, viewer_of, make_jpeg, slug="pc-one")
    g2, _, album2, _, _ids2 = await _setup(app, make_gallery, viewer_of, make_jpeg, slug="pc-two")
    visitor = app.browser()
    home1 = _html(await visitor.get(f"{g1['prefix']}/"))
    home2 = _html(await visitor.get(f"{g2['prefix']}/"))
    assert album1["_id"] in home1 and album2["_id"] not in home1
    assert album2["_id"] in home2 and album1["_id"] not in home2
    page1 = _html(await visitor.get(f"{g1['prefix']}/albums/{album1['_id']}"))
    assert set(_tiles(page1)) == set(ids1)
    assert (await visitor.get(f"{g2['prefix']}/albums/{album1['_id']}")).code == 404


async def test_the_media_page_is_cached_and_follows_changes(
    app, make_gallery, viewer_of, make_jpeg
):
    g, _ctx, album, admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg)
    url = f"{g['prefix']}/media/{ids[0]}"
    visitor = app.browser()
    await _prove_cached(app, g, visitor, f"{g['prefix']}/albums/{album['_id']}", ids[1])
    server_ctx = await _server_ctx(app, g["slug"])
    _html(await visitor.get(url))
    await server_ctx.db._db.media.update_one({"_id": ids[0]}, {"$set": {"title": "Untracked"}})
    assert "Untracked" not in _html(await visitor.get(url))  # served from the cache

    response = await admin.api(
        "PATCH", f"{g['prefix']}/api/v1/media/{ids[0]}", json_body={"caption": "Fresh caption"}
    )
    assert response.code == 200, response.body
    html = _html(await visitor.get(url))
    assert "Fresh caption" in html and 'data-can-edit="0"' in html and "Sign in" in html
    admin_html = _html(await admin.get(url))
    assert 'data-can-edit="1"' in admin_html and "Sign out" in admin_html
    assert "js/edit.js" in admin_html and "js/edit.js" not in _html(await visitor.get(url))

    response = await admin.api(
        "PATCH", f"{g['prefix']}/api/v1/albums/{album['_id']}", json_body={"private": True}
    )
    assert response.code == 200, response.body
    assert (await visitor.get(url)).code == 404
    assert (await admin.get(url)).code == 200


async def test_writes_of_other_processes_show_once_the_page_has_aged(
    app, make_gallery, viewer_of, make_jpeg, monkeypatch
):
    """A write the generation cannot see (another process's) shows once the page is older
    than CACHE_SECONDS: an aged body only stands in while a concurrent request rebuilds it."""
    import tenants.context

    g, _ctx, album, _admin, ids = await _setup(app, make_gallery, viewer_of, make_jpeg)
    url = f"{g['prefix']}/albums/{album['_id']}"
    visitor = app.browser()
    await _prove_cached(app, g, visitor, url, ids[0])
    monkeypatch.setattr(tenants.context, "CACHE_SECONDS", 0.0)  # every entry is aged now
    server_ctx = await _server_ctx(app, g["slug"])
    await server_ctx.db._db.media.update_one({"_id": ids[0]}, {"$set": {"title": "From afar"}})
    assert "From afar" in _html(await visitor.get(url))
