"""The event log in its reader's language: events recorded as Messages keep their template
and values, so the page shows them in German to a German admin and in English otherwise;
the stored English `message` (searched, mailed) is unchanged; an old or damaged event shows
as it was written."""

from __future__ import annotations

import json
from urllib.parse import quote, unquote_plus

from gallery import i18n
from gallery.i18n import Message
from gallery.library.albums import root_album
from gallery.notices.events import record_event, shown_message
from tests.client import text

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


async def test_the_event_log_speaks_the_readers_language(app, make_gallery, make_jpeg):
    g = await make_gallery()
    ctx, prefix = g["ctx"], g["prefix"]
    admin = app.browser()
    assert (await admin.login(prefix, g["username"], g["password"])).code == 302
    root = await root_album(ctx)
    created = await admin.api("POST", f"{prefix}/api/v1/albums", json_body={"parent_id": root["_id"], "title": "Hafen"})
    album = json.loads(created.body)["album"]
    upload = await admin.api("POST", f"{prefix}/api/v1/albums/{album['id']}/upload",
                             body=make_jpeg().read_bytes(), headers={"X-File-Name": quote("boot.jpg")})
    assert upload.code == 201, text(upload)
    stored = await ctx.db.events.find_one({"kind": "upload"})
    assert stored["message"] == "“boot” uploaded to “Hafen”"  # what search and mail read
    german = text(await admin.get(f"{prefix}/admin/events", headers=GERMAN))
    english = text(await admin.get(f"{prefix}/admin/events"))
    assert "“boot” nach “Hafen” hochgeladen" in german and "uploaded to" not in german
    assert "Album “Hafen” in “Alpha Gallery” angelegt" in german
    assert "“boot” uploaded to “Hafen”" in english
    # Searching the log still finds the English words.
    found = text(await admin.get(f"{prefix}/admin/events?q=uploaded", headers=GERMAN))
    assert "“boot” nach “Hafen” hochgeladen" in found


async def test_old_and_damaged_events_show_as_written(app, make_gallery):
    g = await make_gallery()
    ctx = g["ctx"]
    plain = await record_event(ctx, "settings", "Settings changed: gallery_title")
    said = await record_event(ctx, "settings", Message("Settings changed: %(keys)s", keys="gallery_title"))
    german = i18n.get("de").translate
    assert shown_message(plain, german) == "Settings changed: gallery_title"
    assert shown_message(said, german) == "Einstellungen geändert: gallery_title"
    broken = {**said, "said": {"template": "%(nope)s", "values": {}}}
    assert shown_message(broken, german) == "Settings changed: gallery_title"
    assert shown_message({**said, "said": {"template": 5}}, german) == "Settings changed: gallery_title"


async def test_the_trash_says_what_it_did_in_german(app, make_gallery, make_jpeg):
    g = await make_gallery()
    ctx, prefix = g["ctx"], g["prefix"]
    admin = app.browser()
    assert (await admin.login(prefix, g["username"], g["password"])).code == 302
    root = await root_album(ctx)
    upload = await admin.api("POST", f"{prefix}/api/v1/albums/{root['_id']}/upload",
                             body=make_jpeg().read_bytes(), headers={"X-File-Name": quote("boot.jpg")})
    media_id = json.loads(upload.body)["_id"]
    assert (await admin.api("DELETE", f"{prefix}/api/v1/media/{media_id}")).code == 200
    entry = await ctx.db.trash.find_one({})
    await admin.get(f"{prefix}/trash", headers=GERMAN)
    restored = await admin.post_form(f"{prefix}/trash/{entry['_id']}/restore", {}, headers=GERMAN,
                                     follow=False)
    assert restored.code == 302
    assert "„boot“ ist wieder da." in unquote_plus(restored.headers["Location"])
    log = text(await admin.get(f"{prefix}/admin/events", headers=GERMAN))
    assert "Element „boot“ aus dem Papierkorb wiederhergestellt" in log
    assert "Element “boot” in den Papierkorb verschoben" in log
