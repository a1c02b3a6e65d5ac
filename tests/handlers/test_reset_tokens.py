"""A reset or password change spends every reset link still out; reset requests are
limited per account and per address (issue 11, item 9). Links are read from real mails."""

from __future__ import annotations

import pytest

from gallery.people.users import create_user, get_user, set_password
from tests.client import text
from tests.mail_server import link_in, mail_config

PASSWORD = "Violet-Tuba-Lantern-42"
NEW_PASSWORD = "Copper-Kettle-Harbor-58"


@pytest.fixture
def config(make_config, mail_sink):
    return mail_config(make_config, mail_sink)


async def _two_links(app, mail_sink, p: str, login: str, address: str) -> tuple[str, str]:
    visitor = app.browser()
    for count in (1, 2):
        assert (await visitor.post_form(p + "/forgot", {"login": login})).code == 200
        await mail_sink.wait_for(address, "Reset your password", count=count)
    older, newer = mail_sink.to(address, "Reset your password")[-2:]
    return link_in(older, "/reset"), link_in(newer, "/reset")


async def test_a_reset_with_the_newer_link_spends_the_older_one(app, make_gallery, mail_sink):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    older, newer = await _two_links(app, mail_sink, p, "admin", "admin@alpha.test")
    visitor = app.browser()
    assert (await visitor.get(newer)).code == 200
    done = await visitor.post_form(newer, {"password": PASSWORD, "password2": PASSWORD})
    assert done.code == 200 and "Password changed" in text(done)
    assert (await visitor.get(older)).code == 410
    replay = await visitor.post_form(older, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert replay.code == 410 and "not valid" in text(replay)
    assert (await app.browser().login(p, "admin", PASSWORD)).code == 302
    assert (await app.browser().login(p, "admin", NEW_PASSWORD)).code == 401


async def test_changing_ones_password_spends_outstanding_links(app, make_gallery, mail_sink):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    older, newer = await _two_links(app, mail_sink, p, "admin@alpha.test", "admin@alpha.test")
    owner = app.browser()
    assert (await owner.login(p, "admin", gallery["password"])).code == 302
    changed = await owner.post_form(
        p + "/account",
        {
            "action": "password",
            "current": gallery["password"],
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert changed.code == 200 and "password was changed" in text(changed)
    for link in (older, newer):
        assert (await app.browser().get(link)).code == 410


async def test_an_administrator_setting_the_password_spends_outstanding_links(
    app, make_gallery, mail_sink
):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    carol = await create_user(ctx, "carol", "carol@example.org", PASSWORD)
    older, newer = await _two_links(app, mail_sink, p, "carol", "carol@example.org")
    await set_password(ctx, await get_user(ctx, carol["_id"]), NEW_PASSWORD, 10)
    for link in (older, newer):
        assert (await app.browser().get(link)).code == 410


async def test_reset_mails_are_limited_per_account(app, make_gallery, mail_sink):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    visitor = app.browser()
    answers = [await visitor.post_form(p + "/forgot", {"login": "admin"}) for _ in range(7)]
    # Every answer is the same page, whether a mail went out or not.
    assert {a.code for a in answers} == {200}
    assert all("If an account matches" in text(a) for a in answers)
    # Queued synchronously by the request: three and no more.
    assert await ctx.db.outbox.count_documents({"template": "reset"}) == 3
    await mail_sink.wait_for("admin@alpha.test", "Reset your password", count=3)


async def test_reset_requests_are_limited_per_address(app, make_gallery, mail_sink):
    gallery = await make_gallery("alpha")
    ctx, p = gallery["ctx"], gallery["prefix"]
    visitor = app.browser()
    for i in range(10):
        assert (await visitor.post_form(p + "/forgot", {"login": f"nobody{i}"})).code == 200
    refused = await visitor.post_form(p + "/forgot", {"login": "admin"})
    assert refused.code == 429 and "Too many" in text(refused)
    assert await ctx.db.outbox.count_documents({"template": "reset"}) == 0
