"""Sign-in lockout and address throttle under parallel guesses, for galleries and the host
console; unknown names lock like accounts (issue 11, items 5, 6, 14)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import pytest
from tornado.httpclient import AsyncHTTPClient

from gallery.people.users import create_user
from gallery.settings import update_settings
from tenants.host_admins import create_admin
from tests.client import text

PASSWORD = "Velvet-Orchid-Lamp-31"
HOST_PASSWORD = "Granite-Meadow-Falcon-77"
PARALLEL = 50


async def _parallel_logins(app, path: str, forms: list[dict]) -> list:
    """Send every form at once, each on its own connection, with one valid XSRF token."""
    browser = app.browser()
    await browser.get(path)
    token = browser.xsrf()
    client = AsyncHTTPClient(force_instance=True, max_clients=len(forms))
    try:
        return await asyncio.gather(
            *(
                client.fetch(
                    app.base + path,
                    method="POST",
                    raise_error=False,
                    follow_redirects=False,
                    request_timeout=120,
                    headers={
                        "Cookie": f"_xsrf={token}",
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                    body=urlencode({**form, "_xsrf": token}),
                )
                for form in forms
            )
        )
    finally:
        client.close()


def _codes(responses) -> list[int]:
    return sorted(r.code for r in responses)


async def test_fifty_parallel_wrong_passwords_lock_the_account(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    # A high address limit, so what is tested here is the account's own lock.
    await update_settings(ctx, {"lockout_attempts": 5, "login_ip_attempts": 1000})
    await create_user(ctx, "carol", "carol@example.org", PASSWORD)
    forms = [{"login": "carol", "password": f"wrong-guess-{i}"} for i in range(PARALLEL)]
    answers = await _parallel_logins(app, f"{p}/login", forms)
    # Only five guesses were ever checked; the other 45 were refused before their check.
    assert _codes(answers) == [401] * 5 + [403] * (PARALLEL - 5)
    assert all("locked" in text(r) for r in answers if r.code == 403)
    after = await app.browser().login(p, "carol", PASSWORD)
    assert after.code == 403 and "locked" in text(after)
    user = await ctx.db.users.find_one({"username": "carol"})
    assert user["locked_until"] is not None


async def test_fifty_parallel_failures_stop_at_the_address_limit(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    await update_settings(ctx, {"login_ip_attempts": 20, "lockout_attempts": 100})
    # Every guess aims at another name: only the address limit can stop them.
    forms = [{"login": f"guess{i}", "password": "wrong-guess"} for i in range(PARALLEL)]
    answers = await _parallel_logins(app, f"{p}/login", forms)
    assert _codes(answers) == [401] * 20 + [429] * (PARALLEL - 20)
    after = await app.browser().login(p, "admin", gallery["password"])
    assert after.code == 429 and "your address" in text(after)


async def test_a_right_password_does_not_count_against_the_address(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    await update_settings(ctx, {"login_ip_attempts": 3})
    for _ in range(5):
        browser = app.browser()
        assert (await browser.login(p, "admin", gallery["password"])).code == 302
    assert (await app.browser().login(p, "nobody", "wrong-guess")).code == 401


async def test_unknown_names_lock_exactly_like_accounts(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    await update_settings(ctx, {"lockout_attempts": 5})
    await create_user(ctx, "carol", "carol@example.org", PASSWORD)

    async def answers(name: str) -> list[tuple[int, str]]:
        browser = app.browser()
        seen = []
        for i in range(7):
            response = await browser.login(p, name, f"wrong-guess-{i}")
            body = re.sub(r'name="_xsrf" value="[^"]*"', "", text(response).replace(name, "NAME"))
            seen.append((response.code, body[body.index("<main") : body.index("</main>")]))
        return seen

    real, unknown = await answers("carol"), await answers("nobody-here")
    assert [code for code, _ in real] == [401] * 5 + [403] * 2
    assert real == unknown
    assert "locked" in real[-1][1]


async def test_unlock_by_an_admin_clears_the_counter(app, make_gallery):
    from gallery.people import account_admin

    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    await update_settings(ctx, {"lockout_attempts": 3, "login_ip_attempts": 1000})
    carol = await create_user(ctx, "carol", "carol@example.org", PASSWORD)
    await _parallel_logins(app, f"{p}/login", [{"login": "carol", "password": "x"}] * 10)
    assert (await app.browser().login(p, "carol", PASSWORD)).code == 403
    admin = await ctx.db.users.find_one({"username": "admin"})
    await account_admin.admin_unlock(ctx, admin, carol["_id"])
    assert (await app.browser().login(p, "carol", PASSWORD)).code == 302


@pytest.mark.parametrize("name", ["provider", "no-such-admin"])
async def test_the_host_console_locks_after_parallel_failures(app, name):
    from gallery.people.lockout import account_key, lock_ends
    from gallery.people.users import username_key

    await create_admin(app.services.host_db, "provider", HOST_PASSWORD)
    forms = [{"username": name, "password": f"wrong-guess-{i}"} for i in range(PARALLEL)]
    answers = await _parallel_logins(app, "/_host/login", forms)
    # 20 pass the address limit; of those, five are checked, fifteen find the name locked.
    # A real admin and an unknown name answer alike.
    assert _codes(answers) == [401] * 5 + [403] * 15 + [429] * 30
    admin = await app.services.host_db.host_admins.find_one({"_id": username_key(name)})
    assert await lock_ends(app.services.host_db, account_key(admin, name)) is not None
    browser = app.browser()
    await browser.get("/_host/login")
    late = await browser.post_form(
        "/_host/login", {"username": "provider", "password": HOST_PASSWORD}
    )
    assert late.code == 429 and "Location" not in late.headers


async def test_the_host_console_throttles_an_address(app):
    await create_admin(app.services.host_db, "provider", HOST_PASSWORD)
    forms = [{"username": f"guess{i}", "password": "wrong-guess"} for i in range(PARALLEL)]
    answers = await _parallel_logins(app, "/_host/login", forms)
    assert _codes(answers) == [401] * 20 + [429] * (PARALLEL - 20)
    browser = app.browser()
    await browser.get("/_host/login")
    late = await browser.post_form(
        "/_host/login", {"username": "provider", "password": HOST_PASSWORD}
    )
    assert late.code == 429 and "your address" in text(late)
