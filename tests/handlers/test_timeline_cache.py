"""The timeline's kept pages and answers (handlers/timeline.py: the page's rendered body and
the API's JSON in the tenant's page cache) never outlive a write and never reach a viewer
who may see something else or reads another language.

Each test first proves the cache is in use (a write behind the cache's back, which does not
move the tenant's generation, is NOT seen), then makes the real change through the product
and expects it on the very next request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from datetime import UTC, datetime

from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.library.privacy import apply_private
from gallery.people import roles
from gallery.people.users import create_user
from media.dates import taken_key

PASSWORD = "Quiet-Lantern-Harbour-42"
ENGLISH = {"Accept-Language": "en"}
_ROUNDS = itertools.count()  # each untracked title new, across calls


def _html(response) -> str:
    assert response.code == 200, (response.code, response.body[:300])
    return response.body.decode()


def _tiles(html: str) -> list[str]:
    return re.findall(r'<li class="media-tile" data-media-id="([0-9a-f]{24})"', html)


async def _dated(ctx, album, make_jpeg, name: str, when: datetime) -> str:
    doc = await add_media_file(ctx, album, make_jpeg(30, 20), name)
    await ctx.db.media.update_one({"_id": doc["_id"]}, {"$set": {
        "state": "ready", "date_taken": when, "taken_key": taken_key(when)}})
    return doc["_id"]


async def _world(make_gallery, viewer_of, make_jpeg):
    """An open album of three dated items, a private album of one; a member "friend" whose
    role opens the private album only."""
    g = await make_gallery("kept")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    open_album = await albums.create_album(ctx, admin, root["_id"], {"title": "Open"})
    hidden = await albums.create_album(ctx, admin, root["_id"], {"title": "Hidden"})
    await apply_private(ctx, hidden, True)
    ids = [await _dated(ctx, open_album, make_jpeg, f"open-{i}.jpg", datetime(2024, 5, 1 + i, tzinfo=UTC))
           for i in range(3)]
    secret = await _dated(ctx, hidden, make_jpeg, "secret.jpg", datetime(2024, 5, 10, tzinfo=UTC))
    role = await roles.create_role(ctx, "Hidden only", ["view"], [hidden["_id"]])
    await create_user(ctx, "friend", "friend@kept.test", PASSWORD, role_ids=[role["_id"]])
    return g, open_album, hidden, ids, secret, role


async def _prove_kept(g, browser, url: str, media_id: str, headers=None) -> str:
    """Retitle `media_id` behind the cache's back: the page (or answer) must not change.
    A round in which something else wrote (background work) proves nothing: tried again.
    The scrubber's months are counted first (a page built before they are is built again
    once they are: timeline.months_counted)."""
    ctx = g["ctx"]
    assert (await browser.get(f"{g['prefix']}/api/v1/timeline/months", headers=headers)).code == 200
    raw = ctx.db._db.media  # the untracked collection: a write the generation does not see
    deadline = asyncio.get_running_loop().time() + 30
    for round_no in _ROUNDS:
        assert asyncio.get_running_loop().time() < deadline, "the gallery never went quiet"
        before = (await browser.get(url, headers=headers)).body.decode()
        generation = ctx.generation
        sneaky = f"Sneaky untracked title {round_no}"
        await raw.update_one({"_id": media_id}, {"$set": {"title": sneaky}})
        after = (await browser.get(url, headers=headers)).body.decode()
        if ctx.generation != generation:
            await asyncio.sleep(0.1)
            continue
        assert sneaky not in after, f"{url} was not answered from the cache"
        return before


async def test_new_media_captions_and_privacy_show_on_the_next_request(app, make_gallery, viewer_of, make_jpeg):
    g, open_album, hidden, ids, secret, _role = await _world(make_gallery, viewer_of, make_jpeg)
    p, ctx = g["prefix"], g["ctx"]
    visitor, admin = app.browser(), app.browser()
    await admin.login(p, "admin", g["password"])
    page, api = f"{p}/timeline", f"{p}/api/v1/timeline?limit=10"
    await _prove_kept(g, visitor, page, ids[0])
    await _prove_kept(g, visitor, api, ids[0])

    # New media: on the page and in the answer at once.
    late = await _dated(ctx, open_album, make_jpeg, "late.jpg", datetime(2024, 6, 1, tzinfo=UTC))
    assert _tiles(_html(await visitor.get(page)))[0] == late
    assert json.loads((await visitor.get(api)).body)["items"][0]["id"] == late

    # A caption edited through the API.
    response = await admin.api("PATCH", f"{p}/api/v1/media/{ids[1]}", json_body={"caption": "Harbour at dawn"})
    assert response.code == 200, response.body
    assert 'data-caption="Harbour at dawn"' in _html(await visitor.get(page))
    assert "Harbour at dawn" in (await visitor.get(api)).body.decode()

    # The open album made private: gone for the visitor, still there for the admin.
    response = await admin.api("PATCH", f"{p}/api/v1/albums/{open_album['_id']}", json_body={"private": True})
    assert response.code == 200, response.body
    html = _html(await visitor.get(page))
    assert not set(_tiles(html)) & {late, *ids} and "Nothing to show yet" in html
    assert json.loads((await visitor.get(api)).body)["items"] == []
    assert set(_tiles(_html(await admin.get(page)))) == {late, *ids, secret}

    # And open again: back at once.
    await apply_private(ctx, await albums.get_album(ctx, hidden["_id"]), False)
    assert secret in _tiles(_html(await visitor.get(page)))


async def test_viewers_of_different_classes_never_get_each_others_page(app, make_gallery, viewer_of, make_jpeg):
    g, _open_album, _hidden, ids, secret, _role = await _world(make_gallery, viewer_of, make_jpeg)
    p = g["prefix"]
    admin, friend, visitor = app.browser(), app.browser(), app.browser()
    await admin.login(p, "admin", g["password"])
    await friend.login(p, "friend", PASSWORD)
    # The admin fills the cache first (page and answer); nobody else may be given them.
    for url in (f"{p}/timeline", f"{p}/api/v1/timeline?limit=10"):
        for _ in range(2):
            assert secret in (await admin.get(url)).body.decode()
        for _ in range(2):
            seen = (await visitor.get(url)).body.decode()
            assert secret not in seen and all(i in seen for i in ids), url
        for _ in range(2):
            seen = (await friend.get(url)).body.decode()
            assert secret in seen and not any(i in seen for i in ids), url
    # The scrubber counts what each may see (its rendering is kept too: handlers/timeline.py).
    for browser, count in ((admin, 4), (visitor, 3), (friend, 1), (admin, 4)):
        assert f'May 2024 <span class="muted">{count}</span>' in _html(await browser.get(f"{p}/timeline?month=2024-05"))
    # The layout stays each visitor's own: a name and XSRF form for the signed-in only.
    friend_html, admin_html = _html(await friend.get(f"{p}/timeline")), _html(await admin.get(f"{p}/timeline"))
    assert ">friend</a>" in friend_html and ">admin</a>" not in friend_html
    assert ">admin</a>" in admin_html and 'name="_xsrf"' in admin_html
    assert 'name="_xsrf"' not in _html(await visitor.get(f"{p}/timeline"))


async def test_a_role_change_shows_on_the_next_request(app, make_gallery, viewer_of, make_jpeg):
    g, _open_album, hidden, _ids, secret, role = await _world(make_gallery, viewer_of, make_jpeg)
    p, ctx = g["prefix"], g["ctx"]
    friend = app.browser()
    await friend.login(p, "friend", PASSWORD)
    page = f"{p}/timeline"
    assert _tiles(await _prove_kept(g, friend, page, secret)) == [secret]

    await roles.update_role(ctx, role["_id"], permissions=[])
    html = _html(await friend.get(page))
    assert secret not in html and "Nothing to show yet" in html
    await roles.update_role(ctx, role["_id"], permissions=["view"], album_ids=[hidden["_id"]])
    assert _tiles(_html(await friend.get(page))) == [secret]


async def test_each_language_gets_its_own_page_and_a_members_choice_shows_at_once(
    app, make_gallery, viewer_of, make_jpeg
):
    g, _open_album, _hidden, ids, _secret, _role = await _world(make_gallery, viewer_of, make_jpeg)
    p, ctx = g["prefix"], g["ctx"]
    authenticated = await ctx.db.roles.find_one({"builtin": "authenticated"})
    for name in ("anna", "bert"):  # one visibility class: one page each language
        await create_user(ctx, name, f"{name}@kept.test", PASSWORD, role_ids=[authenticated["_id"]])
    anna, bert = app.browser(), app.browser()
    await anna.login(p, "anna", PASSWORD)
    await bert.login(p, "bert", PASSWORD)
    await ctx.db.users.update_one({"username": "anna"}, {"$set": {"language": "de"}})
    page = f"{p}/timeline"
    german = await _prove_kept(g, anna, page, ids[0], headers=ENGLISH)
    assert '<html lang="de"' in german and "Alles, was Sie hier sehen dürfen" in german
    english = _html(await bert.get(page, headers=ENGLISH))  # right after: the German body is kept
    assert "Everything you may see here" in english and "Alles, was Sie" not in english
    assert "Mai 2024" not in english and "May 2024" in english

    # Anna goes back to her browser's language on the account page: English on the next page.
    saved = await anna.post_form(f"{p}/account", {"action": "language", "language": ""}, headers=ENGLISH)
    assert saved.code == 200, saved.body[:300]
    html = _html(await anna.get(page, headers=ENGLISH))
    assert '<html lang="en"' in html and "Everything you may see here" in html and "Alles" not in html


async def test_the_kept_scrubber_marks_each_pages_own_month(app, make_gallery, viewer_of, make_jpeg):
    g, open_album, _hidden, _ids, _secret, _role = await _world(make_gallery, viewer_of, make_jpeg)
    await _dated(g["ctx"], open_album, make_jpeg, "older.jpg", datetime(2019, 8, 9, tzinfo=UTC))
    visitor = app.browser()
    await visitor.get(f"{g['prefix']}/api/v1/timeline/months")  # counted before the pages
    for month, year, other in (("2024-05", "2024", "2019-08"), ("2019-08", "2019", "2024-05"),
                               ("2024-05", "2024", "2019-08")):
        html = _html(await visitor.get(f"{g['prefix']}/timeline?month={month}"))
        marked = re.findall(r'href="[^"]*month=([0-9-]+)" aria-current="true"', html)
        assert marked == [month], (month, marked)
        opened = re.findall(r'<details open>\s*<summary><span>([0-9]+)</span>', html)
        assert opened == [year] and other not in marked


async def test_a_kept_whole_page_follows_the_settings_of_its_layout(app, make_gallery, viewer_of, make_jpeg):
    """A visitor who is not signed in gets the whole page from the cache (handlers/timeline.py):
    the gallery's title and its sign-in link, which only the layout shows, change at once."""
    from gallery.settings import update_settings

    g, _open_album, _hidden, ids, _secret, _role = await _world(make_gallery, viewer_of, make_jpeg)
    visitor, admin = app.browser(), app.browser()
    await admin.login(g["prefix"], "admin", g["password"])
    page = f"{g['prefix']}/timeline"
    before = await _prove_kept(g, visitor, page, ids[0])
    assert ">Sign in</a>" in before and "<title>Timeline · Harbour Lights</title>" not in before

    await update_settings(g["ctx"], {"gallery_title": "Harbour Lights", "show_login": False})
    html = _html(await visitor.get(page))
    assert "<title>Timeline · Harbour Lights</title>" in html and ">Sign in</a>" not in html
    assert _tiles(html) == _tiles(before)
    # The admin, signed in, still gets a layout of their own around the same body.
    mine = _html(await admin.get(page))
    assert ">admin</a>" in mine and 'name="_xsrf"' in mine and ">admin</a>" not in _html(await visitor.get(page))


