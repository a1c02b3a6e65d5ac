"""Issue 17, item 2: the album tree names only albums the viewer may see — a member whose
role covers an album below a hidden one gets that album at the top — one level at a time,
and answers 404 for albums out of reach (hidden, another gallery's, not an id)."""

from __future__ import annotations

import json

from gallery.library import albums
from gallery.library.privacy import apply_private
from gallery.people.roles import create_role
from gallery.people.users import create_user

PASSWORD = "Quiet-Lantern-Harbour-42"


async def test_the_tree_shows_what_each_viewer_may_see_one_level_at_a_time(app, make_gallery, viewer_of):
    g = await make_gallery("alpha")
    other = await make_gallery("beta")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    trips = await albums.create_album(ctx, admin, root["_id"], {"title": "Trips"})
    await albums.create_album(ctx, admin, trips["_id"], {"title": "Rome"})
    secret = await albums.create_album(ctx, admin, root["_id"], {"title": "Secret"})
    inner = await albums.create_album(ctx, admin, secret["_id"], {"title": "Inner"})
    await albums.create_album(ctx, admin, inner["_id"], {"title": "Deeper"})
    hidden_child = await albums.create_album(ctx, admin, trips["_id"], {"title": "Hidden child"})
    await apply_private(ctx, secret, True)
    await apply_private(ctx, hidden_child, True)

    async def level(browser, parent=None, prefix=g["prefix"]):
        query = f"?parent={parent}" if parent else ""
        return await browser.get(f"{prefix}/api/v1/album-tree{query}")

    visitor = app.browser()
    top = json.loads((await level(visitor)).body)["albums"]
    assert [(a["title"], a["has_children"]) for a in top] == [("Trips", True)]
    below = json.loads((await level(visitor, trips["_id"])).body)["albums"]
    assert [a["title"] for a in below] == ["Rome"]  # never the private child
    for out_of_reach in (secret["_id"], inner["_id"], "not-an-id", "../../etc"):
        assert (await level(visitor, out_of_reach)).code == 404
    other_root = await albums.root_album(other["ctx"])
    assert (await level(visitor, other_root["_id"])).code == 404  # another gallery's album

    role = await create_role(ctx, "Inner", ["view"], [inner["_id"]])
    await create_user(ctx, "friend", "friend@alpha.test", PASSWORD, role_ids=[role["_id"]])
    member = app.browser()
    await member.login(g["prefix"], "friend", PASSWORD)
    await apply_private(ctx, root, True)  # the member may not see the gallery's top...
    top = json.loads((await level(member)).body)["albums"]
    assert [(a["title"], a["has_children"]) for a in top] == [("Inner", True)]  # ...but Inner
    assert [a["title"] for a in json.loads((await level(member, inner["_id"])).body)["albums"]] == ["Deeper"]
    assert (await level(member, secret["_id"])).code == 404
    assert "Secret" not in (await level(member)).body.decode()
