"""Account flows end to end: real app with a job worker, real SMTP server, real links."""

from __future__ import annotations

import asyncio

import pytest

from gallery.settings import update_settings
from tests.client import text
from tests.mail_server import body_html, body_text, link_in, mail_config

PASSWORD = "Violet-Tuba-Lantern-42"


@pytest.fixture
def config(make_config, mail_sink):
    return mail_config(make_config, mail_sink)


async def _settings(gallery, **values):
    await update_settings(gallery["ctx"], values)


async def test_registration_with_verification_and_approval_ends_in_a_working_account(
    app, make_gallery, mail_sink
):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    await _settings(
        gallery,
        allow_registration=True,
        require_email_verification=True,
        require_approval=True,
        admin_notify_emails=["boss@alpha.test"],
    )
    visitor = app.browser()
    page = await visitor.get(p + "/register")
    assert page.code == 200 and "Create an account" in text(page)
    done = await visitor.post_form(
        p + "/register",
        {
            "username": "<b>Zoë</b>",
            "email": "zoe@example.org",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert done.code == 200 and "Follow its link" in text(done)

    # Not usable yet: the address is not confirmed.
    refused = await visitor.login(p, "<b>Zoë</b>", PASSWORD)
    assert refused.code == 403 and "confirm your e-mail" in text(refused)

    verify = await mail_sink.wait_for("zoe@example.org", "Confirm your e-mail")
    assert "Alpha Gallery" in verify["Subject"]
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in body_html(verify) and "<b>Zoë</b>" not in body_html(verify)
    confirmed = await visitor.get(link_in(verify, "/verify"))
    assert confirmed.code == 200 and "confirmed" in text(confirmed)
    again = await visitor.get(link_in(verify, "/verify"))
    assert again.code == 410 and "already been used" in text(again)

    notice = await mail_sink.wait_for("boss@alpha.test", "awaits your approval")
    await mail_sink.wait_for("zoe@example.org", "awaits approval")
    refused = await visitor.login(p, "zoe@example.org", PASSWORD)
    assert refused.code == 403 and "approval" in text(refused)

    admin = app.browser()
    await admin.login(p, "admin", gallery["password"])
    user_page = link_in(notice, "/admin/users/")
    shown = await admin.get(user_page)
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in text(shown) and "pending approval" in text(shown)
    approved = await admin.post_form(user_page, {"action": "approve"})
    assert approved.code == 200 and "approved" in text(approved)
    await mail_sink.wait_for("zoe@example.org", "is ready")

    signed_in = await visitor.login(p, "zoe@example.org", PASSWORD)
    assert signed_in.code == 302
    home = await visitor.get(p + "/")
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in text(home)
    events = await admin.get(p + "/admin/events?kind=account")
    assert "registered" in text(events) and "approved by admin" in text(events)


async def test_registration_is_closed_by_default(app, make_gallery):
    gallery = await make_gallery("alpha")
    browser = app.browser()
    closed = await browser.get(gallery["prefix"] + "/register")
    assert closed.code == 403 and "Registration is closed" in text(closed)
    # The closed page has no form; a visitor who posts anyway carries a valid token (the
    # sign-in page sets it), so the refusal below is the registration check's own.
    await browser.get(gallery["prefix"] + "/login")
    posted = await browser.post_form(
        gallery["prefix"] + "/register",
        {
            "username": "eve",
            "email": "eve@example.org",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert posted.code == 403
    assert "does not accept new accounts" in text(posted)
    assert await gallery["ctx"].db.users.count_documents({}) == 1


async def test_reset_link_works_once_within_the_hour_and_ends_sessions(
    app, make_gallery, mail_sink
):
    gallery = await make_gallery("alpha")
    p, ctx = gallery["prefix"], gallery["ctx"]
    other_device = app.browser()
    assert (await other_device.login(p, "admin", gallery["password"])).code == 302

    visitor = app.browser()
    known = await visitor.post_form(p + "/forgot", {"login": "admin@alpha.test"})
    unknown = await visitor.post_form(p + "/forgot", {"login": "nobody@alpha.test"})
    assert known.code == unknown.code == 200
    assert (
        text(known).count("If an account matches")
        == text(unknown).count("If an account matches")
        == 1
    )

    mail = await mail_sink.wait_for("admin@alpha.test", "Reset your password")
    reset = link_in(mail, "/reset")
    token = reset.split("token=")[1]
    assert not await ctx.db.tokens.find_one({"_id": token}), "tokens are stored hashed"
    assert (await visitor.get(reset)).code == 200
    weak = await visitor.post_form(reset, {"password": "short", "password2": "short"})
    assert weak.code == 400 and "at least 10" in text(weak)
    done = await visitor.post_form(reset, {"password": PASSWORD, "password2": PASSWORD})
    assert done.code == 200 and "Password changed" in text(done)
    second = await visitor.post_form(
        reset, {"password": PASSWORD + "x", "password2": PASSWORD + "x"}
    )
    assert second.code == 410 and "already been used" in text(second)

    assert (await other_device.get(p + "/account")).code == 302, "the old session ended"
    assert (await app.browser().login(p, "admin", PASSWORD)).code == 302
    await mail_sink.wait_for("admin@alpha.test", "was changed")
    outbox = await ctx.db.outbox.find({"state": "sent"}).to_list()
    assert outbox and all(m["vars"] == {} for m in outbox), "sent messages keep no links"
    assert all(m["answer"].startswith("2.0.0 Ok") for m in outbox)

    # An expired link fails with a clear page.
    await visitor.post_form(p + "/forgot", {"login": "admin"})
    mail = await mail_sink.wait_for("admin@alpha.test", "Reset your password", count=2)
    from datetime import UTC, datetime, timedelta

    await ctx.db.tokens.update_many(
        {"purpose": "reset", "used": False},
        {"$set": {"expires": datetime.now(UTC) - timedelta(minutes=1)}},
    )
    expired = await visitor.get(link_in(mail, "/reset"))
    assert expired.code == 410 and "expired" in text(expired)


async def test_admin_actions_mail_the_user_and_test_email_reports_the_server_answer(
    app, make_gallery, mail_sink
):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    admin = app.browser()
    await admin.login(p, "admin", gallery["password"])
    created = await admin.post_form(
        p + "/admin/users",
        {"username": "carol", "email": "carol@example.org", "password": PASSWORD},
        follow=True,
    )
    assert created.code == 200 and "The account was created" in text(created)
    await mail_sink.wait_for("carol@example.org", "Your account at Alpha Gallery")

    sent = await admin.post_form(p + "/admin/email", {"to": "ops@example.org"})
    assert sent.code == 302
    result_url = sent.headers["Location"]
    async with asyncio.timeout(10):
        while "test-result" not in (page := text(await admin.get(result_url))) or "Sending" in page:
            await asyncio.sleep(0.05)
    assert "The server answered: 2.0.0 Ok: queued as TEST42" in page
    message = await mail_sink.wait_for("ops@example.org", "Test message")
    assert (
        "e-mail works" in body_text(message)
        and message["From"] == "Alpha Gallery <gallery@atrium.test>"
    )


async def test_undeliverable_mail_is_reported_and_logged(app, make_gallery, mail_sink):
    gallery = await make_gallery("alpha")
    p = gallery["prefix"]
    from tests.mail_server import _free_port

    dead = _free_port()  # a port where nobody listens, as a tenant override
    await _settings(gallery, smtp_host="127.0.0.1", smtp_port=dead, smtp_password="s3cret-pass")
    stored = await gallery["ctx"].db.settings.find_one({"_id": "gallery"})
    assert "s3cret-pass" not in str(stored), "the SMTP password is stored encrypted"
    admin = app.browser()
    await admin.login(p, "admin", gallery["password"])
    sent = await admin.post_form(p + "/admin/email", {"to": "ops@example.org"})
    async with asyncio.timeout(10):
        while "could not be sent" not in text(await admin.get(sent.headers["Location"])):
            await asyncio.sleep(0.05)
    events = text(await admin.get(p + "/admin/events?kind=email_failed"))
    assert "could not be sent" in events and "s3cret" not in events


async def test_error_notices_reach_the_admins_at_most_once_per_ten_minutes(
    app, make_gallery, mail_sink
):
    from gallery.notices.events import record_event

    gallery = await make_gallery("alpha")
    await _settings(gallery, admin_notify_emails=["boss@alpha.test", "deputy@alpha.test"])
    await record_event(
        gallery["ctx"], "error", "KeyError: 'boom' <script>", url="/albums/1", event_id="abcd1234"
    )
    await record_event(gallery["ctx"], "error", "KeyError: 'again'")
    message = await mail_sink.wait_for("deputy@alpha.test", "An error occurred")
    assert "KeyError: 'boom'" in body_text(message) and "&lt;script&gt;" in body_html(message)
    assert "/g/alpha/admin/events" in body_text(message)
    # The second error was logged, but queued no second notice.
    assert await gallery["ctx"].db.events.count_documents({"kind": "error"}) == 2
    assert await gallery["ctx"].db.outbox.count_documents({"template": "admin_error"}) == 1


async def test_installer_link_is_mailed_to_the_tenant_admin(app, mail_sink):
    from tenants.provision import create_tenant

    record, token = await create_tenant(
        app.services.registry, "beta", "Beta", [], "owner@beta.test"
    )
    await app.services.jobs.notify_installer(record, token)
    message = await mail_sink.wait_for("owner@beta.test", "Set up your gallery")
    assert link_in(message, "/install") == f"/g/beta/install?token={token}"
    async with asyncio.timeout(5):
        while (job := await app.services.host_db.jobs.find_one({"kind": "email.installer"}))[
            "state"
        ] != "done":
            await asyncio.sleep(0.05)
    assert job["payload"] == {}, "the token does not stay in the job"
