"""X-Forwarded-For / X-Real-IP / X-Forwarded-Proto count only from `server.trusted_proxies`,
and then the client is the right-most address a trusted proxy saw: a client cannot pick the
address that sign-in throttling and the event log see."""

from __future__ import annotations

import itertools
from http.cookies import SimpleCookie

import pytest

from server.config import ConfigError
from server.forwarded import parse_proxies

_names = itertools.count()


async def _seen_address(app, gallery, headers: dict) -> tuple[str, bool]:
    """Sign in wrongly with `headers`; return the address the event log recorded and
    whether the XSRF cookie the page set was Secure (the scheme the service believed)."""
    browser = app.browser()
    page = await browser.get(f"{gallery['prefix']}/login", headers=headers)
    secure = False
    for header in page.headers.get_list("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(header)
        if "_xsrf" in jar:
            secure = bool(jar["_xsrf"]["secure"])
    name = f"nobody{next(_names)}"
    response = await browser.post_form(
        f"{gallery['prefix']}/login", {"login": name, "password": "wrong"}, headers=headers
    )
    assert response.code == 401
    event = await gallery["ctx"].db.events.find_one(
        {"kind": "login_failed", "message": {"$regex": name}}
    )
    return event["ip"], secure


CASES = [
    # (headers, address believed when 127.0.0.1 is a trusted proxy)
    ({"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"),
    ({"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}, "203.0.113.9"),  # the client wrote 6.6.6.6
    ({"X-Forwarded-For": "203.0.113.9, 127.0.0.1"}, "203.0.113.9"),  # two trusted hops
    ({"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "6.6.6.6"}, "203.0.113.9"),
    ({"X-Real-IP": "198.51.100.7"}, "198.51.100.7"),
    ({"X-Forwarded-For": "203.0.113.9, not-an-address"}, "127.0.0.1"),
    ({"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "junk"}, "127.0.0.1"),
    ({"X-Forwarded-For": "2001:db8::5"}, "2001:db8::5"),
]


TRUSTED = {"server__xheaders": True, "server__trusted_proxies": "127.0.0.1, ::1"}


@pytest.fixture
def config(make_config, request):
    return make_config(**getattr(request, "param", TRUSTED))


async def test_a_trusted_proxy_gives_the_right_most_untrusted_address_and_the_scheme(
    app, make_gallery
):
    gallery = await make_gallery("alpha")
    for headers, expected in CASES:
        seen, _secure = await _seen_address(app, gallery, headers)
        assert seen == expected, headers
    _ip, secure = await _seen_address(app, gallery, {"X-Forwarded-Proto": "https"})
    assert secure is True


@pytest.mark.parametrize(
    "config",
    [
        {"server__xheaders": True, "server__trusted_proxies": "10.0.0.0/8"},  # not from a proxy
        {"server__xheaders": False, "server__trusted_proxies": "127.0.0.1"},  # proxies off
    ],
    indirect=True,
)
async def test_forwarded_headers_from_anyone_else_are_ignored(app, make_gallery):
    gallery = await make_gallery("alpha")
    for headers, _expected in CASES[:5]:
        seen, _secure = await _seen_address(app, gallery, {**headers, "X-Forwarded-Proto": "https"})
        assert seen == "127.0.0.1", headers
    _ip, secure = await _seen_address(app, gallery, {"X-Forwarded-Proto": "https"})
    assert secure is False


def test_trusted_proxies_must_be_addresses_or_networks(make_config):
    with pytest.raises(ConfigError, match="server.trusted_proxies.*'proxy.example'"):
        make_config(server__trusted_proxies="127.0.0.1, proxy.example")
    assert [str(n) for n in parse_proxies(" 10.0.0.0/8 ,::1,192.0.2.1 ")] == [
        "10.0.0.0/8",
        "::1/128",
        "192.0.2.1/32",
    ]
