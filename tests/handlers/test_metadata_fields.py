"""Issue 18, item 11: the metadata panel shows any field Atrium reads from a file, under the
admin's headings and in their order; editors correct the fields the admin allows, in place,
and the corrections (`meta_edits`) outlive re-processing, remade derivatives and backups."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from PIL import Image
from PIL.ExifTags import IFD, Base

from gallery.library import albums
from gallery.library.media import update_media
from gallery.people.roles import create_role
from gallery.people.users import create_user
from gallery.settings import get_settings, update_settings
from tests.client import text
from tests.handlers.media_api import settled, upload_file
from tests.waiting import until

PASSWORD = "Quiet-Harbour-Pelican-57"
XMP = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
 photoshop:City="Munich" photoshop:Credit="Wire Agency" photoshop:Source="Archive"/>
</rdf:RDF></x:xmpmeta>"""


@pytest.fixture
def config(make_config):
    """A job worker: uploads, rotations and the regenerate job are processed for real."""
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def photo() -> bytes:
    """A JPEG whose EXIF names its author and white balance, and whose XMP its city."""
    exif = Image.Exif()
    exif[Base.Make], exif[Base.Model], exif[Base.Artist] = "Canon", "Canon EOS 40D", "Ann Artist"
    exif.get_ifd(IFD.Exif)[Base.WhiteBalance] = 1
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 90, 160)).save(out, "JPEG", exif=exif, xmp=XMP)
    return out.getvalue()


def body(response) -> dict:
    return json.loads(response.body)


