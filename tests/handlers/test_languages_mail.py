"""A member who chose German gets German mail through a real SMTP server (aiosmtpd): the
reset link asked for from an English browser still comes in the member's language."""

from __future__ import annotations

import pytest

from tests.mail_server import body_html, body_text, link_in, mail_config


@pytest.fixture
def config(make_config, mail_sink):
    return mail_config(make_config, mail_sink)


async def test_a_german_member_gets_the_reset_mail_in_german(app, make_gallery, mail_sink):
    g = await make_gallery("alpha")
    p = g["prefix"]
    await g["ctx"].db.users.update_one({"username": "admin"}, {"$set": {"language": "de"}})
    visitor = app.browser()
    await visitor.get(p + "/forgot", headers={"Accept-Language": "en"})
    await visitor.post_form(p + "/forgot", {"login": "admin@alpha.test"}, headers={"Accept-Language": "en"})
    message = await mail_sink.wait_for("admin@alpha.test", "Setzen Sie Ihr Passwort")
    assert message["Subject"] == "Setzen Sie Ihr Passwort bei Alpha Gallery zurück"
    assert "Hallo admin," in body_text(message) and "Passwort" in body_text(message)
    assert '<html lang="de">' in body_html(message) and "Passwörter werden nie per E-Mail verschickt" in body_html(message)
    assert link_in(message, "/reset").startswith(p + "/reset?token=")


async def test_without_a_choice_the_mail_speaks_the_language_the_page_was_asked_in(app, make_gallery, mail_sink):
    g = await make_gallery("alpha")
    p = g["prefix"]
    visitor = app.browser()
    german = {"Accept-Language": "de-CH,de;q=0.9"}
    await visitor.get(p + "/forgot", headers=german)
    await visitor.post_form(p + "/forgot", {"login": "admin"}, headers=german)
    message = await mail_sink.wait_for("admin@alpha.test", "Alpha Gallery")
    assert message["Subject"] == "Setzen Sie Ihr Passwort bei Alpha Gallery zurück"
    # A member who chose English keeps English whatever the browser asks.
    await g["ctx"].db.users.update_one({"username": "admin"}, {"$set": {"language": "en"}})
    await g["ctx"].db.reset_requests.delete_many({})
    await visitor.post_form(p + "/forgot", {"login": "admin"}, headers=german)
    message = await mail_sink.wait_for("admin@alpha.test", "Alpha Gallery", count=2)
    assert message["Subject"] == "Reset your password at Alpha Gallery"
