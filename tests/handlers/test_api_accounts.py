"""The accounts API: /api/v1/me (own account, password, sessions) and /api/v1/users for
administrators, with the same rules (and event log) as the pages."""

from __future__ import annotations

import json

from gallery.notices.events import list_events

PASSWORD = "Violet-Tuba-Lantern-42"
NEW_PASSWORD = "Amber-Kettle-Harbour-77"


def _json(response):
    return json.loads(response.body)


async def _admin(app, make_gallery):
    g = await make_gallery("alpha")
    browser = app.browser()
    await browser.login(g["prefix"], "admin", g["password"])
    return g, browser, f"{g['prefix']}/api/v1"


async def _make_user(b, api, name="dora", **extra):
    body = {"username": name, "email": f"{name}@example.org", "password": PASSWORD, **extra}
    response = await b.api("POST", f"{api}/users", body)
    assert response.code == 201, response.body
    return _json(response)["user"]


async def test_me_needs_a_session_and_never_shows_secrets(app, make_gallery):
    _g, b, api = await _admin(app, make_gallery)
    anonymous = await app.browser().get(f"{api}/me")
    assert anonymous.code == 401 and _json(anonymous)["error"]["code"]
    me = await b.get(f"{api}/me")
    assert me.code == 200
    user = _json(me)["user"]
    assert user["username"] == "admin" and user["is_admin"] is True
    assert "password" not in me.body.decode() and "hash" not in me.body.decode()


async def test_sessions_are_listed_and_revoked_one_by_one_or_all_others(app, make_gallery):
    g, first, api = await _admin(app, make_gallery)
    second, third = app.browser(), app.browser()
    for b in (second, third):
        await b.login(g["prefix"], "admin", g["password"])
    listed = _json(await first.get(f"{api}/me/sessions"))["items"]
    assert len(listed) == 3 and sum(s["current"] for s in listed) == 1
    mine = next(s for s in listed if s["current"])
    second_sid = next(
        s["id"] for s in _json(await second.get(f"{api}/me/sessions"))["items"] if s["current"]
    )
    revoked = await first.api("DELETE", f"{api}/me/sessions/{second_sid}")
    assert revoked.code == 200
    assert (await second.get(f"{api}/me")).code == 401
    assert (await first.api("DELETE", f"{api}/me/sessions/{second_sid}")).code == 404
    # Without the XSRF header a write is refused and nothing changes.
    forged = await first.request("DELETE", f"{api}/me/sessions", expect_xsrf_refusal=True)
    assert forged.code == 403 and (await third.get(f"{api}/me")).code == 200
    others = await first.api("DELETE", f"{api}/me/sessions")
    assert _json(others) == {"revoked": 1}
    assert (await third.get(f"{api}/me")).code == 401
    left = _json(await first.get(f"{api}/me/sessions"))["items"]
    assert [s["id"] for s in left] == [mine["id"]]