async def test_editors_correct_the_fields_the_admin_allows_and_processing_keeps_it(app, make_gallery):
    g, other = await make_gallery("alpha"), await make_gallery("beta")
    ctx, p = g["ctx"], g["prefix"]
    root = await albums.root_album(ctx)
    editors = await create_role(ctx, "Editors", ["view", "edit_media"], [root["_id"]])
    lookers = await create_role(ctx, "Lookers", ["view"], [root["_id"]])
    await create_user(ctx, "ed", "ed@example.org", PASSWORD, role_ids=[editors["_id"]])
    await create_user(ctx, "mia", "mia@example.org", PASSWORD, role_ids=[lookers["_id"]])
    admin, ed, mia, visitor, beta = (app.browser() for _ in range(5))
    for b, name, password in ((admin, "admin", g["password"]), (ed, "ed", PASSWORD), (mia, "mia", PASSWORD)):
        assert (await b.login(p, name, password)).code == 302
    assert (await beta.login(other["prefix"], "admin", other["password"])).code == 302
    media_id = await upload_file(admin, p, root["_id"], photo(), "harbour.jpg")
    assert (await settled(admin, p, media_id))["state"] == "ready"
    stored = await ctx.db.media.find_one({"_id": media_id})
    assert stored["metadata"]["xmp"]["city"] == "Munich" and stored["metadata"]["camera"]["artist"] == "Ann Artist"

    # The admin's fields, order and headings (a heading with markup is text, escaped).
    await update_settings(ctx, {
        "metadata_fields": ["author", "city", "credit", "white_balance", "country"],
        "metadata_labels": {"author": "Photographer <i>", "city": "Town"},
        "metadata_editable": ["author", "city", "country"],
    })
    page = text(await visitor.get(f"{p}/media/{media_id}"))
    dl = page[page.index('<dl class="facts metadata">'):page.index("</dl>")]
    assert [h for h in ("Photographer &lt;i&gt;", "Town", "Credit", "White balance") if f"<dt>{h}</dt>" in dl] == [
        "Photographer &lt;i&gt;", "Town", "Credit", "White balance"]
    assert dl.index("Ann Artist") < dl.index("Munich") < dl.index("Wire Agency") < dl.index("Manual")
    assert "<i>" not in dl and "data-editable" not in dl and 'data-field="country"' not in dl
    # Editors see the fields they may correct, empty ones too, so they can be filled in.
    mine = text(await ed.get(f"{p}/media/{media_id}"))
    assert 'data-field="country" data-editable="Country"' in mine
    assert 'data-field="city" data-editable="Town"' in mine and 'data-field="credit" data-editable' not in mine
    assert 'data-editable' not in text(await mia.get(f"{p}/media/{media_id}"))

    url = f"{p}/api/v1/media/{media_id}"
    # Who may: not a viewer, not a visitor, not another gallery's admin with this id.
    assert (await mia.api("PATCH", url, {"meta_edits": {"city": "Lyon"}})).code == 403
    assert (await visitor.api("PATCH", url, {"meta_edits": {"city": "Lyon"}})).code == 401
    assert (await beta.api("PATCH", f"{other['prefix']}/api/v1/media/{media_id}", {"meta_edits": {"city": "Lyon"}})).code == 404
    # Which fields: only those allowed (403), only text fields at all (400).
    refused = await ed.api("PATCH", url, {"meta_edits": {"credit": "Me"}})
    assert refused.code == 403 and "Credit line" in body(refused)["error"]["message"]
    for bad in ({"gps": "0, 0"}, {"title": "x"}, {"city": 5}, {"city": ["a"]}, {"city": "x" * 100_000},
                {"city": "a\x00b"}, {"city": "a\x1b[31mb"}, {"city": "a\x85b"}, "city=Lyon"):
        answer = await ed.api("PATCH", url, {"meta_edits": bad})
        assert answer.code == 400, (bad, text(answer))
    surrogate = await ed.api("PATCH", url, body=b'{"meta_edits": {"city": "\\ud800"}}',
                             headers={"Content-Type": "application/json"})
    assert surrogate.code == 400
    assert (await ctx.db.media.find_one({"_id": media_id})).get("meta_edits") is None  # nothing stored

    hostile = '<img src=x onerror="alert(1)">'
    answer = await ed.api("PATCH", url, {"meta_edits": {"city": "Lyon", "author": f"  Bob \t {hostile} "}})
    assert answer.code == 200, text(answer)
    assert body(answer)["media"]["meta_edits"] == {"city": "Lyon", "author": f"Bob {hostile}"}
    page = text(await visitor.get(f"{p}/media/{media_id}"))
    assert "Lyon" in page and "Munich" not in page and "Ann Artist" not in page
    assert hostile not in page and "Bob &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    # Search finds what the page shows, not what the correction replaced.
    found = lambda q: visitor.get(f"{p}/api/v1/search?q={q}")
    assert [m["id"] for m in body(await found("lyon"))["items"]] == [media_id]
    assert body(await found("munich"))["items"] == []

    # Re-processing (a rotation runs the processing job again) and remade derivatives keep it.
    assert (await ed.api("POST", f"{url}/rotate", {"rotate": 90})).code in (200, 202)

    async def turned():
        doc = await ctx.db.media.find_one({"_id": media_id})
        thumb = (doc.get("derivatives") or {}).get("thumbnail") or {}
        return doc if doc["state"] == "ready" and (thumb.get("width"), thumb.get("height")) == (30, 40) else None

    doc = await until(turned, 60)
    assert doc["meta_edits"] == {"city": "Lyon", "author": f"Bob {hostile}"}
    assert doc["metadata"]["xmp"]["city"] == "Munich"  # the file's value is still read and kept
    job = body(await admin.api("POST", f"{p}/api/v1/albums/{root['_id']}/regenerate", {}))["job_id"]

    async def finished():
        found_job = await app.services.host_db.jobs.find_one({"_id": job})
        return found_job if found_job["state"] in ("done", "failed") else None

    assert (await until(finished, 60))["state"] == "done"
    doc = await ctx.db.media.find_one({"_id": media_id})
    assert doc["meta_edits"]["city"] == "Lyon" and "lyon" in doc["search_keys"] and "munich" not in doc["search_keys"]

    # An empty correction hides the file's value; null removes the correction.
    assert (await ed.api("PATCH", url, {"meta_edits": {"author": ""}})).code == 200
    assert 'data-field="author"' not in text(await visitor.get(f"{p}/media/{media_id}"))
    answer = await ed.api("PATCH", url, {"meta_edits": {"author": None, "city": None}})
    assert answer.code == 200 and body(answer)["media"]["meta_edits"] == {}
    page = text(await visitor.get(f"{p}/media/{media_id}"))
    assert "Ann Artist" in page and "Munich" in page
    assert [m["id"] for m in body(await found("munich"))["items"]] == [media_id]
    # Two editors correcting different fields at once: both corrections stay.
    answers = await asyncio.gather(*(
        who.api("PATCH", url, {"meta_edits": {key: f"{key} {i}"}})
        for i in range(3) for who, key in ((ed, "city"), (admin, "country"))))
    assert [a.code for a in answers] == [200] * 6
    kept = body(await visitor.get(url))["media"]["meta_edits"]
    assert sorted(kept) == ["city", "country"] and all(v.startswith(k) for k, v in kept.items())
    # Once the admin no longer allows a field, editors cannot change it (the API refuses).
    await update_settings(ctx, {"metadata_editable": []})
    assert (await ed.api("PATCH", url, {"meta_edits": {"city": "Lyon"}})).code == 403


