"""Hostile input is a client error (400), never a 500, and never tells the admins about an
"error": JSON nested 100,000 deep and lone surrogates on every JSON write of the API,
numbers in other scripts' digits and superscripts in query arguments and tus headers."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from gallery.settings import update_settings
from handlers.openapi import build_document
from tests.client import text
from tests.handlers.test_tus import TUS, Tus, metadata
from tests.handlers.test_uploads import jpeg_bytes, signed_in, upload

DEEP = b"[" * 100_000
DEEP_IN_OBJECT = b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
TOO_DEEP_BUT_PARSABLE = b'{"tags": ' + b"[" * 40 + b"]" * 40 + b"}"
SURROGATE = b'{"title": "Harbour \\ud800", "caption": "x", "summary": "\\udfff"}'
SURROGATE_KEY = b'{"\\ud800": 1}'


def json_writes() -> list[tuple[str, str]]:
    """Every API operation that takes a JSON body, from the OpenAPI document."""
    found = []
    for path, operations in build_document()["paths"].items():
        for method, op in operations.items():
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path))
    return found


async def _fixture_ids(gallery, browser, root) -> dict:
    uploaded = await upload(browser, gallery, root["_id"], jpeg_bytes(), "harbour.jpg")
    assert uploaded.code == 201, text(uploaded)
    admin = await gallery["ctx"].db.users.find_one({"username": "admin"})
    return {
        "album_id": root["_id"],
        "media_id": json.loads(uploaded.body)["_id"],
        "user_id": admin["_id"],
    }


async def _no_error_reported(ctx) -> None:
    errors = await ctx.db.events.find({"kind": "error"}).to_list()
    assert errors == [], errors
    mails = await ctx.db.outbox.find({}).to_list()
    assert [m for m in mails if "error" in json.dumps(m, default=str).lower()] == []


async def test_every_json_write_refuses_deep_nesting_and_lone_surrogates_with_400(
    app, make_gallery
):
    gallery, browser, root = await signed_in(app, make_gallery)
    ctx = gallery["ctx"]
    # Admins asked to hear about errors: a client's bad input must not be one.
    await update_settings(ctx, {"admin_notify_emails": ["admin@alpha.test"]})
    ids = await _fixture_ids(gallery, browser, root)
    # The remote sync trigger is authorised by its key before its body is read: give it one,
    # so the body checks below are what answers.
    made = await browser.api("POST", f"{gallery['prefix']}/api/v1/sync/key")
    assert made.code == 201, text(made)
    sync_key = json.loads(made.body)["key"]  # shown once, when made
    writes = json_writes()
    assert len(writes) >= 16, writes
    for method, path in writes:
        url = gallery["prefix"] + re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        for body, says in (
            (DEEP, "nested more than 32 levels"),
            (DEEP_IN_OBJECT, "nested more than 32 levels"),
            (TOO_DEEP_BUT_PARSABLE, "nested more than 32 levels"),
            (SURROGATE, "lone surrogate"),
            (SURROGATE_KEY, "lone surrogate"),
        ):
            headers = {"Content-Type": "application/json"}
            if path == "/api/v1/sync":
                headers["Authorization"] = f"Bearer {sync_key}"
            response = await browser.api(method, url, headers=headers, body=body)
            assert response.code == 400, (method, path, body[:30], text(response)[:300])
            assert says in json.loads(response.body)["error"]["message"], (method, path)
    await _no_error_reported(ctx)
    # Ordinary text still works, and no title was changed by the refused writes.
    fine = await browser.api(
        "PATCH",
        f"{gallery['prefix']}/api/v1/media/{ids['media_id']}",
        json_body={"title": "Harbour ☀"},
    )
    assert fine.code == 200, text(fine)
    assert json.loads(fine.body)["media"]["title"] == "Harbour ☀"


BAD_NUMBERS = ["²³", "٣", "1_000", "+5", "1e3", "0x10", "9" * 40, "-1"]


async def test_numbers_must_be_ascii_digits_in_query_arguments_and_tus_headers(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    tus = Tus(browser, gallery["prefix"])
    upload_id, _ = await tus.create(root["_id"], 10)
    for value in BAD_NUMBERS:
        listing = await browser.get(
            f"{gallery['prefix']}/api/v1/albums/{root['_id']}/media?limit={quote(value)}"
        )
        assert listing.code == 400, (value, text(listing))
        assert "limit" in json.loads(listing.body)["error"]["message"]

        raw = value.encode().decode("latin-1")  # headers travel as bytes; these are UTF-8's
        created = await tus.call(
            "POST",
            headers={
                "Upload-Length": raw,
                "Upload-Metadata": metadata(filename="a.txt", album_id=root["_id"]),
            },
        )
        assert created.code == 400, (value, text(created))
        assert "Upload-Length" in json.loads(created.body)["error"]["message"]
        patched = await tus.call(
            "PATCH",
            upload_id,
            body=b"0123456789",
            headers={"Upload-Offset": raw, "Content-Type": "application/offset+octet-stream"},
        )
        assert patched.code == 400, (value, text(patched))
    await _no_error_reported(gallery["ctx"])


async def test_tus_upload_length_in_superscripts_is_a_clear_400(app, make_gallery):
    gallery, browser, root = await signed_in(app, make_gallery)
    response = await browser.request(
        "POST",
        f"{gallery['prefix']}/api/v1/uploads/",
        headers={
            **TUS,
            "X-XSRFToken": browser.xsrf(),
            "Upload-Length": "²³",
            "Upload-Metadata": metadata(filename="a.txt", album_id=root["_id"]),
        },
        body=b"",
    )
    assert response.code == 400
    assert json.loads(response.body)["error"]["message"] == "Upload-Length must be a whole number."
