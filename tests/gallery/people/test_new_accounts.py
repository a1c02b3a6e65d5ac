"""What a new account starts with (issue 18, item 4): the roles the admin chose for new
accounts (at registration, through the API and ticked on the users page), never an
administrators' role, unknown or foreign role ids dropped; personal albums named from
templates, and made for new accounts or given per account."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from gallery.errors import Invalid
from gallery.people import account_admin, registration
from gallery.people.roles import create_role
from gallery.settings import get_settings, update_settings, validate
from gallery.urls import TenantUrls
from tests.client import text

PASSWORD = "Violet-Tuba-Lantern-42"
URLS = TenantUrls(prefix="/g/alpha", origin="http://127.0.0.1")


async def _register(ctx, name):
    settings = {**await get_settings(ctx), "allow_registration": True,
                "require_email_verification": False}
    form = {"username": name, "email": f"{name}@example.org", "password": PASSWORD,
            "password2": PASSWORD}
    return await registration.register(ctx, settings, form, urls=URLS)


async def test_default_roles_are_given_to_new_accounts(app, make_gallery):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    members = await create_role(ctx, "Members", ["view", "add_media"], [])
    authenticated = await ctx.db.roles.find_one({"builtin": "authenticated"})
    # Nothing chosen: Authenticated Users, as before.
    assert (await _register(ctx, "ann"))["role_ids"] == [authenticated["_id"]]

    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    page = text(await admin.get(g["prefix"] + "/admin/settings"))
    assert f'name="default_role_ids" value="{members["_id"]}" >' in page
    admin_role = await ctx.db.roles.find_one({"builtin": "administrators"})
    assert f'value="{admin_role["_id"]}"' not in page.split('id="label-default_role_ids"')[1].split("</div>")[0]
    from tests.handlers.test_settings_page import form_of

    saved = await admin.post_form(g["prefix"] + "/admin/settings", form_of(
        await get_settings(ctx), default_role_ids=[members["_id"], authenticated["_id"]]))
    assert saved.code == 200
    assert (await _register(ctx, "bea"))["role_ids"] == [members["_id"], authenticated["_id"]]

    # The users page ticks them in advance; the API applies them when role_ids is left out.
    users = text(await admin.get(g["prefix"] + "/admin/users"))
    ticked = re.findall(r'name="role_ids" value="([0-9a-f]{24})" checked', users)
    assert ticked == [r for r in [authenticated["_id"], members["_id"]] if r in ticked] and len(ticked) == 2
    made = await admin.api("POST", g["prefix"] + "/api/v1/users",
                           {"username": "cid", "email": "cid@example.org", "password": PASSWORD})
    assert made.code in (200, 201), text(made)
    cid = await ctx.db.users.find_one({"username": "cid"})
    assert cid["role_ids"] == [members["_id"], authenticated["_id"]]


async def test_hostile_default_roles_are_refused_and_never_applied(app, make_gallery):
    g = await make_gallery("alpha")
    beta = await make_gallery("beta", "Beta")
    ctx = g["ctx"]
    admin_role = await ctx.db.roles.find_one({"builtin": "administrators"})
    beta_role = await beta["ctx"].db.roles.find_one({"builtin": "authenticated"})
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    from tests.handlers.test_settings_page import form_of

    before = await get_settings(ctx)
    for hostile in ([admin_role["_id"]], [beta_role["_id"]], ["0" * 24], ["not-an-id"],
                    [f"{i:024x}" for i in range(300)]):
        response = await admin.post_form(g["prefix"] + "/admin/settings",
                                         form_of(before, default_role_ids=hostile))
        assert response.code == 400, hostile[:1]
        assert re.search(r'<div class="setting has-error">\s*<span class="setting-label" id="label-default_role_ids"',
                         text(response))
    assert await get_settings(ctx) == before
    # Stored anyway (an old backup, a hand-edited database): registration still never
    # makes an administrator and drops what is not a role here.
    await ctx.db.settings.update_one(
        {"_id": "gallery"},
        {"$set": {"values.default_role_ids": [admin_role["_id"], beta_role["_id"], "x"]}},
        upsert=True,
    )
    ctx.settings_cache = None
    authenticated = await ctx.db.roles.find_one({"builtin": "authenticated"})
    assert (await _register(ctx, "eve"))["role_ids"] == [authenticated["_id"]]


async def test_personal_album_templates_and_the_per_account_switch(app, make_gallery):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    with pytest.raises(Invalid):
        validate({"user_album_title_template": "{username.__class__.__mro__}"})
    with pytest.raises(Invalid):
        validate({"user_album_summary_template": "{0}{email}"})
    with pytest.raises(Invalid):
        validate({"user_album_title_template": ""})
    await update_settings(ctx, {
        "user_albums": True,
        "user_album_title_template": "Album of {username}",
        "user_album_summary_template": "Photos by {username} since {date}; {not a placeholder",
    })
    ann = await _register(ctx, "ann")
    album = await ctx.db.albums.find_one({"user_album_of": ann["_id"]})
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert album["title"] == "Album of ann"
    assert album["summary"] == f"Photos by ann since {today}; {{not a placeholder"

    # Off for new accounts: none made, until an administrator gives one.
    await update_settings(ctx, {"user_album_for_new_accounts": False})
    bob = await _register(ctx, "bob")
    assert await ctx.db.albums.count_documents({"user_album_of": bob["_id"]}) == 0
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    page = text(await admin.get(f"{g['prefix']}/admin/users/{bob['_id']}"))
    assert "Give a personal album" in page
    given = await admin.post_form(f"{g['prefix']}/admin/users/{bob['_id']}", {"action": "user_album"})
    assert given.code in (200, 302)
    album = await ctx.db.albums.find_one({"user_album_of": bob["_id"]})
    assert album["title"] == "Album of bob"
    page = text(await admin.get(f"{g['prefix']}/admin/users/{bob['_id']}"))
    assert "Give a personal album" not in page
    admin_user = await ctx.db.users.find_one({"username": "admin"})
    assert admin_user.get("album_id") is None  # nobody else got one on the way
    await account_admin.admin_give_album(ctx, await get_settings(ctx), admin_user, bob["_id"])
    assert await ctx.db.albums.count_documents({"user_album_of": bob["_id"]}) == 1  # not twice
