"""The API's errors in the asker's language (issue 18 item 15): the member's choice, else
Accept-Language, else English; `code` never changes; without Accept-Language the answer
is the English of before, byte for byte."""

import json
import pickle

import pytest

from gallery import i18n
from gallery.library import albums
from tests.client import text

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def _error(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), text(response)[:200]
    return json.loads(response.body)["error"]


async def _admin(app, g):
    browser = app.browser()
    assert (await browser.login(g["prefix"], g["username"], g["password"])).code == 302
    return browser


async def _refused_title(browser, g, headers=None):
    """PATCH an album with an empty title: 400 with a field error."""
    root = await albums.root_album(g["ctx"])
    return await browser.api("PATCH", f"{g['prefix']}/api/v1/albums/{root['_id']}", {"title": "  "},
                             headers=dict(headers or {}))


async def test_a_refused_api_call_answers_in_the_browsers_language(app, make_gallery):
    g = await make_gallery()
    browser = await _admin(app, g)
    english = _error(await _refused_title(browser, g))
    assert english == {"code": "invalid", "message": "Please correct the marked fields.",
                       "fields": {"title": "is required (at most 200 characters)"}}
    assert _error(await _refused_title(browser, g, ENGLISH)) == english
    german = _error(await _refused_title(browser, g, GERMAN))
    assert german == {"code": "invalid", "message": "Bitte korrigieren Sie die markierten Felder.",
                      "fields": {"title": "ist erforderlich (höchstens 200 Zeichen)"}}
    # Austrian German is German; the answer says it varies by the header.
    response = await _refused_title(browser, g, {"Accept-Language": "de-AT"})
    assert _error(response)["message"] == german["message"]
    assert "Accept-Language" in response.headers.get("Vary", "")


async def test_a_message_with_values_is_translated_with_them(app, make_gallery):
    g = await make_gallery()
    browser = await _admin(app, g)
    root = await albums.root_album(g["ctx"])
    path = f"{g['prefix']}/api/v1/albums/{root['_id']}/upload"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>'
    english = _error(await browser.api("POST", path, body=svg, headers={"X-File-Name": "x.svg"}))
    german = _error(await browser.api("POST", path, body=svg, headers={"X-File-Name": "x.svg", **GERMAN}))
    assert english["code"] == german["code"] == "unsupported_media_type"
    assert english["message"].startswith("This file is image/svg+xml (")
    assert english["message"].endswith("which this gallery does not accept.")
    assert german["message"].startswith("Diese Datei ist vom Typ image/svg+xml (")
    assert german["message"].endswith("den diese Galerie nicht annimmt.")
    # A field error with a value: the value (a list of names) stays as it is.
    sort = await browser.api("PATCH", f"{g['prefix']}/api/v1/albums/{root['_id']}", {"sort_field": "nope"},
                             headers=GERMAN)
    assert _error(sort)["fields"]["sort_field"].startswith("muss eines davon sein: position, title"), text(sort)


async def test_a_members_language_wins_over_an_english_browser(app, make_gallery):
    g = await make_gallery()
    browser = await _admin(app, g)
    await g["ctx"].db.users.update_one({"username": g["username"]}, {"$set": {"language": "de"}})
    error = _error(await _refused_title(browser, g, ENGLISH))
    assert error["message"] == "Bitte korrigieren Sie die markierten Felder."
    assert error["fields"] == {"title": "ist erforderlich (höchstens 200 Zeichen)"}
    # Signed out, the same browser is asked by its header again: English.
    anonymous = await app.browser().get(f"{g['prefix']}/api/v1/no/such/route", headers=ENGLISH)
    assert _error(anonymous)["message"] == "There is nothing at this address."


async def test_status_titles_and_marked_messages_are_translated(app, make_gallery):
    g = await make_gallery()
    p = g["prefix"]
    visitor = app.browser()
    missing = await visitor.get(f"{p}/api/v1/no/such/route", headers=GERMAN)
    assert missing.code == 404
    assert _error(missing) == {"code": "not_found", "message": "Unter dieser Adresse gibt es nichts."}
    assert _error(await visitor.get(f"{p}/api/v1/no/such/route"))["message"] == "There is nothing at this address."
    # A status title (Tornado's bare 405) and a message marked with N_ (no gallery here).
    wrong = await visitor.request("TRACE", f"{p}/api/v1/albums", headers=GERMAN)
    assert wrong.code == 405 and _error(wrong) == {"code": "method_not_allowed", "message": "Methode nicht erlaubt"}
    nobody = await visitor.get("/g/nosuchgallery/api/v1/albums", headers=GERMAN)
    assert nobody.code == 404 and _error(nobody)["message"] == "Unter dieser Adresse gibt es keine Galerie."


async def test_the_settings_page_shows_its_field_errors_in_german(app, make_gallery):
    g = await make_gallery()
    browser = await _admin(app, g)
    page = f"{g['prefix']}/admin/settings"
    await browser.get(page, headers=GERMAN)
    refused = await browser.post_form(page, {"thumbnail_size": "5", "watermark_color": "red"}, headers=GERMAN)
    body = text(refused)
    assert refused.code == 400, body[:300]
    assert "muss mindestens 64 sein" in body and "muss eine Farbe wie #ffffff sein" in body
    assert "must be at least" not in body and "must be a colour" not in body


@pytest.mark.parametrize("header", [
    "",
    "xx-YY, tlh;q=1",
    "de;q=abc, fr;q=-1, de;q=nan",
    ";;;,,,=;q=",
    "en;q=0.1, " + ",".join(["zz;q=0.5"] * 4000),
    "\u00e4\u00f6\u00fc;q=1",
])
async def test_a_hostile_accept_language_gets_english_and_never_an_error(app, make_gallery, header):
    g = await make_gallery()
    browser = await _admin(app, g)
    response = await _refused_title(browser, g, {"Accept-Language": header})
    assert response.code == 400
    assert _error(response)["message"] == "Please correct the marked fields."


def test_a_message_keeps_its_template_values_and_english():
    inner = i18n.Message("at most %(count)s", count=5)
    outer = i18n.Message("%(setting)s %(reason)s", setting=i18n.Message("Tags"), reason=inner)
    assert outer == "Tags at most 5" and json.dumps(outer) == '"Tags at most 5"'
    german = i18n.get("de").translate
    assert outer.translated(german) == "Schlagwörter: höchstens 5"
    copied = pickle.loads(pickle.dumps(outer))  # errors cross the process pool
    assert copied == outer and copied.template == outer.template
    # A translation that lost a placeholder falls back to the English, never an error.
    assert i18n.Message("%(a)s and %(b)s", a=1, b=2).translated(lambda _m: "%(c)s") == "1 and 2"
