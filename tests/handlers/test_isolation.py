"""A user of gallery A gets nothing in gallery B: not with A's cookie, not with A's password,
in prefix mode (/g/<slug>/) and in host mode (<slug>.atrium.test)."""

from __future__ import annotations

import pytest

from tests.client import text


@pytest.mark.parametrize("mode", ["prefix", "host"])
async def test_a_cookie_or_credentials_of_one_gallery_do_not_open_another(app, make_gallery, mode):
    alpha = await make_gallery("alpha")
    await make_gallery("beta", "Beta Gallery")

    def browser_for(slug):
        return app.browser(host=f"{slug}.atrium.test") if mode == "host" else app.browser()

    def path(slug, rest):
        return rest if mode == "host" else f"/g/{slug}{rest}"

    a = browser_for("alpha")
    assert (await a.login(path("alpha", ""), "admin", alpha["password"])).code == 302
    assert (await a.get(path("alpha", "/account"))).code == 200

    # The same cookie values presented to beta (same host for prefix mode, copied for host mode).
    b = browser_for("beta")
    b.cookies = {(name, "/"): value for (name, _p), value in a.cookies.items()}
    account = await b.get(path("beta", "/account"))
    assert account.code == 302 and "/login" in account.headers["Location"]
    assert (await b.get(path("beta", "/admin/users"))).code == 302


async def test_an_account_of_one_gallery_does_not_exist_in_another(app, make_gallery):
    alpha = await make_gallery("alpha")
    beta = await make_gallery("beta", "Beta Gallery")
    admin = app.browser()
    await admin.login(alpha["prefix"], "admin", alpha["password"])
    created = await admin.post_form(
        alpha["prefix"] + "/admin/users",
        {"username": "erin", "email": "erin@example.org", "password": "Violet-Tuba-Lantern-42"},
    )
    assert created.code == 302
    for browser, prefix in (
        (app.browser(), beta["prefix"]),
        (app.browser(host="beta.atrium.test"), ""),
    ):
        refused = await browser.login(prefix, "erin", "Violet-Tuba-Lantern-42")
        assert refused.code == 401 and "Wrong user name or password" in text(refused)
    erin = app.browser()
    assert (await erin.login(alpha["prefix"], "erin", "Violet-Tuba-Lantern-42")).code == 302
    # Erin's alpha session cookie, replayed at beta under beta's path.
    stolen = app.browser()
    stolen.cookies = {(n, beta["prefix"] + "/"): v for (n, _p), v in erin.cookies.items()}
    assert (await stolen.get(beta["prefix"] + "/account")).code == 302
    # A user id of alpha used in beta's admin pages is simply not there.
    erin_id = (await alpha["ctx"].db.users.find_one({"username": "erin"}))["_id"]
    beta_admin = app.browser()
    await beta_admin.login(beta["prefix"], "admin", beta["password"])
    assert (await beta_admin.get(beta["prefix"] + f"/admin/users/{erin_id}")).code == 404
    assert (
        await beta_admin.post_form(beta["prefix"] + f"/admin/users/{erin_id}", {"action": "delete"})
    ).code == 404
    assert await alpha["ctx"].db.users.count_documents({"_id": erin_id}) == 1
