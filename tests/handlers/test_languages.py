"""A second language: every page in English and German, chosen by the member's setting or by
Accept-Language (hostile values fall back to English, never an error), e-mails in the
recipient's language, dates per language."""

from datetime import datetime

import pytest

from gallery import i18n
from gallery.library import albums
from gallery.library.media import add_media_file
from gallery.notices.mail import queue_mail, render
from gallery.processing.process import process_one
from tenants.host_admins import setup_token
from tests.client import text

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


async def _gallery_with_a_photo(app, make_gallery, viewer_of, make_jpeg):
    g = await make_gallery()
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Holidays"})
    media = await add_media_file(ctx, album, make_jpeg(80, 60), "beach.jpg", title="Beach")
    update = await process_one(ctx, app.services, media)
    await ctx.db.media.update_one({"_id": media["_id"]}, {"$set": update})
    return g, album, media


async def test_every_page_renders_in_english_and_german(app, make_gallery, viewer_of, make_jpeg):
    g, album, media = await _gallery_with_a_photo(app, make_gallery, viewer_of, make_jpeg)
    p = g["prefix"]
    user = await g["ctx"].db.users.find_one({"username": "admin"})
    anonymous = [f"{p}/login", f"{p}/register", f"{p}/forgot", f"{p}/no/such/page"]
    member = [
        f"{p}/", f"{p}/albums/{album['_id']}", f"{p}/media/{media['_id']}", f"{p}/search?q=beach",
        f"{p}/tags", f"{p}/timeline", f"{p}/trash", f"{p}/shares", f"{p}/upload", f"{p}/account",
        f"{p}/admin/settings", f"{p}/admin/users", f"{p}/admin/users/{user['_id']}", f"{p}/admin/roles",
        f"{p}/admin/events", f"{p}/admin/email", f"{p}/admin/backup", f"{p}/admin/sync",
        f"{p}/admin/queue", f"{p}/admin/import-gsp",
    ]
    host_browser = app.browser()
    token = await setup_token(app.services.host_db)
    host = ["/", f"/_host/setup?token={token}"]
    seen = {}
    for language, headers in (("en", ENGLISH), ("de", GERMAN)):
        visitor, admin = app.browser(), app.browser()
        assert (await admin.login(p, g["username"], g["password"])).code == 302
        for browser, paths in ((visitor, anonymous), (admin, member), (host_browser, host)):
            for path in paths:
                response = await browser.get(path, headers=headers)
                body = text(response)
                assert response.code in (200, 403, 404), (language, path, response.code, body[:300])
                assert f'<html lang="{language}"' in body, (language, path)
                seen[language, path] = body
    # The same page differs by language, and German words are there.
    for path in anonymous + member + host:
        assert seen["en", path] != seen["de", path], path
    assert "Abmelden" in seen["de", f"{p}/"] and "Sign out" in seen["en", f"{p}/"]
    assert "Nicht gefunden" in seen["de", f"{p}/no/such/page"]
    assert "Passwort vergessen?" in seen["de", f"{p}/login"]
    assert "Benutzer anlegen" in seen["de", f"{p}/admin/users"]
    # Cached page bodies (album, media) are kept per language: a German visit right after an
    # English one (same viewer class, nothing written between) is not served the English body.
    for path, german, english in ((f"{p}/albums/{album['_id']}", "Sortieren nach", "Sort by"),
                                  (f"{p}/media/{media['_id']}", "Original ansehen", "View original"),
                                  (f"{p}/media/{media['_id']}", "Abmessungen", "Dimensions")):
        assert english in text(await admin.get(path, headers=ENGLISH))
        body = text(await admin.get(path, headers=GERMAN))
        assert german in body and english not in body, path
    assert "Sign out" not in seen["de", f"{p}/admin/users"]
    # The settings page's words come from the typed schema (gallery/settings.py).
    assert "Anonymes Ansehen" in seen["de", f"{p}/admin/settings"] and "Allgemein" in seen["de", f"{p}/admin/settings"]
    assert "Anonymous browsing" in seen["en", f"{p}/admin/settings"]
    # Word tables in the code (permissions, kinds) and messages returned by helpers.
    assert "Alben und Medien ansehen" in seen["de", f"{p}/admin/roles"]
    assert ">Fotos</option>" in seen["de", f"{p}/search?q=beach"]
    assert "Diese Galerie ist nicht leer" in seen["de", f"{p}/admin/backup"]


@pytest.mark.parametrize("header", [
    "",
    "xx-YY, tlh;q=1",  # unknown tags
    "de;q=abc, fr;q=-1, de;q=nan",  # malformed and negative q-values: never chosen
    ";;;,,,=;q=",
    "de-DE-x-private-extra",  # more than two parts
    "en;q=0.1, " + ",".join(["zz;q=0.5"] * 4000),  # huge
    "\u00e4\u00f6\u00fc;q=1",
])
async def test_hostile_accept_language_gets_english_and_never_an_error(app, make_gallery, header):
    g = await make_gallery()
    response = await app.browser().get(f"{g['prefix']}/login", headers={"Accept-Language": header})
    assert response.code == 200
    assert '<html lang="en"' in text(response) and "Forgot your password?" in text(response)


