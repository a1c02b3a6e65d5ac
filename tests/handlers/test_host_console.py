"""The host console: first admin by setup link, tenants created, suspended, deleted."""

import re

from tenants.host_admins import setup_token
from tests.client import text

PASSWORD = "Granite-Meadow-Falcon-77"


async def _signed_in(app):
    token = await setup_token(app.services.host_db)
    browser = app.browser()
    page = await browser.get(f"/_host/setup?token={token}")
    assert page.code == 200
    done = await browser.post_form(f"/_host/setup?token={token}",
                                   {"username": "provider", "password": PASSWORD, "password2": PASSWORD})
    assert done.code == 302
    return browser, token


async def test_setup_link_works_once_then_the_console_needs_a_login(app):
    browser, token = await _signed_in(app)
    assert (await app.browser().get(f"/_host/setup?token={token}")).code == 410
    assert (await app.browser().get("/_host/")).code == 302
    fresh = app.browser()
    await fresh.get("/_host/login")
    bad = await fresh.post_form("/_host/login", {"username": "provider", "password": "nope-nope-nope"})
    assert bad.code == 401
    good = await fresh.post_form("/_host/login", {"username": "provider", "password": PASSWORD})
    assert good.code == 302
    assert "Tenants" in text(await fresh.get("/_host/"))


async def test_create_suspend_resume_and_delete_a_tenant(app):
    browser, _ = await _signed_in(app)
    form = {"slug": "gamma", "title": "Gamma <b>Photos</b>", "hostnames": "photos.gamma.example",
            "admin_email": "g@gamma.example", "quota_mb": "100"}
    created = await browser.post_form("/_host/tenants/new", form)
    assert created.code == 200
    body = text(created)
    assert "Gamma &lt;b&gt;Photos&lt;/b&gt;" in body and "<b>Photos</b>" not in body
    link = re.search(r'value="(http://[^"]+/g/gamma/install\?token=[^"]+)"', body).group(1)
    path = link.split("127.0.0.1:%d" % app.port)[1].replace("&amp;", "&")
    assert (await app.browser().get(path)).code == 200

    again = await browser.post_form("/_host/tenants/new", {**form, "slug": "delta"})
    assert again.code == 400 and "already used" in text(again)
    assert (await app.services.registry.host_db.tenants.find_one({"_id": "delta"})) is None
    bad = await browser.post_form("/_host/tenants/new", {**form, "slug": "www", "hostnames": ""})
    assert bad.code == 400 and "reserved" in text(bad)

    listing = text(await browser.get("/_host/"))
    assert "gamma" in listing and "installing" in listing

    await browser.post_form("/_host/tenants/gamma/status", {"action": "suspend"})
    assert (await app.browser(host="photos.gamma.example").get("/")).code == 503
    await browser.post_form("/_host/tenants/gamma/status", {"action": "resume"})
    assert (await app.browser(host="photos.gamma.example").get(path.replace("/g/gamma", ""))).code == 200

    refused = await browser.post_form("/_host/tenants/gamma/delete", {"confirm": "gam"})
    assert refused.code == 400
    storage = app.services.registry.storage("gamma")
    assert storage.exists()
    deleted = await browser.post_form("/_host/tenants/gamma/delete", {"confirm": "gamma"})
    assert deleted.code == 302
    assert not storage.exists()
    assert (await app.browser(host="photos.gamma.example").get("/")).code == 404
    names = await app.services.client.list_database_names()
    assert app.services.registry.database_name("gamma") not in names


async def test_console_pages_require_a_host_admin(app):
    browser = app.browser()
    for path in ("/_host/", "/_host/tenants/new", "/_host/tenants/alpha"):
        response = await browser.get(path)
        assert response.code == 302 and response.headers["Location"] == "/_host/login"
