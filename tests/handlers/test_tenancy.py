"""Routing modes, tenant isolation, suspended/unknown tenants, the installer, health."""

import asyncio
import json

from tenants.provision import create_tenant
from tests.client import text


async def test_a_tenant_answers_by_prefix_subdomain_and_custom_hostname(app, make_gallery):
    await make_gallery("alpha", "Alpha Gallery", hostnames=["photos.alpha.example"])
    for host, path in [(None, "/g/alpha/"), ("alpha.atrium.test", "/"), ("photos.alpha.example", "/")]:
        response = await app.browser(host=host).get(path)
        assert response.code == 200, (host, path)
        assert "Alpha Gallery" in text(response)


async def test_unknown_tenants_get_a_host_404_and_bad_hosts_a_400(app, make_gallery):
    await make_gallery("alpha")
    for host, path in [(None, "/g/nobody/"), ("nobody.atrium.test", "/"), ("elsewhere.example", "/"),
                       (None, "/g/UPPER/"), ("a-.atrium.test", "/")]:
        response = await app.browser(host=host).get(path)
        assert response.code == 404, (host, path)
        assert "Alpha" not in text(response)
    # Tornado itself refuses a Host with a space; ours refuses the rest with a page.
    assert (await app.browser(host="bad host!").get("/")).code == 400
    for bad in ("a_b.atrium.test", "x" * 300, "quote's.test"):
        response = await app.browser(host=bad).get("/")
        assert response.code == 400 and "Host header" in text(response), bad


async def test_the_prefix_without_slash_redirects_into_the_cookie_path(app, make_gallery):
    await make_gallery("alpha")
    response = await app.browser().get("/g/alpha")
    assert response.code == 302 and response.headers["Location"] == "/g/alpha/"


async def test_a_suspended_tenant_answers_503_and_comes_back_when_resumed(app, make_gallery):
    await make_gallery("alpha")
    registry = app.services.registry
    await registry.set_status("alpha", "suspended")
    response = await app.browser().get("/g/alpha/")
    assert response.code == 503 and "not available" in text(response)
    await registry.set_status("alpha", "active")
    assert (await app.browser().get("/g/alpha/")).code == 200


async def test_a_session_cookie_of_tenant_a_is_refused_by_tenant_b(app, make_gallery):
    a = await make_gallery("alpha", "Alpha Gallery")
    await make_gallery("beta", "Beta Gallery")
    browser = app.browser()
    await browser.login(a["prefix"], a["username"], a["password"])
    (name, _path), value = next((k, v) for k, v in browser.cookies.items() if k[0] == "atrium_session")
    # Prefix mode: present A's cookie at B's path.
    thief = app.browser()
    thief.cookies[(name, "/g/beta/")] = value
    page = await thief.get("/g/beta/")
    assert page.code == 200 and "Sign out" not in text(page) and "Sign in" in text(page)
    # Host mode: the same cookie sent to B's subdomain.
    thief = app.browser(host="beta.atrium.test")
    thief.cookies[(name, "/")] = value
    page = await thief.get("/")
    assert "Sign out" not in text(page)
    # Same credentials do not open tenant B either.
    other = app.browser()
    response = await other.login("/g/beta", a["username"] + "x", a["password"])
    assert response.code == 401


async def test_a_cookie_works_in_host_mode_for_its_own_tenant(app, make_gallery):
    a = await make_gallery("alpha")
    browser = app.browser(host="alpha.atrium.test")
    response = await browser.login("", a["username"], a["password"])
    assert response.code == 302 and response.headers["Location"] == "/"
    assert "Sign out" in text(await browser.get("/"))


async def test_forms_without_xsrf_are_refused(app, make_gallery):
    a = await make_gallery("alpha")
    browser = app.browser()
    response = await browser.post_form("/g/alpha/login", {"login": a["username"], "password": a["password"]},
        with_xsrf=False, expect_xsrf_refusal=True,
    )
    assert response.code == 403


async def _new_tenant(app, slug="fresh"):
    record, token = await create_tenant(app.services.registry, slug, "Fresh", [], "owner@fresh.test")
    return token


def _install_form(token, **extra):
    form = {"token": token, "title": "Fresh Gallery", "username": "owner", "email": "owner@fresh.test",
            "password": "Quiet-Lantern-Harbour-42", "password2": "Quiet-Lantern-Harbour-42"}
    form.update(extra)
    return form


async def test_the_installer_runs_once(app):
    token = await _new_tenant(app)
    browser = app.browser()
    assert (await browser.get("/g/fresh/install")).code == 403
    assert (await browser.get("/g/fresh/install?token=wrong")).code == 403
    assert (await browser.get("/g/fresh/")).code == 503
    page = await browser.get(f"/g/fresh/install?token={token}")
    assert page.code == 200 and "Set up your gallery" in text(page)
    weak = await browser.post_form("/g/fresh/install", _install_form(token, password="password1", password2="password1"))
    assert weak.code == 400 and "characters" in text(weak)
    done = await browser.post_form("/g/fresh/install", _install_form(token))
    assert done.code == 302
    home = await browser.get("/g/fresh/")
    assert "Fresh Gallery" in text(home) and "Sign out" in text(home)
    for query in (f"?token={token}", "?token=anything", ""):
        assert (await app.browser().get(f"/g/fresh/install{query}")).code in (410,), query
    again = await browser.post_form("/g/fresh/install", _install_form(token))
    assert again.code == 410


async def test_two_concurrent_installers_exactly_one_wins(app):
    token = await _new_tenant(app)
    browsers = [app.browser() for _ in range(4)]
    for b in browsers:
        await b.get(f"/g/fresh/install?token={token}")
    results = await asyncio.gather(*(
        b.post_form("/g/fresh/install", _install_form(token, username=f"owner{i}"))
        for i, b in enumerate(browsers)
    ))
    codes = sorted(r.code for r in results)
    assert codes.count(302) == 1 and all(c == 410 for c in codes if c != 302), codes
    ctx = await app.services.registry.context_for_slug("fresh")
    assert await ctx.db.users.count_documents({}) == 1
    # (find, not count_documents: the embedded server miscounts equality with null)
    assert len(await ctx.db.albums.find({"parent_id": None}).to_list()) == 1


async def test_health_reports_database_and_storage(app):
    response = await app.browser().get("/_health")
    body = json.loads(response.body)
    assert response.code == 200 and body["checks"] == {"database": "ok", "storage": "ok"} and body["version"]


async def test_health_says_starting_until_the_background_work_runs(app):
    """`python -m server run` listens before its workers and write feed run: until then a
    load balancer must not send traffic, so /_health is 503 "starting" with Retry-After."""
    app.services.starting = True
    try:
        response = await app.browser().get("/_health")
    finally:
        app.services.starting = False
    body = json.loads(response.body)
    assert response.code == 503 and body["status"] == "starting", body
    assert body["checks"] == {"database": "ok", "storage": "ok", "service": "starting"}
    assert response.headers.get("Retry-After")
    after = await app.browser().get("/_health")
    assert after.code == 200 and json.loads(after.body)["status"] == "ok"
