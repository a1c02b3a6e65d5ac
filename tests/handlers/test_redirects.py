"""`next=` after sign-in goes only to a path of the same gallery, in host and prefix mode:
the OWASP open-redirect vectors (and control characters that used to answer 500 after a
correct password) all land on the gallery's home."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

from tests.client import text

# Decoded values, as the form or query argument arrives at the handler.
HOSTILE = [
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "https://evil.example",
    "http:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "data:text/html,x",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/\t/evil.example/phish",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\x0b/evil.example",
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "/ /evil.example",
    " //evil.example",
    "/x\r\nSet-Cookie: stolen=1",
    "/%09/evil.example",
    "/%2F/evil.example/..",
    "/〱evil.example",
    "〱evil.example",
    "/\u3002/evil.example",
    "//evil%E3%80%82example",
    "/.//evil.example",
    "/./../evil.example",
    "/%2e%2e/%2e%2e/evil",
    "/g/alpha/../beta/",
    "/g/alpha/%2e%2e/beta/",
    "@evil.example",
    "evil.example",
    ".evil.example",
    "https:\\\\evil.example",
    "//google.com@evil.example",
    "/" + "a" * 3000,
]
AFTER_PASSWORD = [
    "/\t/evil.example/phish",
    "/\r\n/evil.example",
    "/\x0b/evil.example",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example",
    "/g/alpha/../beta/",
]
ACCEPTED = ["/albums/abc?sort=title&dir=-1", "/search?q=%2F%2Fevil"]


def _stays_home(response, base: str, home: str) -> None:
    assert response.code == 302, text(response)[:300]
    location = response.headers["Location"]
    assert location == home, location
    assert urlsplit(urljoin(base, location)).netloc == urlsplit(base).netloc


async def _check_mode(browser, gallery, base: str, prefix: str) -> None:
    home = f"{prefix}/"
    signed = await browser.login(prefix, gallery["username"], gallery["password"])
    assert signed.code == 302
    for target in HOSTILE:
        # Signed in already: the query's next.
        got = await browser.get(f"{prefix}/login?next={quote(target, safe='')}")
        _stays_home(got, base, home)
    for target in AFTER_PASSWORD:
        # After a correct password: the form's next (a few; each sign-in hashes a password).
        posted = await browser.post_form(
            f"{prefix}/login",
            {"login": gallery["username"], "password": gallery["password"], "next": target},
        )
        _stays_home(posted, base, home)
    for target in ACCEPTED:
        posted = await browser.post_form(
            f"{prefix}/login",
            {
                "login": gallery["username"],
                "password": gallery["password"],
                "next": prefix + target,
            },
        )
        assert posted.code == 302 and posted.headers["Location"] == prefix + target


async def test_next_is_followed_only_to_the_gallerys_own_paths_in_prefix_mode(app, make_gallery):
    gallery = await make_gallery("alpha")
    await make_gallery("beta")
    await _check_mode(app.browser(), gallery, app.base, gallery["prefix"])


async def test_next_is_followed_only_to_the_gallerys_own_paths_in_host_mode(app, make_gallery):
    gallery = await make_gallery("alpha", hostnames=["photos.example"])
    await _check_mode(app.browser(host="photos.example"), gallery, "http://photos.example", "")
