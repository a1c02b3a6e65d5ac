"""The admin pages (users, roles, event log) and the user's own account pages over HTTP."""

from __future__ import annotations

import re

from gallery.settings import update_settings
from tests.client import text

PASSWORD = "Violet-Tuba-Lantern-42"


async def _admin_browser(app, gallery):
    browser = app.browser()
    assert (await browser.login(gallery["prefix"], "admin", gallery["password"])).code == 302
    return browser


async def _create_user(admin, p, username, email, role_ids=()):
    response = await admin.post_form(
        p + "/admin/users",
        {"username": username, "email": email, "password": PASSWORD, "role_ids": list(role_ids)},
    )
    assert response.code == 302, text(response)
    return response.headers["Location"].split("?")[0]


async def test_admin_manages_users_and_every_action_is_logged(app, make_gallery):
    gallery = await make_gallery("alpha")
    p, ctx = gallery["prefix"], gallery["ctx"]
    admin = await _admin_browser(app, gallery)
    user_url = await _create_user(admin, p, "<i>bob</i>", "bob@example.org")
    listing = await admin.get(p + "/admin/users?q=BOB")
    assert "&lt;i&gt;bob&lt;/i&gt;" in text(listing) and "<i>bob</i>" not in text(listing)
    assert "admin@alpha.test" not in text(listing), "search filters"
    bob = app.browser()
    assert (await bob.login(p, "<i>bob</i>", PASSWORD)).code == 302

    assert "disabled" in text(await admin.post_form(user_url, {"action": "disable"}))
    assert (await bob.get(p + "/account")).code == 302, "disabling ends the sessions"
    assert (await app.browser().login(p, "<i>bob</i>", PASSWORD)).code == 403
    await admin.post_form(user_url, {"action": "enable"})
    role = await ctx.db.roles.find_one({"builtin": "authenticated"})
    saved = await admin.post_form(user_url, {"action": "roles", "role_ids": [role["_id"]]})
    assert "Roles saved" in text(saved)
    assert (await admin.post_form(user_url, {"action": "email", "email": "nope"})).code == 400
    await admin.post_form(user_url, {"action": "reset"})
    assert await ctx.db.outbox.count_documents({"template": "reset", "to": "bob@example.org"}) == 1
    deleted = await admin.post_form(user_url, {"action": "delete"})
    assert (
        deleted.code == 302 and await ctx.db.users.count_documents({"username": "<i>bob</i>"}) == 0
    )

    log = text(await admin.get(p + "/admin/events?kind=account&q=bob"))
    for words in (
        "created by admin",
        "disabled by admin",
        "enabled by admin",
        "Roles of",
        "reset link sent",
        "deleted by admin",
    ):
        assert words in log, words
    assert PASSWORD not in log
    cleared = await admin.post_form(p + "/admin/events", {"action": "clear"})
    assert "entries cleared" in text(cleared)
    assert await ctx.db.events.count_documents({}) == 1  # the clearing itself


async def test_roles_are_edited_with_the_album_tree_and_forged_ids_are_refused(app, make_gallery):
    alpha = await make_gallery("alpha")
    beta = await make_gallery("beta", "Beta")
    p, ctx = alpha["prefix"], alpha["ctx"]
    admin = await _admin_browser(app, alpha)
    root = await ctx.db.albums.find_one({"parent_id": None})
    page = await admin.get(p + "/admin/roles")
    assert f'value="{root["_id"]}"' in text(page), "the album tree lists the albums"
    made = await admin.post_form(
        p + "/admin/roles",
        {"name": "Editors", "permissions": ["view", "edit_media"], "album_ids": [root["_id"]]},
    )
    assert made.code == 302
    role_url = made.headers["Location"]
    role = await ctx.db.roles.find_one({"name": "Editors"})
    assert role["permissions"] == ["view", "edit_media"] and role["album_ids"] == [root["_id"]]

    beta_root = await beta["ctx"].db.albums.find_one({"parent_id": None})
    forged = await admin.post_form(
        role_url, {"name": "Editors", "permissions": ["view"], "album_ids": [beta_root["_id"]]}
    )
    assert forged.code == 400 and "Unknown album" in text(forged)
    assert (await ctx.db.roles.find_one({"_id": role["_id"]}))["album_ids"] == [root["_id"]]

    admin_role = await ctx.db.roles.find_one({"builtin": "administrators"})
    refused = await admin.post_form(p + f"/admin/roles/{admin_role['_id']}", {"action": "delete"})
    assert refused.code == 409 and "at least one active administrator" in text(refused)
    gone = await admin.post_form(role_url, {"action": "delete"})
    assert gone.code == 302 and await ctx.db.roles.count_documents({"_id": role["_id"]}) == 0
    assert (await admin.get(p + f"/admin/roles/{beta_root['_id']}")).code == 404


