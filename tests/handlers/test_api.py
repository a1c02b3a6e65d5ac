"""The JSON API v1: albums, media, jobs, pagination bounds, errors, live state, OpenAPI."""

import asyncio
import json
import re

import pytest

from gallery.library import albums
from gallery.library.media import add_media_file
from server.app import make_app

JSON_ID = "0123456789abcdef01234567"


async def _signed_in(app, make_gallery, slug="alpha"):
    g = await make_gallery(slug)
    browser = app.browser()
    await browser.login(g["prefix"], "admin", g["password"])
    return g, browser


def _json(response):
    return json.loads(response.body)


async def test_album_lifecycle_through_the_api(app, make_gallery):
    g, b = await _signed_in(app, make_gallery)
    api = f"{g['prefix']}/api/v1"
    root = _json(await b.api("GET", f"{api}/albums"))["album"]
    created = await b.api("POST", f"{api}/albums", {"parent_id": root["id"], "title": "Trips"})
    assert created.code == 201
    trips = _json(created)["album"]
    sub = _json(await b.api("POST", f"{api}/albums", {"parent_id": trips["id"], "title": "Rome"}))[
        "album"
    ]
    other = _json(
        await b.api("POST", f"{api}/albums", {"parent_id": root["id"], "title": "Other"})
    )["album"]

    page = _json(await b.api("GET", f"{api}/albums/{trips['id']}"))
    assert [c["title"] for c in page["children"]] == ["Rome"] and page["media"]["total"] == 0

    edited = await b.api(
        "PATCH", f"{api}/albums/{trips['id']}", {"title": "Journeys", "sort_field": "title"}
    )
    assert _json(edited)["album"]["title"] == "Journeys"
    bad = await b.api("PATCH", f"{api}/albums/{trips['id']}", {"sort_field": "colour"})
    assert (
        bad.code == 400
        and _json(bad)["error"]["code"] == "invalid"
        and "sort_field" in _json(bad)["error"]["fields"]
    )

    into_itself = await b.api("POST", f"{api}/albums/{trips['id']}/move", {"parent_id": sub["id"]})
    assert into_itself.code == 400
    moved = await b.api("POST", f"{api}/albums/{trips['id']}/move", {"parent_id": other["id"]})
    assert _json(moved)["album"]["ancestors"] == [root["id"], other["id"]]
    copied = await b.api("POST", f"{api}/albums/{trips['id']}/copy", {"parent_id": root["id"]})
    assert copied.code == 201
    deleted = await b.api("DELETE", f"{api}/albums/{other['id']}")
    assert _json(deleted)["deleted"] == {"albums": 3, "media": 0}
    assert (await b.api("GET", f"{api}/albums/{trips['id']}")).code == 404


async def test_writes_need_the_xsrf_header_and_visitors_cannot_write(app, make_gallery):
    g, b = await _signed_in(app, make_gallery)
    api = f"{g['prefix']}/api/v1"
    root = _json(await b.api("GET", f"{api}/albums"))["album"]
    no_token = await b.request(
        "POST", f"{api}/albums", json_body={"parent_id": root["id"], "title": "X"},
        expect_xsrf_refusal=True,
    )
    assert no_token.code == 403
    visitor = app.browser()
    await visitor.get(f"{g['prefix']}/login")  # for the _xsrf cookie
    response = await visitor.api("POST", f"{api}/albums", {"parent_id": root["id"], "title": "X"})
    assert response.code == 401 and _json(response)["error"]["code"] == "not_authenticated"


async def test_media_through_the_api_and_pagination_bounds(app, make_gallery, make_jpeg):
    g, b = await _signed_in(app, make_gallery)
    ctx = g["ctx"]
    api = f"{g['prefix']}/api/v1"
    root = await albums.root_album(ctx)
    ids = [
        (await add_media_file(ctx, root, make_jpeg(20, 20), f"{i}.jpg"))["_id"] for i in range(5)
    ]

    page = _json(await b.api("GET", f"{api}/albums/{root['_id']}/media?limit=2"))
    assert (
        page["total"] == 5 and [m["id"] for m in page["items"]] == ids[:2] and page["next_cursor"]
    )
    nxt = _json(
        await b.api("GET", f"{api}/albums/{root['_id']}/media?limit=2&cursor={page['next_cursor']}")
    )
    assert [m["id"] for m in nxt["items"]] == ids[2:4]
    by_offset = _json(await b.api("GET", f"{api}/albums/{root['_id']}/media?limit=2&offset=4"))
    assert [m["id"] for m in by_offset["items"]] == ids[4:] and by_offset["next_cursor"] is None
    for query in (
        "limit=0",
        "limit=501",
        "limit=-1",
        "offset=-1",
        "offset=99999999",
        "limit=abc",
        "cursor=zz",
    ):
        response = await b.api("GET", f"{api}/albums/{root['_id']}/media?{query}")
        assert response.code == 400, query
        assert _json(response)["error"]["code"] == "invalid"

    one = _json(await b.api("GET", f"{api}/media/{ids[0]}"))["media"]
    assert one["state"] == "pending" and one["urls"]["original"].endswith(
        f"/media/{ids[0]}/original"
    )
    edited = _json(
        await b.api("PATCH", f"{api}/media/{ids[0]}", {"title": "First", "tags": ["A", "a", "B"]})
    )
    assert edited["media"]["title"] == "First" and edited["media"]["tags"] == ["A", "B"]
    polled = _json(await b.api("GET", f"{api}/media?ids={ids[0]},{ids[1]}&fields=state"))
    assert sorted(polled["items"], key=lambda m: m["id"]) == [
        {"id": ids[0], "state": "pending"},
        {"id": ids[1], "state": "pending"},
    ]
    assert (await b.api("GET", f"{api}/media?ids=nope")).code == 400

    rotated = await b.api("POST", f"{api}/media/{ids[0]}/rotate", {"rotate": 90})
    assert rotated.code == 202
    jobs = _json(await b.api("GET", f"{api}/jobs"))["items"]
    assert any(j["kind"] == "media.process" and j["payload"]["media_id"] == ids[0] for j in jobs)
    job = next(j for j in jobs if j["kind"] == "media.process")
    cancelled = _json(await b.api("POST", f"{api}/jobs/{job['id']}/cancel"))["job"]
    assert cancelled["state"] == "cancelled"

    cover = await b.api("POST", f"{api}/media/{ids[1]}/cover", {})
    assert _json(cover)["album"]["cover_id"] == ids[1]
    assert (await b.api("DELETE", f"{api}/media/{ids[1]}")).code == 200
    assert (await b.api("GET", f"{api}/media/{ids[1]}")).code == 404