async def test_a_good_q_value_wins_over_a_bad_one(app, make_gallery):
    g = await make_gallery()
    response = await app.browser().get(
        f"{g['prefix']}/login", headers={"Accept-Language": "de;q=bogus, en;q=0.1, de-AT;q=0.8"}
    )
    assert '<html lang="de"' in text(response)
    # An overflowing q-value is just a large one.
    response = await app.browser().get(f"{g['prefix']}/login", headers={"Accept-Language": "en;q=0.5, de;q=1e999999"})
    assert response.code == 200 and '<html lang="de"' in text(response)
    assert "Accept-Language" in response.headers.get("Vary", "")  # shared caches keep one per language


async def test_a_members_language_wins_over_the_browser_and_is_checked(app, make_gallery):
    g = await make_gallery()
    p = g["prefix"]
    browser = app.browser()
    await browser.login(p, g["username"], g["password"])
    saved = await browser.post_form(f"{p}/account", {"action": "language", "language": "de"}, headers=ENGLISH)
    assert saved.code == 200 and "Ihre Sprache wurde gespeichert." in text(saved)
    home = await browser.get(f"{p}/", headers=ENGLISH)
    assert '<html lang="de"' in text(home) and "Abmelden" in text(home)
    refused = await browser.post_form(f"{p}/account", {"action": "language", "language": "de\u0000<x>"})
    assert refused.code == 400
    user = await g["ctx"].db.users.find_one({"username": "admin"})
    assert user["language"] == "de"
    # Back to "as my browser asks": the header decides again.
    await browser.post_form(f"{p}/account", {"action": "language", "language": ""})
    assert '<html lang="en"' in text(await browser.get(f"{p}/", headers=ENGLISH))
    assert '<html lang="de"' in text(await browser.get(f"{p}/", headers=GERMAN))


async def test_mail_goes_out_in_the_recipients_language(app, make_gallery):
    g = await make_gallery()
    ctx = g["ctx"]
    await ctx.db.users.update_one({"username": "admin"}, {"$set": {"language": "de"}})
    outbox_id = await queue_mail(ctx, "admin@alpha.test", "test", {})
    doc = await ctx.db.outbox.find_one({"_id": outbox_id})
    assert doc["language"] == "de"
    stranger = await ctx.db.outbox.find_one({"_id": await queue_mail(ctx, "someone@else.test", "test", {})})
    assert stranger["language"] == ""
    subject, text_part, html_part = render("test", {}, title="Alpha <&>", language="de")
    assert subject == "Testnachricht von Alpha <&>"
    assert "funktioniert der E-Mail-Versand" in text_part and '<html lang="de">' in html_part
    assert "Alpha &lt;&amp;&gt;" in html_part
    subject, _text, html_part = render("test", {}, title="Alpha", language="xx")
    assert subject == "Test message from Alpha" and '<html lang="en">' in html_part


def test_dates_and_numbers_follow_the_language():
    moment = datetime(2026, 3, 4, 17, 5)
    assert i18n.formats("de").date(moment) == "04.03.2026"
    assert i18n.formats("en").date(moment) == "Mar 4, 2026"
    assert i18n.formats("de").number(1234567.5) == "1.234.567,5"
    assert i18n.formats("en").number(1234567.5) == "1,234,567.5"
    assert i18n.formats("de").datetime(moment, "short") == "04.03.26, 17:05 UTC"
    assert i18n.formats("en").datetime(None) == ""
    assert i18n.formats("de").month("2026-03") == "März 2026" and i18n.formats("en").month("2026-03") == "March 2026"


async def test_errors_raised_in_english_are_shown_in_german(app, make_gallery):
    g = await make_gallery()
    p = g["prefix"]
    browser = app.browser()
    await browser.get(f"{p}/login", headers=GERMAN)
    wrong = await browser.post_form(f"{p}/login", {"login": "admin", "password": "not-it-at-all"}, headers=GERMAN)
    assert "Falscher Benutzername oder falsches Passwort." in text(wrong)
    # The API answers in the asker's language too (tests/handlers/test_api_language.py).
    api = await browser.get(f"{p}/api/v1/albums/000000000000000000000000", headers={**GERMAN, "Accept": "application/json"})
    assert api.code in (401, 404) and ("Bitte" in text(api) or "gibt es nicht" in text(api)), text(api)
    # A message that is not in the catalogue (data, or formatted at run time) passes unchanged.
    await browser.login(p, g["username"], g["password"])
    await browser.get(f"{p}/account", headers=GERMAN)
    bad = await browser.post_form(f"{p}/account", {"action": "email", "current": "wrong", "email": "x@y.test"}, headers=GERMAN)
    assert "Das aktuelle Passwort stimmt nicht." in text(bad) or "Das Passwort stimmt nicht." in text(bad)
