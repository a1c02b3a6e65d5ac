"""Every GSP generation (2.5, 2.6, 3.x, 4.x) imports into a real empty gallery: the realistic
sample of tests/gsp_fixtures.py (gallery 2 of three, 6-deep albums, unicode, HTML captions,
tags with commas and spaces, every role column, users in every password format, every
metadata code, external media, a missing file, GSP's own thumbnails) comes out as its neutral
content says, compared item by item."""

from __future__ import annotations

import pytest

from gallery.gspimport import mapping
from gallery.gspimport.importer import import_backup
from gallery.intake.ingest import job_queue
from gallery.notices.mail import job_urls
from tests.gsp_fixtures import write_backup

GENERATIONS = {"2.5": "2.5", "2.6": "2.6", "3.2.1": "3.x", "4.5.0": "4.x"}


@pytest.mark.parametrize("layout", list(GENERATIONS))
async def test_every_generation_imports_what_its_backup_holds(app, make_gallery, tmp_path, layout):
    b = write_backup(tmp_path, layout, zipped=True, media=True, media_zip=True)
    content, expected = b.content, b.expected(2)
    ctx = (await make_gallery("gen" + layout.replace(".", "")))["ctx"]
    services = app.services
    report = await import_backup(ctx, services.registry, b.backup, b.media_zips[2], 2,
                                 queue=job_queue(services), urls=job_urls(ctx, services.config))
    assert report["generation"] == GENERATIONS[layout]
    db = ctx.db

    albums = {a["gsp"]["id"]: a for a in await db.albums.find({"gsp.id": {"$exists": True}}).to_list()}
    mine = [a for a in content.albums if a.gallery_id == 2]
    assert sorted(albums) == sorted(a.id for a in mine)
    for album in mine:
        doc = albums[album.id]
        assert doc["title"] == album.title.strip(), album.id
        if album.parent_id is not None:
            assert doc["dirpath"] == "/".join(content.album_path(album.id)), album.id
        assert doc["private"] == album.is_private or doc["private"] is True
    deepest = max(albums.values(), key=lambda a: len(a.get("ancestors", [])))
    assert len(deepest["ancestors"]) == 6

    media = {m["gsp"]["id"]: m for m in await db.media.find({}).to_list()}
    for item in (m for m in content.media if m.album_id in albums):
        if item.external_html and "evil" in item.external_html:
            assert item.id not in media  # the unsafe embed: listed, not imported
            continue
        if item.original_filename.endswith(".exe"):
            assert item.id not in media  # a disallowed type: listed, not imported
            continue
        doc = media[item.id]
        assert doc["album_id"] == albums[item.album_id]["_id"], item.id
        if layout not in ("2.5", "2.6"):  # 2.x keeps one Title column for title and caption
            assert doc["title"] == item.title and doc["caption"] == item.caption, item.id
        tags = {t.casefold() for t in doc["tags"]}
        assert {" ".join(t.split()).casefold() for t in item.tags} <= tags, item.id
        if layout not in ("2.5", "2.6"):  # 2.x stored no People (code 42)
            assert {(mapping.PERSON_PREFIX + p).casefold() for p in item.people} <= tags, item.id
        if item.rating is not None:
            assert doc["rating"] == int(item.rating)
        if not item.has_file and not item.external_html:
            assert doc["missing"] is True and doc["state"] == "failed"
        elif item.has_file:
            assert doc["original"]["size"] > 0 and (ctx.storage.path / doc["original"]["path"]).is_file()
    every = media[100]["gsp"]["metadata"]
    assert len(every) >= 30 and "CameraModel" in every
    reasons = {(i["kind"], i["id"]): i["reason"] for i in report["items"]}
    assert reasons[("files", str(expected["missing_files"][0]))] == "not in the media folder"
    assert any(k == "media" and "unsafe embed" in r for (k, _), r in reasons.items())
    assert not list(ctx.storage.path.rglob("zThumb_*")) and not list(ctx.storage.path.rglob("zOpt_*"))

    roles = {r["gsp"]["name"]: r for r in await db.roles.find({"gsp": {"$exists": True}}).to_list()}
    for role in content.roles:
        if role.name.startswith("Only ") and role.name in roles:
            column = role.name.removeprefix("Only ")
            assert roles[role.name]["permissions"] == [mapping.PERMISSIONS[column]], role.name
    admin = next(r for r in content.roles if all(r.perms.values()))
    assert "administer_gallery" in roles[admin.name]["permissions"]
    users = {u["username"]: u for u in await db.users.find({"gsp": {"$exists": True}}).to_list()}
    # The gallery's own admin keeps the name "admin"; GSP's admin is listed, not merged into it.
    assert reasons[("users", "admin")] == "a user with this name is already in the gallery"
    assert sorted(users) == sorted(u.name for u in content.users if u.name != "admin")
    assert all(u["password_hash"] is None for u in users.values())
    for user in (u for u in content.users if u.name != "admin"):
        doc = users[user.name]
        assert doc["disabled"] == user.locked and ("approve" in doc["pending"]) == (not user.approved)
    links = {link["username"] for link in report["password_links"]}
    assert links == {u.name for u in content.users if not u.email}
