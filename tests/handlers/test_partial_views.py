"""Issue 17 (1, 4): what a member whose roles reach only some albums meets — a home listing
the albums they may open, with covers and counts of only what they may see, breadcrumbs that
start at their highest visible album — and album cards that count the items below."""

import re

from gallery.library import albums
from gallery.people.roles import create_role
from gallery.people.users import create_user
from tests.handlers.test_pages import _body, _fill, _gallery

PASSWORD = "Quiet-Lantern-Harbour-42"


def _card(html: str, album_id: str) -> str:
    found = re.search(rf'<li class="album-tile" data-album-id="{album_id}">(.*?)</li>', html, re.S)
    assert found, album_id
    return found.group(1)


async def test_a_member_of_some_albums_gets_a_home_of_them(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, root, public, secret, inner = await _gallery(app, make_gallery, viewer_of)
    # The root is private: the member sees nothing of it, only what their roles name.
    await albums.set_private(ctx, root, True)
    deeper = await albums.create_album(ctx, admin, inner["_id"], {"title": "Deep Pool"})
    sibling = await albums.create_album(ctx, admin, secret["_id"], {"title": "Forbidden Shore"})
    await _fill(app, ctx, inner, make_jpeg, 2, prefix="lake")
    pool = await _fill(app, ctx, deeper, make_jpeg, 3, prefix="pool")
    await _fill(app, ctx, sibling, make_jpeg, 4, prefix="shore")
    await _fill(app, ctx, public, make_jpeg, 1, prefix="sun")
    role = await create_role(ctx, "Lake friends", ["view"], [inner["_id"], deeper["_id"]])
    await create_user(ctx, "friend", "friend@alpha.test", PASSWORD, role_ids=[role["_id"]])
    b = app.browser()
    await b.login(g["prefix"], "friend", PASSWORD)

    home = _body(await b.get(f"{g['prefix']}/"))
    assert "This gallery is empty" not in home
    card = _card(home, inner["_id"])
    assert "Hidden Lake" in card and "5 items" in card and "1 album" in card
    assert re.search(r'/media/[0-9a-f]{24}/thumbnail', card)  # a cover
    # Deep Pool is inside Hidden Lake: not a second top card; nothing else is named.
    assert f'data-album-id="{deeper["_id"]}"' not in home
    for hidden in ("Secret Garden", "Forbidden Shore", "Holidays", secret["_id"], public["_id"]):
        assert hidden not in home, hidden

    # Breadcrumbs: home, then their highest visible album, never the private parent.
    page = _body(await b.get(f"{g['prefix']}/albums/{deeper['_id']}"))
    crumb = re.search(r'<nav class="breadcrumb".*?</nav>', page, re.S).group(0)
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', crumb)
    assert links == [
        (f"{g['prefix']}/", "Alpha Gallery"),
        (f"{g['prefix']}/albums/{inner['_id']}", "Hidden Lake"),
    ]
    assert "Secret Garden" not in page and secret["_id"] not in page
    media = _body(await b.get(f"{g['prefix']}/media/{pool[0]['_id']}"))
    assert "Secret Garden" not in media and "Hidden Lake" in media

    # A member whose roles reach nothing still gets the empty state, not an error.
    await create_user(ctx, "nobody", "nobody@alpha.test", PASSWORD, role_ids=[])
    other = app.browser()
    await other.login(g["prefix"], "nobody", PASSWORD)
    assert "This gallery is empty" in _body(await other.get(f"{g['prefix']}/"))


async def test_album_cards_count_what_the_viewer_sees_below(app, make_gallery, viewer_of, make_jpeg):
    g, ctx, admin, _root, public, _secret, _inner = await _gallery(app, make_gallery, viewer_of)
    # "Holidays" holds nothing itself but 5 items in two sub-albums and 2 in a private one.
    beach = await albums.create_album(ctx, admin, public["_id"], {"title": "Beach"})
    hills = await albums.create_album(ctx, admin, public["_id"], {"title": "Hills"})
    vault = await albums.create_album(ctx, admin, hills["_id"], {"title": "Vault"})
    await albums.set_private(ctx, vault, True)
    await _fill(app, ctx, beach, make_jpeg, 3, prefix="sand", process=False)
    await _fill(app, ctx, hills, make_jpeg, 2, prefix="hill", process=False)
    await _fill(app, ctx, vault, make_jpeg, 2, prefix="gold", process=False)

    anonymous = _body(await app.browser().get(f"{g['prefix']}/"))
    card = _card(anonymous, public["_id"])
    assert "5 items" in card and "2 albums" in card, card  # the private album's 2 are not seen
    admin_b = app.browser()
    await admin_b.login(g["prefix"], "admin", g["password"])
    card = _card(_body(await admin_b.get(f"{g['prefix']}/")), public["_id"])
    assert "7 items" in card and "2 albums" in card, card
    hills_card = _card(_body(await admin_b.get(f"{g['prefix']}/albums/{public['_id']}")), hills["_id"])
    assert "4 items" in hills_card and "1 album" in hills_card


async def test_the_album_picker_names_no_album_the_member_may_not_see(
    app, make_gallery, viewer_of, make_jpeg
):
    import json

    g, ctx, _admin, _root, _public, _secret, inner = await _gallery(app, make_gallery, viewer_of)
    role = await create_role(ctx, "Lake editors", ["view", "add_media"], [inner["_id"]])
    await create_user(ctx, "editor", "editor@alpha.test", PASSWORD, role_ids=[role["_id"]])
    b = app.browser()
    await b.login(g["prefix"], "editor", PASSWORD)
    answer = await b.get(f"{g['prefix']}/api/v1/album-picker?permission=add_media")
    labels = [a["label"] for a in json.loads(answer.body)["albums"]]
    assert labels == ["Hidden Lake"], labels
    upload = _body(await b.get(f"{g['prefix']}/upload?album={inner['_id']}"))
    assert "Secret Garden" not in upload and "Hidden Lake" in upload