async def test_headings_and_editable_fields_are_saved_from_the_settings_page(app, make_gallery):
    from tests.handlers.test_settings_page import form_of

    g = await make_gallery("alpha")
    admin = app.browser()
    assert (await admin.login(g["prefix"], "admin", g["password"])).code == 302
    page = text(await admin.get(g["prefix"] + "/admin/settings"))
    assert 'name="metadata_labels.author"' in page and 'placeholder="Author"' in page
    assert 'name="metadata_editable" value="city"' in page and 'name="metadata_editable" value="gps"' not in page
    values = await get_settings(g["ctx"])
    form = form_of(values, metadata_fields=["city", "author"], metadata_editable=["city"])
    form.pop("metadata_labels", None)
    saved = await admin.post_form(g["prefix"] + "/admin/settings",
                                  {**form, "metadata_labels.author": "  Photographer ", "metadata_labels.city": ""})
    assert saved.code == 200, text(saved)[:300]
    values = await get_settings(g["ctx"])
    assert values["metadata_labels"] == {"author": "Photographer"} and values["metadata_editable"] == ["city"]
    assert values["metadata_fields"] == ["city", "author"]
    assert 'name="metadata_labels.author" value="Photographer"' in text(saved)
    for bad in ("x" * 61, "tab\x0bstop", "del\x7f", "x" * 100_000):
        refused = await admin.post_form(g["prefix"] + "/admin/settings", {**form, "metadata_labels.author": bad})
        assert refused.code == 400 and '<span class="field-error">Metadata panel headings of Author must' in text(refused)
    refused = await admin.post_form(g["prefix"] + "/admin/settings", {**form, "metadata_editable": ["city", "gps"]})
    assert refused.code == 400
    assert (await get_settings(g["ctx"]))["metadata_labels"] == {"author": "Photographer"}


async def test_corrections_travel_in_backups(app, make_gallery, tmp_path, viewer_of):
    from gallery.archive.export import export_to_file
    from gallery.intake.ingest import job_queue
    from tenants.restore import restore_new
    from tests.gallery.intake.test_ingest import ingest_bytes, jpeg_bytes

    g = await make_gallery("alpha")
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    admin = await ctx.db.users.find_one({"username": "admin"})
    media = await ingest_bytes(ctx, root, admin, jpeg_bytes((10, 200, 30)), "beach.jpg")
    await update_settings(ctx, {"metadata_editable": ["city", "copyright"]})
    await update_media(ctx, await viewer_of(ctx), media["_id"], {"meta_edits": {"city": "Zürich", "copyright": "© Ann"}})
    out = tmp_path / "alpha.zip"
    await export_to_file(ctx, out)
    await restore_new(app.services.registry, job_queue(app.services), out, "gamma", title="Gamma")
    new = await app.services.registry.context_for_slug("gamma")
    restored = await new.db.media.find_one({"_id": media["_id"]})
    assert restored["meta_edits"] == {"city": "Zürich", "copyright": "© Ann"}
    assert "zurich" in restored["search_keys"]
