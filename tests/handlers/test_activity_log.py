"""The activity history (issue 17, item 8): uploads, album changes, moves, copies,
deletions to the trash and restores are recorded with who, what and when, and the event log
page filters them by kind, who and date range (hostile values are no filter, never an
error), pages them and stays within its size."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from gallery.library.albums import root_album
from gallery.notices.events import record_event
from gallery.settings import update_settings
from tests.client import text


async def test_actions_are_recorded_and_the_log_filters_them(app, make_gallery, make_jpeg):
    g = await make_gallery("alpha")
    ctx, prefix = g["ctx"], g["prefix"]
    admin = app.browser()
    assert (await admin.login(prefix, "admin", g["password"])).code == 302
    api = f"{prefix}/api/v1"
    root = await root_album(ctx)

    async def call(method, path, body=None, code=200):
        response = await admin.api(method, api + path, json_body=body)
        assert response.code == code, (path, text(response))
        return json.loads(response.body)

    trips = (await call("POST", "/albums", {"parent_id": root["_id"], "title": "Trips"}, 201))["album"]
    other = (await call("POST", "/albums", {"parent_id": root["_id"], "title": "Other"}, 201))["album"]
    await call("PATCH", f"/albums/{trips['id']}", {"title": "Trips 2026", "summary": "Sun"})
    upload = await admin.api("POST", f"{api}/albums/{trips['id']}/upload",
                             body=make_jpeg().read_bytes(), headers={"X-File-Name": quote("sea.jpg")})
    assert upload.code == 201, text(upload)
    answer = json.loads(upload.body)
    media_id = answer.get("_id") or answer.get("id")
    await call("POST", f"/media/{media_id}/move", {"album_id": other["id"]})
    await call("POST", "/media/bulk", {"action": "copy", "ids": [media_id], "album_id": trips["id"]})
    await call("DELETE", f"/media/{media_id}")
    entry = await ctx.db.trash.find_one({})
    restored = await admin.post_form(f"{prefix}/trash/{entry['_id']}/restore", {})
    assert restored.code == 302
    await call("POST", f"/albums/{other['id']}/move", {"parent_id": trips["id"]})
    await call("DELETE", f"/albums/{other['id']}")

    expected = {
        "album_created": "Album “Trips” created in “",
        "album_changed": "Album “Trips 2026” changed: summary, title",
        "upload": "“sea” uploaded to “Trips 2026”",
        "media_moved": "Item “sea” moved to “Other”",
        "media_copied": "1 item(s) copied to “Trips 2026” (selection)",
        "media_deleted": "Item “sea” moved to the trash",
        "restored": "Item “sea” restored from the trash",
        "album_moved": "Album “Other” moved into “Trips 2026”",
        "album_deleted": "Album “Other” moved to the trash (1 album(s), 1 item(s))",
    }
    for kind, message in expected.items():
        found = await ctx.db.events.find({"kind": kind}).to_list()
        assert any(message in e["message"] for e in found), (kind, [e["message"] for e in found])
        assert all(e["username"] == "admin" and e["ip"] for e in found)

    # The page: by kind, by who, by date range; hostile values filter nothing away.
    async def rows(query: str) -> str:
        page = await admin.get(f"{prefix}/admin/events?{query}")
        assert page.code == 200, query
        return text(page)

    only_uploads = await rows("kind=upload")
    assert "uploaded to" in only_uploads and "moved to the trash" not in only_uploads
    today = datetime.now(UTC).date()
    assert "uploaded to" in await rows(f"kind=upload&who=ADMIN&from={today}&to={today}")
    for query in (f"kind=upload&from={today + timedelta(days=1)}",
                  f"kind=upload&to={today - timedelta(days=1)}",
                  "kind=upload&who=nobody", "kind=upload&who=.*", "kind=upload&who=adm"):
        assert "No events." in await rows(query), query
    for query in ("kind=upload&from=2026-13-45&to=yesterday", "kind=upload&page=-5",
                  "kind=upload&page=abc&who=%3Cscript%3Ealert(7)%3C/script%3E", "kind=upload&page=99999999999"):
        body = await rows(query)
        assert "<script>alert(7)" not in body
    assert "uploaded to" in await rows("kind=upload&from=2026-13-45")

    # Kept within its size: the newest event_log_size entries.
    await update_settings(ctx, {"event_log_size": 100})
    for n in range(105):
        await record_event(ctx, "test", f"filler {n}")
    assert await ctx.db.events.count_documents({}) == 100
    first = await rows("kind=test")
    assert "filler 104" in first and "the log keeps the newest 100" in first
    assert await ctx.db.events.find_one({"message": "filler 0"}) is None  # the oldest went
