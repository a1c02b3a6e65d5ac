"""E-mailed links come from a trusted origin, whatever Host header the request carried.

A reset link built from `Host: 203.0.113.7` would send the token to whoever answers
there (issue 11, item 2). Every mail read here is the real one from the aiosmtpd sink.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from gallery.people.users import create_user
from gallery.settings import update_settings
from gallery.urls import mail_urls
from tenants.host_admins import create_admin
from tests.client import XsrfRefused, text
from tests.mail_server import body_text, mail_config

PUBLIC = "https://gallery.example.org"
PASSWORD = "Violet-Tuba-Lantern-42"
HOSTILE_PREFIX_HOSTS = [
    "203.0.113.7",
    "203.0.113.7:8080",
    "[2001:db8::7]",
    "[2001:db8::7]:443",
    "localhost:6666",
    "atrium.test:6666",
]


@pytest.fixture
def config(make_config, mail_sink):
    return mail_config(make_config, mail_sink, **{"server.public_url": PUBLIC})


def _urls(message) -> list[str]:
    return re.findall(r"https?://\S+", body_text(message))


def _only_origin(message, path: str) -> str:
    """The one link to `path` in the mail; every link of the mail must be trusted."""
    found = [u for u in _urls(message) if path in u]
    assert found, body_text(message)
    return found[0]


async def _user(ctx, name: str) -> str:
    address = f"{name}@example.org"
    await create_user(ctx, name, address, PASSWORD)
    return address


@pytest.mark.parametrize("host", HOSTILE_PREFIX_HOSTS)
async def test_reset_links_ignore_a_hostile_host_in_prefix_mode(app, make_gallery, mail_sink, host):
    gallery = await make_gallery("alpha")
    address = await _user(gallery["ctx"], "rita")
    visitor = app.browser(host=host)
    sent = await visitor.post_form("/g/alpha/forgot", {"login": "rita"})
    assert sent.code == 200
    message = await mail_sink.wait_for(address, "Reset")
    assert _only_origin(message, "/reset?token=").startswith(f"{PUBLIC}/g/alpha/reset?token=")
    assert all(u.startswith(PUBLIC + "/") for u in _urls(message)), body_text(message)
    assert "203.0.113" not in body_text(message) and "2001:db8" not in body_text(message)


async def test_host_mode_keeps_the_tenant_hostname_but_not_the_client_port(
    app, make_gallery, mail_sink
):
    alpha = await make_gallery("alpha")
    beta = await make_gallery("beta", hostnames=["photos.beta.test"])
    a_address = await _user(alpha["ctx"], "sam")
    b_address = await _user(beta["ctx"], "tess")

    by_slug = app.browser(host="alpha.atrium.test:6666")
    assert (await by_slug.post_form("/forgot", {"login": "sam"})).code == 200
    link = _only_origin(await mail_sink.wait_for(a_address, "Reset"), "/reset?token=")
    assert link.startswith("https://alpha.atrium.test/reset?token="), link

    by_name = app.browser(host="PHOTOS.beta.test:31337")
    assert (await by_name.post_form("/forgot", {"login": "tess"})).code == 200
    link = _only_origin(await mail_sink.wait_for(b_address, "Reset"), "/reset?token=")
    assert link.startswith("https://photos.beta.test/reset?token="), link


async def test_an_unknown_domain_reaches_no_tenant_and_sends_nothing(app, make_gallery, mail_sink):
    gallery = await make_gallery("alpha")
    await _user(gallery["ctx"], "rita")
    local = app.browser()
    await local.get("/g/alpha/forgot")
    token = local.xsrf()
    for host in ("evil.example", "evil.example:80", "alpha.atrium.test.evil.example"):
        browser = app.browser(host=host)
        browser.cookies[("_xsrf", "/")] = token  # a valid token: only the host decides
        for path in ("/forgot", "/g/alpha/forgot"):
            assert (await browser.get(path)).code == 404, (host, path)
            try:
                answer = await browser.request("POST", path, form={"login": "rita", "_xsrf": token})
                code = answer.code
            except XsrfRefused:  # a token scoped to the real gallery may not count here
                code = 403
            assert code in (403, 404), (host, path, code)
    # A legitimate request afterwards is the only mail the sink ever gets.
    assert (await app.browser().post_form("/g/alpha/forgot", {"login": "rita"})).code == 200
    await mail_sink.wait_for("rita@example.org", "Reset")
    assert len(mail_sink.messages) == 1


async def test_verification_and_approval_mails_ignore_a_hostile_host(app, make_gallery, mail_sink):
    gallery = await make_gallery("alpha")
    await update_settings(
        gallery["ctx"],
        {
            "allow_registration": True,
            "require_email_verification": True,
            "require_approval": True,
            "admin_notify_emails": ["boss@alpha.test"],
        },
    )
    visitor = app.browser(host="203.0.113.7:8080")
    done = await visitor.post_form(
        "/g/alpha/register",
        {
            "username": "zoe",
            "email": "zoe@example.org",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert done.code == 200 and "Follow its link" in text(done)
    verify = await mail_sink.wait_for("zoe@example.org", "Confirm your e-mail")
    link = _only_origin(verify, "/verify?token=")
    assert link.startswith(f"{PUBLIC}/g/alpha/verify?token="), link
    assert (await visitor.get(link[len(PUBLIC) :])).code == 200

    notice = await mail_sink.wait_for("boss@alpha.test", "awaits your approval")
    assert all(u.startswith(PUBLIC + "/") for u in _urls(notice)), body_text(notice)
    admin = app.browser(host="[2001:db8::1]:8443")
    assert (await admin.login("/g/alpha", "admin", gallery["password"])).code == 302
    user_page = _only_origin(notice, "/admin/users/")[len(PUBLIC) :]
    approved = await admin.post_form(user_page, {"action": "approve"})
    assert approved.code == 200 and "approved" in text(approved)
    ready = await mail_sink.wait_for("zoe@example.org", "is ready")
    assert _urls(ready) and all(u.startswith(f"{PUBLIC}/g/alpha/") for u in _urls(ready)), (
        body_text(ready)
    )


async def test_the_installer_invitation_ignores_the_console_host(app, mail_sink):
    await create_admin(app.services.host_db, "provider", "Granite-Meadow-Falcon-77")
    console = app.browser(host="203.0.113.9:8080")
    await console.get("/_host/login")
    signed = await console.post_form(
        "/_host/login", {"username": "provider", "password": "Granite-Meadow-Falcon-77"}
    )
    assert signed.code == 302
    created = await console.post_form(
        "/_host/tenants/new",
        {
            "slug": "gamma",
            "title": "Gamma",
            "hostnames": "",
            "admin_email": "g@gamma.example",
            "quota_mb": "0",
        },
    )
    assert created.code == 200
    invitation = await mail_sink.wait_for("g@gamma.example")
    link = _only_origin(invitation, "/install?token=")
    assert link.startswith(f"{PUBLIC}/g/gamma/install?token="), link


def _server(**values):
    base = {
        "public_url": "",
        "host": "0.0.0.0",
        "port": 8080,
        "base_domain": "atrium.test",
        "path_prefix_routing": True,
    }
    return SimpleNamespace(**{**base, **values})


def test_an_ip_literal_is_an_origin_only_when_configured():
    tenant = {"_id": "alpha", "hostnames": ["photos.alpha.test"]}
    # Unconfigured: the derived origin of the listening address, never the client's Host.
    urls = mail_urls(tenant, _server(), prefix="/g/alpha", hostname="203.0.113.7", scheme="https")
    assert urls.absolute("/reset") == "http://localhost:8080/g/alpha/reset"
    # An address someone configured is trusted as given.
    configured = _server(public_url="http://192.0.2.10:8080/")
    urls = mail_urls(tenant, configured, prefix="/g/alpha", hostname="203.0.113.7", scheme="http")
    assert urls.absolute("/reset") == "http://192.0.2.10:8080/g/alpha/reset"
    urls = mail_urls(tenant, _server(host="::1"), prefix="/g/alpha", hostname=None, scheme="http")
    assert urls.origin == "http://[::1]:8080"
    # Host mode on a name the tenant does not own falls back to its canonical origin.
    urls = mail_urls(tenant, _server(), prefix="", hostname="evil.example", scheme="http")
    assert urls.absolute("/reset") == "http://photos.alpha.test/reset"