async def test_another_tenants_ids_answer_404_everywhere(app, make_gallery, make_jpeg):
    g, _ = await _signed_in(app, make_gallery, "alpha")
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    media = await add_media_file(ctx, root, make_jpeg(20, 20), "x.jpg")
    from jobs.queue import JobQueue

    job_id = await JobQueue(app.services.host_db).enqueue(
        "alpha", "media.process", {"media_id": media["_id"]}
    )
    other, b = await _signed_in(app, make_gallery, "beta")
    api = f"{other['prefix']}/api/v1"
    for method, path, body in [
        ("GET", f"/albums/{root['_id']}", None),
        ("PATCH", f"/albums/{root['_id']}", {"title": "x"}),
        ("DELETE", f"/albums/{root['_id']}", None),
        ("GET", f"/albums/{root['_id']}/media", None),
        ("GET", f"/media/{media['_id']}", None),
        ("PATCH", f"/media/{media['_id']}", {"title": "x"}),
        ("DELETE", f"/media/{media['_id']}", None),
        ("POST", f"/media/{media['_id']}/rotate", {"rotate": 90}),
        ("POST", f"/media/{media['_id']}/cover", {}),
        ("GET", f"/jobs/{job_id}", None),
        ("POST", f"/jobs/{job_id}/cancel", None),
    ]:
        response = await b.api(method, api + path, body)
        assert response.code == 404, (method, path, response.code)
        assert _json(response)["error"]["code"] == "not_found"
    polled = _json(await b.api("GET", f"{api}/media?ids={media['_id']}"))
    assert polled["items"] == []


async def test_the_event_stream_reports_state_changes_and_ends(
    app, make_gallery, make_jpeg, monkeypatch
):
    from handlers.api_albums import AlbumEventsHandler

    monkeypatch.setattr(AlbumEventsHandler, "POLL_SECONDS", 0.05)
    g, b = await _signed_in(app, make_gallery)
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    media = await add_media_file(ctx, root, make_jpeg(20, 20), "x.jpg")
    chunks = []
    first = asyncio.Event()

    def on_chunk(chunk):
        chunks.append(chunk)
        first.set()

    request = asyncio.ensure_future(
        b.get(
            f"{g['prefix']}/api/v1/albums/{root['_id']}/events",
            streaming_callback=on_chunk,
            request_timeout=20,
        )
    )
    await asyncio.wait_for(first.wait(), 10)
    from datetime import UTC, datetime

    await ctx.db.media.update_one(
        {"_id": media["_id"]}, {"$set": {"state": "ready", "updated": datetime.now(UTC)}}
    )
    response = await asyncio.wait_for(request, 15)
    assert response.code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    stream = b"".join(chunks).decode()
    events = re.findall(r"event: (\w+)\ndata: (.*)\n", stream)
    states = [json.loads(d)["state"] for e, d in events if e == "media"]
    assert states[0] == "pending" and states[-1] == "ready"
    assert events[-1][0] == "done"


def test_every_api_route_is_described_in_the_openapi_document(services):
    from handlers.openapi import build_document

    doc = build_document()
    described = []
    for path in doc["paths"]:
        described.append(re.sub(r"\{[^}]+\}", JSON_ID, path))
    application = make_app(services)
    routes = [rule.matcher.regex.pattern for rule in application.tenant_app.wildcard_router.rules]
    api_routes = [r for r in routes if r.startswith("/api/v1")]
    assert api_routes
    for pattern in api_routes:
        regex = re.compile(pattern if pattern.endswith("$") else pattern + "$")
        assert any(regex.match(p) for p in described), f"{pattern} is not in openapi.json"
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert (
                method in ("get", "post", "put", "patch", "delete", "head", "options")
                and op["responses"]
            ), path


async def test_the_openapi_document_is_served(app, make_gallery):
    g = await make_gallery("alpha")
    response = await app.browser().get(f"{g['prefix']}/api/v1/openapi.json")
    doc = _json(response)
    assert doc["openapi"].startswith("3.") and "/api/v1/albums/{album_id}" in doc["paths"]
    assert doc["servers"][0]["url"].endswith("/g/alpha")


@pytest.mark.parametrize("path", ["/api/v1/albums/zzz", "/api/v1/media/../x", "/api/v1/jobs/1"])
async def test_malformed_ids_are_json_404s(app, make_gallery, path):
    g, b = await _signed_in(app, make_gallery)
    response = await b.api("GET", g["prefix"] + path)
    assert response.code == 404
