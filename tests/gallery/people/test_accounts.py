"""Account rules in the gallery layer: last administrator, lockout, look-alike names, races,
forged ids, personal albums, the event log's size and secrets at rest."""

from __future__ import annotations

import asyncio

import pytest

from gallery.errors import Conflict, Invalid
from gallery.notices.events import list_events, record_event
from gallery.people import account_admin, lockout, registration
from gallery.people.roles import create_role, delete_role, update_role
from gallery.people.users import create_user
from gallery.settings import get_settings, update_settings
from gallery.urls import TenantUrls
from keys.sealed import decrypt_secret, encrypt_secret

PASSWORD = "Violet-Tuba-Lantern-42"
URLS = TenantUrls(prefix="/g/alpha", origin="http://127.0.0.1")


async def _admin(ctx):
    return await ctx.db.users.find_one({"username": "admin"})


async def test_the_last_administrator_role_and_user_cannot_be_removed(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    admin = await _admin(ctx)
    admin_role = await ctx.db.roles.find_one({"builtin": "administrators"})
    with pytest.raises(Conflict):
        await delete_role(ctx, admin_role["_id"])
    with pytest.raises(Conflict):
        await update_role(ctx, admin_role["_id"], permissions=["view"])
    with pytest.raises(Conflict):
        await account_admin.admin_set_roles(ctx, admin, admin["_id"], [])
    with pytest.raises(Conflict):
        await account_admin.admin_set_disabled(ctx, admin, admin["_id"], True)
    with pytest.raises(Conflict):
        await account_admin.admin_delete_user(ctx, admin, admin["_id"])
    assert (await _admin(ctx))["status"] == "active" and await ctx.db.roles.count_documents(
        {"_id": admin_role["_id"]}
    )
    # With a second administrator role and member, the first may go.
    second_role = await create_role(
        ctx, "Deputies", ["administer_gallery"], [admin_role["album_ids"][0]]
    )
    deputy = await create_user(
        ctx, "deputy", "deputy@alpha.test", PASSWORD, role_ids=[second_role["_id"]]
    )
    await delete_role(ctx, admin_role["_id"])
    assert admin_role["_id"] not in (await _admin(ctx))["role_ids"]
    with pytest.raises(Conflict):
        await account_admin.admin_delete_user(ctx, admin, deputy["_id"])


async def test_accounts_lock_after_failures_in_the_window_and_unlock(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    settings = {"lockout_attempts": 3, "lockout_window_minutes": 15, "lockout_minutes": 15}
    limits = lockout.Limits.from_settings(settings)
    admin = await _admin(ctx)
    key = lockout.account_key(admin, "admin")
    for expected in (None, None):
        attempt = await lockout.begin_attempt(ctx.db, key, "192.0.2.1", limits)
        assert await attempt.failed() is expected
    attempt = await lockout.begin_attempt(ctx.db, key, "192.0.2.1", limits)
    until = await attempt.failed()
    assert until is not None and await lockout.lock_ends(ctx.db, key) is not None
    with pytest.raises(lockout.AccountLocked):
        await lockout.begin_attempt(ctx.db, key, "192.0.2.1", limits)
    await account_admin.admin_unlock(ctx, admin, admin["_id"])
    assert await lockout.lock_ends(ctx.db, key) is None
    assert lockout.locked_until(await _admin(ctx)) is None
    await lockout.begin_attempt(ctx.db, key, "192.0.2.1", limits)
    events, _ = await list_events(ctx, kind="account")
    assert any("unlocked by admin" in e["message"] for e in events)


async def test_look_alike_names_are_the_same_name(app, make_gallery):
    gallery = await make_gallery("alpha")
    with pytest.raises(Conflict):
        await create_user(gallery["ctx"], "ＡＤＭＩＮ", "other@alpha.test", PASSWORD)
    with pytest.raises(Conflict):
        await create_user(gallery["ctx"], "Admin", "other@alpha.test", PASSWORD)


@pytest.mark.parametrize(
    "field,value",
    [
        ("username", "x" * 65),
        ("email", "a" * 250 + "@x.org"),
        ("email", "not-an-address"),
        ("email", "a@b"),
        ("username", "bad\x00name"),
        ("password", "short1"),
    ],
)
async def test_bad_registrations_are_refused_and_nothing_is_created(
    app, make_gallery, field, value
):
    gallery = await make_gallery("alpha")
    form = {
        "username": "newbie",
        "email": "newbie@example.org",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    form[field] = value
    if field == "password":
        form["password2"] = value
    settings = {**await get_settings(gallery["ctx"]), "allow_registration": True}
    with pytest.raises(Invalid) as err:
        await registration.register(gallery["ctx"], settings, form, urls=URLS)
    assert field in err.value.field_errors
    assert await gallery["ctx"].db.users.count_documents({}) == 1
    assert await gallery["ctx"].db.outbox.count_documents({}) == 0


async def test_concurrent_registrations_of_one_name_make_exactly_one_account(app, make_gallery):
    gallery = await make_gallery("alpha")
    settings = {
        **await get_settings(gallery["ctx"]),
        "allow_registration": True,
        "require_email_verification": False,
    }

    async def attempt(i):
        form = {
            "username": "Twin" if i % 2 else "ｔｗｉｎ",
            "email": f"twin{i}@example.org",
            "password": PASSWORD,
            "password2": PASSWORD,
        }
        return await registration.register(gallery["ctx"], settings, form, urls=URLS)

    results = await asyncio.gather(*(attempt(i) for i in range(4)), return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, dict))
    assert await gallery["ctx"].db.users.count_documents({"username_key": "twin"}) == 1


async def test_ids_from_another_gallery_are_refused(app, make_gallery):
    alpha = await make_gallery("alpha")
    beta = await make_gallery("beta", "Beta")
    beta_root = await beta["ctx"].db.albums.find_one({"parent_id": None})
    beta_role = await beta["ctx"].db.roles.find_one({"builtin": "administrators"})
    ctx = alpha["ctx"]
    with pytest.raises(Invalid):
        await create_role(ctx, "Sneaky", ["view"], [beta_root["_id"]])
    with pytest.raises(Invalid):
        await create_role(ctx, "Sneaky", ["view", "fly"], [])
    admin = await _admin(ctx)
    with pytest.raises(Invalid):
        await account_admin.admin_set_roles(ctx, admin, admin["_id"], [beta_role["_id"]])
    assert await ctx.db.roles.count_documents({"name": "Sneaky"}) == 0
    assert beta_role["_id"] not in (await _admin(ctx))["role_ids"]


async def test_personal_albums_are_owned_and_removed_with_their_user(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(ctx, {"user_albums": True})
    settings = await get_settings(ctx)
    admin = await _admin(ctx)
    user = await account_admin.admin_create_user(
        ctx,
        settings,
        admin,
        {"username": "dora", "email": "dora@example.org", "password": PASSWORD},
        urls=URLS,
    )
    album = await ctx.db.albums.find_one({"user_album_of": user["_id"]})
    assert album["title"] == "dora" and album["owner_id"] == user["_id"]
    owner_role = await ctx.db.roles.find_one({"owner_album_id": album["_id"]})
    assert owner_role["_id"] in (await ctx.db.users.find_one({"_id": user["_id"]}))["role_ids"]
    await account_admin.admin_delete_user(ctx, admin, user["_id"])
    assert await ctx.db.albums.count_documents({"_id": album["_id"]}) == 0
    assert await ctx.db.roles.count_documents({"_id": owner_role["_id"]}) == 0


async def test_the_event_log_keeps_the_newest_entries_and_no_secrets(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    await update_settings(ctx, {"event_log_size": 100})
    await ctx.db.events.delete_many({})
    for i in range(105):
        await record_event(
            ctx, "test", f"entry {i}", details={"password": "hunter2", "reset_token": "t", "n": i}
        )
    events, total = await list_events(ctx, limit=200)
    assert total == 100
    assert events[0]["message"] == "entry 104" and events[-1]["message"] == "entry 5"
    assert all(set(e["details"]) == {"n"} for e in events)
    _found, count = await list_events(ctx, text="ENTRY 10")
    assert count == 6  # entry 10 and 100..104


async def test_secrets_round_trip_and_do_not_open_with_another_key(app, make_gallery):
    alpha = await make_gallery("alpha")
    beta = await make_gallery("beta", "Beta")
    sealed = encrypt_secret(alpha["ctx"], "smtp-pässword")
    assert "smtp" not in sealed and sealed != encrypt_secret(alpha["ctx"], "smtp-pässword")
    assert decrypt_secret(alpha["ctx"], sealed) == "smtp-pässword"
    assert decrypt_secret(beta["ctx"], sealed) == ""
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    assert decrypt_secret(alpha["ctx"], tampered) == ""


def test_every_email_template_renders_text_and_escaped_html():
    from gallery.notices.mail import SUBJECTS, render

    values = {
        "username": "<b>x</b>",
        "email": "x@example.org",
        "message": "<script>",
        "url": "/a",
        "event_id": "e1",
        "hours": 48,
        "links": {"events": "/admin/events"},
    }
    for name in ("install_url", "login_url", "verify_url", "reset_url", "forgot_url", "user_url"):
        values[name] = f"http://h/{name}?token=t&x=1"
    for template in SUBJECTS:
        subject, text_part, html_part = render(template, values, title="T & <Co>", urls=URLS)
        assert "T & <Co>" in subject and "\n" not in subject
        assert (
            "<b>x</b>" not in html_part
            and "<script>" not in html_part
            and "T &amp; &lt;Co&gt;" in html_part
        )
        assert "{{" not in text_part and "{%" not in text_part
