"""The trash over HTTP (issue 17, item 7): a trashed item or album is gone from every GET
route of the gallery (swept from handlers.ROUTE_MODULES_TENANT, as test_share_scope does),
even for the administrator; the Trash page shows members only what they deleted and lets
no one else (nor another gallery's ids) restore it; a restore racing a delete for good
ends one way, whole."""

from __future__ import annotations

import asyncio
import json

import pytest

from gallery.people.roles import create_role
from gallery.people.users import create_user
from gallery.settings import update_settings
from tests.client import text
from tests.handlers.share_setup import PASSWORD, build
from tests.handlers.test_share_scope import every_get_path, sweep


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


async def _signed_in(app, prefix: str, username: str, password: str):
    browser = app.browser()
    assert (await browser.login(prefix, username, password)).code == 302
    return browser


async def _post(browser, prefix: str, path: str, *, json_answer: bool = True):
    if browser.xsrf(prefix + "/") is None:
        await browser.get(prefix + "/login")
    headers = {"Accept": "application/json"} if json_answer else {}
    return await browser.post_form(prefix + path, {}, headers=headers)


async def test_trashed_things_leave_every_route_and_only_their_deleter_gets_them_back(
        app, make_gallery, viewer_of, make_jpeg):
    s = await build(app, make_gallery, viewer_of, make_jpeg)
    g, ctx, made, media, admin = s["g"], s["ctx"], s["albums"], s["media"], s["admin"]
    prefix = g["prefix"]
    cleaners = await create_role(ctx, "Cleaners", ["view", "add_media", "delete_media"],
                                 [made["shared"]["_id"]])
    await create_user(ctx, "dora", "dora@example.org", PASSWORD, role_ids=[cleaners["_id"]])
    dora = await _signed_in(app, prefix, "dora", PASSWORD)
    lola = await _signed_in(app, prefix, "lola", PASSWORD)

    gone = await admin.api("DELETE", f"{prefix}/api/v1/media/{media['zetachild']}")
    assert gone.code == 200 and json.loads(gone.body)["trashed"] is True
    gone = await admin.api("DELETE", f"{prefix}/api/v1/albums/{made['sibling']['_id']}")
    assert json.loads(gone.body) == {"deleted": {"albums": 1, "media": 1}, "trashed": True}
    # Even the administrator finds neither anywhere but on the Trash page (and the log).
    ids = [a["_id"] for a in made.values()] + list(media.values())
    paths = [p for p in every_get_path(ids, list(media.values()))
             if not p.startswith(("/trash", "/admin/events"))]
    # (The album "Zetachild Album" stays: only its item went, by title, tag and file name.)
    await sweep(admin, prefix, paths, ("zetachild photo", "zetachildtag", "zetachild.jpg", "zetasibling"),
                {media["zetachild"], media["zetasibling"]})
    page = await admin.get(f"{prefix}/trash")
    assert "Zetachild photo" in text(page) and "Zetasibling Album" in text(page)
    entries = {e["title"]: e async for e in ctx.db.trash.find({})}
    thumb = await admin.get(f"{prefix}/trash/{entries['Zetachild photo']['_id']}/thumbnail")
    assert thumb.code == 200 and thumb.body[:2] == b"\xff\xd8"

    # A member sees and restores only what they deleted.
    done = await dora.api("DELETE", f"{prefix}/api/v1/media/{media['lighthouse']}")
    assert done.code == 200, text(done)
    mine = text(await dora.get(f"{prefix}/trash"))
    assert "Lighthouse photo" in mine and "Zetachild" not in mine
    assert "Lighthouse" not in text(await lola.get(f"{prefix}/trash"))
    entry = await ctx.db.trash.find_one({"title": "Lighthouse photo"})
    for other in (lola, app.browser()):
        for action in ("restore", "delete"):
            refused = await _post(other, prefix, f"/trash/{entry['_id']}/{action}")
            assert refused.code in (302, 404), (action, refused.code)  # 302: to sign in
        assert (await other.get(f"{prefix}/trash/{entry['_id']}/thumbnail")).code in (302, 404)
    assert (await ctx.db.trash.find_one({"_id": entry["_id"]}))["state"] == "trashed"
    assert (await _post(dora, prefix, f"/trash/{entries['Zetachild photo']['_id']}/restore")).code == 404
    assert (await _post(dora, prefix, "/trash/empty")).code == 404
    back = await _post(dora, prefix, f"/trash/{entry['_id']}/restore")
    assert back.code == 200 and json.loads(back.body)["url"].endswith(f"/media/{media['lighthouse']}")
    shown = await lola.get(f"{prefix}/media/{media['lighthouse']}/optimized")
    assert shown.code == 200 and shown.body[:2] == b"\xff\xd8"

    # Another gallery's entry ids open nothing here.
    other = await build(app, make_gallery, viewer_of, make_jpeg, slug="beta", process=(), people=False)
    beta_admin = await _signed_in(app, "/g/beta", "admin", other["g"]["password"])
    assert (await beta_admin.api("DELETE", f"/g/beta/api/v1/media/{other['media']['pelican']}")).code == 200
    foreign = await other["ctx"].db.trash.find_one({})
    for action in ("restore", "delete"):
        assert (await _post(admin, prefix, f"/trash/{foreign['_id']}/{action}")).code == 404
    assert (await admin.get(f"{prefix}/trash/{foreign['_id']}/thumbnail")).code == 404
    assert await other["ctx"].db.trash.count_documents({"state": "trashed"}) == 1

    # Restore (the member) and delete for good (the administrator) racing: one wins, whole.
    await dora.api("DELETE", f"{prefix}/api/v1/media/{media['lighthouse']}")
    entry = await ctx.db.trash.find_one({"title": "Lighthouse photo"})
    answers = await asyncio.gather(
        _post(dora, prefix, f"/trash/{entry['_id']}/restore"),
        _post(admin, prefix, f"/trash/{entry['_id']}/delete"))
    assert sorted(a.code for a in answers) in ([200, 409], [200, 404]), [a.code for a in answers]
    doc = await ctx.db.media.find_one({"_id": media["lighthouse"]})
    if doc is not None:
        assert ctx.storage.resolve(doc["original"]["path"]).is_file()
    assert await ctx.db.trash.count_documents({"title": "Lighthouse photo"}) == 0

    # Administrators empty it; with trash_days 0 deleting is for good at once.
    emptied = await _post(admin, prefix, "/trash/empty", json_answer=False)
    assert emptied.code == 302 and await ctx.db.trash.count_documents({}) == 0
    await update_settings(ctx, {"trash_days": 0})
    gone = await admin.api("DELETE", f"{prefix}/api/v1/media/{media['pelican']}")
    assert json.loads(gone.body)["trashed"] is False and await ctx.db.trash.count_documents({}) == 0