async def test_admin_pages_need_an_administrator_and_forms_need_xsrf(app, make_gallery):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    admin = await _admin_browser(app, gallery)
    await _create_user(admin, p, "plain", "plain@example.org")
    user = app.browser()
    await user.login(p, "plain", PASSWORD)
    for path in ("/admin/users", "/admin/roles", "/admin/events", "/admin/email"):
        assert (await user.get(p + path)).code == 403, path
        assert (await app.browser().get(p + path)).code == 302, path
    no_token = await admin.post_form(
        p + "/admin/users",
        {"username": "x", "email": "x@example.org", "password": PASSWORD},
        with_xsrf=False,
        expect_xsrf_refusal=True,
    )
    assert no_token.code == 403
    assert await gallery["ctx"].db.users.count_documents({"username": "x"}) == 0


async def test_failed_sign_ins_lock_the_account_until_an_admin_unlocks_it(app, make_gallery):
    gallery = await make_gallery("alpha")
    p, ctx = gallery["prefix"], gallery["ctx"]
    await update_settings(ctx, {"lockout_attempts": 3})
    admin = await _admin_browser(app, gallery)
    user_url = await _create_user(admin, p, "carol", "carol@example.org")
    guesser = app.browser()
    for _ in range(3):
        assert (await guesser.login(p, "carol", "wrong-password-1")).code == 401
    locked = await guesser.login(p, "carol", PASSWORD)
    assert locked.code == 403 and "locked" in text(locked)
    page = await admin.get(user_url)
    assert "locked until" in text(page)
    await admin.post_form(user_url, {"action": "unlock"})
    assert (await guesser.login(p, "carol", PASSWORD)).code == 302
    log = text(await admin.get(p + "/admin/events"))
    assert "Failed sign-in as &#x27;carol&#x27;" in log and "locked after failed sign-ins" in log


async def test_one_address_gets_429_after_too_many_failures(app, make_gallery):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    await update_settings(gallery["ctx"], {"login_ip_attempts": 4})
    guesser = app.browser()
    await guesser.get(p + "/login")
    for i in range(4):
        attempt = await guesser.post_form(
            p + "/login", {"login": f"nobody{i}", "password": "wrong-password-1"}
        )
        assert attempt.code == 401
    throttled = await guesser.login(p, "admin", gallery["password"])
    assert throttled.code == 429 and "Too many failed sign-ins" in text(throttled)


async def test_users_change_their_password_see_and_revoke_sessions_and_delete_themselves(
    app, make_gallery
):
    gallery = await make_gallery("alpha")
    p, ctx = gallery["prefix"], gallery["ctx"]
    admin = await _admin_browser(app, gallery)
    await _create_user(admin, p, "dave", "dave@example.org")
    laptop, phone, tablet = app.browser(), app.browser(), app.browser()
    for device in (laptop, phone, tablet):
        assert (await device.login(p, "dave", PASSWORD)).code == 302
    page = text(await laptop.get(p + "/account"))
    assert page.count("this session") == 1 and page.count('name="sid"') == 2
    sid = re.search(r'name="sid" value="([0-9a-f]{24})"', page).group(1)
    await laptop.post_form(p + "/account", {"action": "revoke", "sid": sid})
    alive = [(await d.get(p + "/account")).code for d in (phone, tablet)]
    assert sorted(alive) == [200, 302]

    wrong = await laptop.post_form(
        p + "/account",
        {
            "action": "password",
            "current": "nope",
            "password": PASSWORD + "!",
            "password2": PASSWORD + "!",
        },
    )
    assert wrong.code == 400 and "current password is not right" in text(wrong)
    changed = await laptop.post_form(
        p + "/account",
        {
            "action": "password",
            "current": PASSWORD,
            "password": "Amber-Otter-Sails-77",
            "password2": "Amber-Otter-Sails-77",
        },
    )
    assert changed.code == 200 and "other sessions were signed out" in text(changed)
    assert (await phone.get(p + "/account")).code == 302 and (
        await tablet.get(p + "/account")
    ).code == 302
    assert (await laptop.get(p + "/account")).code == 200
    assert (
        await ctx.db.outbox.count_documents(
            {"template": "password_changed", "to": "dave@example.org"}
        )
        == 1
    )

    gone = await laptop.post_form(
        p + "/account", {"action": "delete", "current": "Amber-Otter-Sails-77"}
    )
    assert gone.code == 200 and "Account deleted" in text(gone)
    assert await ctx.db.users.count_documents({"username": "dave"}) == 0
    last_admin = await admin.post_form(
        p + "/account", {"action": "delete", "current": gallery["password"]}
    )
    assert last_admin.code == 409
