"""The XSRF cookie is scoped like the session cookie: per gallery in prefix mode (never one
cookie for every tenant), the host console's under /_host/, and Secure under TLS."""

from __future__ import annotations

import socket
import ssl
import subprocess
from http.cookies import SimpleCookie

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer

from tests.client import text


def _xsrf_morsel(response):
    for header in response.headers.get_list("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(header)
        if "_xsrf" in jar:
            return jar["_xsrf"]
    raise AssertionError(f"no _xsrf cookie set: {response.headers.get_list('Set-Cookie')}")


async def test_each_gallery_in_prefix_mode_has_its_own_xsrf_cookie(app, make_gallery):
    alpha = await make_gallery("alpha")
    await make_gallery("beta")
    browser = app.browser()
    console = _xsrf_morsel(await browser.get("/_host/login"))
    assert console["path"] == "/_host/" and not console["secure"]
    first = _xsrf_morsel(await browser.get("/g/alpha/login"))
    assert first["path"] == "/g/alpha/" and not first["secure"]
    assert first["samesite"] == "Lax"
    # beta never receives alpha's cookie (nor the console's), so it sets its own.
    second = _xsrf_morsel(await browser.get("/g/beta/login"))
    assert second["path"] == "/g/beta/" and second.value != first.value

    # alpha's token is worth nothing at beta, whose cookie the browser sends there.
    refused = await browser.request(
        "POST",
        "/g/beta/api/v1/albums",
        body=b"{}",
        headers={"X-XSRFToken": first.value, "Content-Type": "application/json"},
        expect_xsrf_refusal=True,
    )
    assert refused.code == 403, text(refused)
    # Signed in at alpha, its own token works there.
    await browser.login("/g/alpha", alpha["username"], alpha["password"])
    root = await alpha["ctx"].db.albums.find_one({"parent_id": None})
    made = await browser.api(
        "POST", "/g/alpha/api/v1/albums", json_body={"title": "Mine", "parent_id": root["_id"]}
    )
    assert made.code == 201, text(made)


async def test_the_most_specific_xsrf_cookie_is_the_one_checked(app, make_gallery):
    """A browser still holding an old host-wide cookie sends both, the gallery's first (and
    the page's script reads that one): the gallery checks its own, not the last one sent."""
    gallery = await make_gallery("alpha")
    browser = app.browser()
    await browser.login(gallery["prefix"], gallery["username"], gallery["password"])
    own = browser.xsrf("/g/alpha/")
    browser.cookies[("_xsrf", "/")] = "2|00000000|" + "0" * 32 + "|1"  # the old, host-wide one
    root = await gallery["ctx"].db.albums.find_one({"parent_id": None})
    made = await browser.api(
        "POST", "/g/alpha/api/v1/albums", json_body={"title": "Both", "parent_id": root["_id"]}
    )
    assert made.code == 201, text(made)
    assert browser.xsrf("/g/alpha/") == own


@pytest.fixture
def tls_app(app, tmp_path):
    """The same application served over real TLS (a self-signed certificate)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    server = HTTPServer(app_application(app), ssl_options=context)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server.listen(port, address="127.0.0.1")
    yield f"https://127.0.0.1:{port}"
    server.stop()


def app_application(app):
    from server.app import make_app

    return make_app(app.services)


async def test_the_xsrf_cookie_is_secure_under_tls(tls_app, make_gallery):
    await make_gallery("alpha")
    client = AsyncHTTPClient()
    for path, scope in (("/g/alpha/login", "/g/alpha/"), ("/_host/login", "/_host/")):
        response = await client.fetch(tls_app + path, validate_cert=False, raise_error=False)
        assert response.code == 200
        morsel = _xsrf_morsel(response)
        assert morsel["secure"] is True and morsel["path"] == scope