async def test_a_members_kept_layout_is_their_own_with_a_working_form_each_time(
    app, make_gallery, viewer_of, make_jpeg
):
    """Signed in, the layout around the kept body is kept per member (handlers/timeline.py
    members_page): two members of one role see their own names, a rename shows at once, and
    each page carries a new XSRF token that signs out."""
    g, _open_album, _hidden, ids, _secret, _role = await _world(make_gallery, viewer_of, make_jpeg)
    p, ctx = g["prefix"], g["ctx"]
    authenticated = await ctx.db.roles.find_one({"builtin": "authenticated"})
    browsers = {}
    for name in ("anna", "bert"):
        await create_user(ctx, name, f"{name}@kept.test", PASSWORD, role_ids=[authenticated["_id"]])
        browsers[name] = app.browser()
        await browsers[name].login(p, name, PASSWORD)
    page = f"{p}/timeline"
    await _prove_kept(g, browsers["anna"], page, ids[0])
    for _ in range(2):
        for name, other in (("anna", "bert"), ("bert", "anna")):
            html = _html(await browsers[name].get(page))
            assert f">{name}</a>" in html and f">{other}</a>" not in html and "<!--atrium:" not in html
            assert set(ids) <= set(_tiles(html))

    await ctx.db.users.update_one({"username": "bert"}, {"$set": {"username": "bertram"}})
    assert ">bertram</a>" in _html(await browsers["bert"].get(page))

    tokens = [re.search(r'name="_xsrf" value="([^"]+)"', _html(await browsers["anna"].get(page))).group(1)
              for _ in range(2)]
    assert tokens[0] != tokens[1]
    signed_out = await browsers["anna"].request("POST", f"{p}/logout", form={"_xsrf": tokens[1]})
    assert signed_out.code in (200, 302), signed_out.code
    assert ">anna</a>" not in _html(await browsers["anna"].get(page))
