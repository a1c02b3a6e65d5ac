"""Moving galleries (issue 14): `tenant export --all` on one service, `tenant import` on a
second service with its own data directory and database prefix; pages, users, roles,
permissions, settings, media bytes and search results come out the same."""

from __future__ import annotations

import re
import socket

import pytest_asyncio

from gallery.intake.ingest import job_queue
from keys.sealed import decrypt_secret
from tenants.restore import export_all, import_all
from tests.client import text
from tests.gallery.archive.test_backup import make_source

PASSWORD = "Correct-Horse-Battery-9"  # conftest's make_gallery admin


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest_asyncio.fixture
async def second_app(make_config, tmp_path):
    """Another service: another data directory, another database prefix."""
    from tornado.httpserver import HTTPServer

    from server.app import make_app
    from server.services import build_services
    from tests.conftest import RunningApp

    config = make_config(paths__data_dir=str(tmp_path / "other-host"),
                         database__prefix=f"mv{_free_port()}_")
    services = await build_services(config)
    server = HTTPServer(make_app(services))
    port = _free_port()
    server.listen(port, address="127.0.0.1")
    yield RunningApp(services, port)
    server.stop()
    await server.close_all_connections()
    for name in await services.client.list_database_names():
        if name.startswith(config.database.prefix):
            await services.client.drop_database(name)
    await services.close()


def main_of(html: str) -> str:
    body = re.search(r"<main.*?</main>", html, re.DOTALL).group(0)
    return re.sub(r'name="_xsrf" value="[^"]*"', "", body)


async def pages(app, slug, album_ids):
    browser = app.browser()
    signed_in = await browser.login(f"/g/{slug}", "admin", PASSWORD)
    assert signed_in.code == 302, text(signed_in)  # to the gallery: the moved password hash works
    out = {}
    for album_id in album_ids:
        out[album_id] = main_of(text(await browser.get(f"/g/{slug}/albums/{album_id}")))
    out["search"] = text(await browser.get(f"/g/{slug}/api/v1/search?q=beach"))
    out["users"] = text(await browser.get(f"/g/{slug}/api/v1/users"))
    out["roles"] = text(await browser.get(f"/g/{slug}/api/v1/roles"))
    return out


async def test_two_galleries_move_to_another_service_and_data_directory(app, second_app, make_gallery, tmp_path):
    sources = {}
    for slug in ("alpha", "gamma"):
        ctx, _ = await make_source(make_gallery, slug)
        sources[slug] = ctx
    moved = tmp_path / "moved"
    exported = await export_all(app.services.registry, moved, passphrase="moving day passphrase")
    assert sorted(e["slug"] for e in exported) == ["alpha", "gamma"]
    imported = await import_all(second_app.services.registry, job_queue(second_app.services), moved,
                                passphrase="moving day passphrase")
    assert sorted(r["slug"] for r in imported) == ["alpha", "gamma"]

    for slug, ctx in sources.items():
        new = await second_app.services.registry.context_for_slug(slug)
        assert new.storage.path != ctx.storage.path and new.db.name != ctx.db.name
        for name in ("albums", "users", "roles"):
            assert await new.db[name].find({}).sort("_id", 1).to_list() == \
                await ctx.db[name].find({}).sort("_id", 1).to_list(), name
        old_settings = (await ctx.db.settings.find_one({"_id": "gallery"}))["values"]
        new_settings = (await new.db.settings.find_one({"_id": "gallery"}))["values"]
        assert new_settings.keys() == old_settings.keys()
        assert {k: v for k, v in new_settings.items() if k != "smtp_password"} == \
            {k: v for k, v in old_settings.items() if k != "smtp_password"}
        # The SMTP password came along under the passphrase, sealed again by the new host.
        assert new_settings["smtp_password"] != old_settings["smtp_password"]
        assert decrypt_secret(new, new_settings["smtp_password"]) == "hunter2-secret"
        for media in await ctx.db.media.find({}).to_list():
            path = media["original"]["path"]
            assert new.storage.resolve(path).read_bytes() == ctx.storage.resolve(path).read_bytes()
        album_ids = [a["_id"] for a in await ctx.db.albums.find({}).to_list()]
        before, after = await pages(app, slug, album_ids), await pages(second_app, slug, album_ids)
        assert before == after
        assert '"admin"' in before["users"] and "Gallery Administrators" in before["roles"]
        assert '"Beach"' in before["search"]  # the search found the photo on both
        root = next(a["_id"] for a in await ctx.db.albums.find({"parent_id": None}).to_list())
        assert "Trips" in before[root]  # the root album page lists its child album
