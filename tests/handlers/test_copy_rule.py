"""One rule for every copy path (issue 11, item 4): copying a media object, a bulk selection
or an album subtree duplicates originals, so each needs view_original on the source (and
add permissions on the target); without it nothing is copied."""

from __future__ import annotations

import json

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.people.roles import create_role, update_role
from gallery.people.users import create_user
from tests.client import text

PASSWORD = "Velvet-Orchid-Lamp-31"


async def test_every_copy_path_needs_view_original(app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery("alpha")
    ctx, p = g["ctx"], g["prefix"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    source = await albums.create_album(ctx, admin, root["_id"], {"title": "Source"})
    inner = await albums.create_album(ctx, admin, source["_id"], {"title": "Inner"})
    target = await albums.create_album(ctx, admin, root["_id"], {"title": "Target"})
    photo = await add_media_file(ctx, inner, make_jpeg(40, 30), "secret-original.jpg")
    # May see everything and add anywhere, but may not have originals.
    curators = await create_role(ctx, "Curators", ["view", "add_album", "add_media"], [root["_id"]])
    await create_user(ctx, "cora", "cora@alpha.test", PASSWORD, role_ids=[curators["_id"]])
    cora = app.browser()
    assert (await cora.login(p, "cora", PASSWORD)).code == 302

    async def copies():
        return {
            "albums": await ctx.db.albums.count_documents({}),
            "media": await ctx.db.media.count_documents({}),
        }

    before = await copies()
    subtree = await cora.api(
        "POST", f"{p}/api/v1/albums/{source['_id']}/copy", {"parent_id": target["_id"]}
    )
    single = await cora.api(
        "POST", f"{p}/api/v1/media/{photo['_id']}/copy", {"album_id": target["_id"]}
    )
    bulk = await cora.api(
        "POST",
        f"{p}/api/v1/media/bulk",
        {"action": "copy", "ids": [photo["_id"]], "album_id": target["_id"]},
    )
    assert subtree.code == 403, text(subtree)
    assert single.code == 403, text(single)
    assert bulk.code == 200 and json.loads(bulk.body)["done"] == []
    assert "permission" in json.loads(bulk.body)["failed"][0]["error"]
    assert await copies() == before

    # With view_original the same three requests copy.
    await update_role(
        ctx, curators["_id"], permissions=["view", "view_original", "add_album", "add_media"]
    )
    subtree = await cora.api(
        "POST", f"{p}/api/v1/albums/{source['_id']}/copy", {"parent_id": target["_id"]}
    )
    assert subtree.code == 201, text(subtree)
    single = await cora.api(
        "POST", f"{p}/api/v1/media/{photo['_id']}/copy", {"album_id": target["_id"]}
    )
    assert single.code == 201, text(single)
    bulk = await cora.api(
        "POST",
        f"{p}/api/v1/media/bulk",
        {"action": "copy", "ids": [photo["_id"]], "album_id": target["_id"]},
    )
    assert json.loads(bulk.body)["done"] == [photo["_id"]]
    after = await copies()
    assert after == {"albums": before["albums"] + 2, "media": before["media"] + 3}