async def test_password_change_needs_the_current_one_and_ends_other_sessions(app, make_gallery):
    g, b, api = await _admin(app, make_gallery)
    other = app.browser()
    await other.login(g["prefix"], "admin", g["password"])
    wrong = await b.api(
        "POST",
        f"{api}/me/password",
        {"current": "nope", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert wrong.code == 400 and "current" in _json(wrong)["error"]["fields"]
    weak = await b.api(
        "POST",
        f"{api}/me/password",
        {"current": g["password"], "password": "short", "password2": "short"},
    )
    assert weak.code == 400 and "password" in _json(weak)["error"]["fields"]
    assert (await other.get(f"{api}/me")).code == 200
    done = await b.api(
        "POST",
        f"{api}/me/password",
        {"current": g["password"], "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.code == 200
    assert (await b.get(f"{api}/me")).code == 200
    assert (await other.get(f"{api}/me")).code == 401
    fresh = app.browser()
    await fresh.login(g["prefix"], "admin", NEW_PASSWORD)
    assert (await fresh.get(f"{api}/me")).code == 200


async def test_administrators_manage_users_and_every_action_is_logged(app, make_gallery):
    g, b, api = await _admin(app, make_gallery)
    roles = _json(await b.get(f"{api}/roles"))["items"]
    authenticated = next(r for r in roles if r["builtin"] == "authenticated")
    administrators = next(r for r in roles if r["builtin"] == "administrators")
    dora = await _make_user(b, api, role_ids=[authenticated["id"]])
    assert dora["role_ids"] == [authenticated["id"]] and dora["status"] == "active"
    await _make_user(b, api, "edgar")

    found = _json(await b.get(f"{api}/users?q=DOR"))
    assert found["total"] == 1 and found["items"][0]["username"] == "dora"
    assert (await b.get(f"{api}/users?limit=0")).code == 400

    # Dora signs in; she is not an administrator.
    dora_browser = app.browser()
    await dora_browser.login(g["prefix"], "dora", PASSWORD)
    assert (await dora_browser.get(f"{api}/users")).code == 403
    assert (await dora_browser.api("DELETE", f"{api}/users/{dora['id']}")).code == 403
    assert (await app.browser().get(f"{api}/users")).code == 401

    changed = await b.api(
        "PATCH",
        f"{api}/users/{dora['id']}",
        {"role_ids": [authenticated["id"], administrators["id"]], "email": "Dora@Example.ORG"},
    )
    assert changed.code == 200
    user = _json(changed)["user"]
    assert set(user["role_ids"]) == {authenticated["id"], administrators["id"]}
    assert user["email"] == "Dora@example.org"
    assert _json(await dora_browser.get(f"{api}/me"))["user"]["is_admin"] is True

    disabled = await b.api("PATCH", f"{api}/users/{dora['id']}", {"disabled": True})
    assert _json(disabled)["user"]["status"] == "disabled"
    assert (await dora_browser.get(f"{api}/me")).code == 401
    enabled = await b.api("PATCH", f"{api}/users/{dora['id']}", {"disabled": False})
    assert _json(enabled)["user"]["status"] == "active"

    assert (await b.api("POST", f"{api}/users/{dora['id']}/unlock")).code == 200
    assert (await b.api("POST", f"{api}/users/{dora['id']}/reset-link")).code == 200
    outbox = await g["ctx"].db.outbox.find({"template": "reset"}).to_list()
    assert [m["to"] for m in outbox] == [["Dora@example.org"]]

    assert (await b.api("DELETE", f"{api}/users/{dora['id']}")).code == 200
    assert (await b.get(f"{api}/users/{dora['id']}")).code == 404

    events, _ = await list_events(g["ctx"], text="dora")
    messages = " | ".join(e["message"] for e in events)
    for word in (
        "created",
        "Roles of dora",
        "disabled",
        "enabled",
        "unlocked",
        "reset link",
        "deleted",
    ):
        assert word in messages, word


async def test_bad_user_edits_change_nothing(app, make_gallery):
    _g, b, api = await _admin(app, make_gallery)
    beta = await make_gallery("beta", "Beta")
    beta_role = await beta["ctx"].db.roles.find_one({"builtin": "administrators"})
    dora = await _make_user(b, api)
    cases = [
        {"role_ids": [beta_role["_id"]], "email": "new@example.org"},  # another gallery's role
        {"role_ids": "all"},
        {"email": "not an address", "disabled": True},
        {"disabled": "yes"},
        {"colour": "red"},
        {"password": "short", "disabled": True},
        {"email": "new@example.org", "password": "short"},
    ]
    for body in cases:
        response = await b.api("PATCH", f"{api}/users/{dora['id']}", body)
        assert response.code == 400, body
        assert _json(response)["error"]["message"]
    after = _json(await b.get(f"{api}/users/{dora['id']}"))["user"]
    assert after["email"] == "dora@example.org" and after["status"] == "active"
    assert after["role_ids"] == dora["role_ids"]

    created = await b.api(
        "POST",
        f"{api}/users",
        {"username": "<b>x</b>" * 40, "email": "x@example.org", "password": PASSWORD},
    )
    assert created.code == 400 and "username" in _json(created)["error"]["fields"]
    assert (await b.api("POST", f"{api}/users", {"email": 3})).code == 400
    assert (await b.api("POST", f"{api}/users", [1, 2])).code == 400
    assert _json(await b.get(f"{api}/users"))["total"] == 2


async def test_the_last_administrator_cannot_be_disabled_or_deleted(app, make_gallery):
    _g, b, api = await _admin(app, make_gallery)
    me = _json(await b.get(f"{api}/me"))["user"]
    for method, path, body in (
        ("PATCH", f"{api}/users/{me['id']}", {"disabled": True}),
        ("PATCH", f"{api}/users/{me['id']}", {"role_ids": []}),
        ("PATCH", f"{api}/users/{me['id']}", {"email": "new@alpha.test", "disabled": True}),
        ("DELETE", f"{api}/users/{me['id']}", None),
    ):
        response = await b.api(method, path, body)
        assert response.code == 409, (method, body)
    after = _json(await b.get(f"{api}/me"))["user"]
    assert after["status"] == "active" and after["email"] == me["email"]
