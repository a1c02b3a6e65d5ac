"""The `tenant import-gsp` command as a process: its preview, and `kill -9` at its worst moment (documents written, files moved,
processing job queued, just before the switch): the gallery is out of service meanwhile, and
the next service start undoes the run, leaving the empty gallery it was."""

from __future__ import annotations

import asyncio
import sys

from tests.gallery.gspimport import sample
from tests.service_process import ROOT, ServiceProcess, cli_killed_at
from tests.waiting import until


async def import_until(config, failpoint: str, slug: str, xml, media) -> None:
    await cli_killed_at(config, failpoint, "tenant", "import-gsp", slug, "--backup", str(xml),
                        "--media", str(media), "--gallery-id", "1")


async def test_an_import_killed_before_its_switch_is_undone_at_the_next_start(config, services, tmp_path, make_jpeg):
    from tenants.installer import finish_install
    from tenants.provision import create_tenant

    registry = services.registry
    _record, token = await create_tenant(registry, "halfgsp", "Empty", [], "admin@halfgsp.test")
    password = "Correct-Horse-Battery-9"
    await finish_install(registry, await registry.context_for_slug("halfgsp"), token, {
        "title": "Empty", "username": "owner", "email": "admin@halfgsp.test",
        "password": password, "password2": password})
    ctx = await registry.context_for_slug("halfgsp")
    before = {name: await ctx.db[name].find({}).to_list() for name in ("albums", "roles", "users")}
    xml = sample.write(tmp_path / "b.xml", sample.gallery_45())
    media = sample.media_folder(tmp_path / "media", make_jpeg)

    await import_until(config, "gsp_import.before_switch", "halfgsp", xml, media)
    record = await registry.host_db.tenants.find_one({"_id": "halfgsp"})
    assert record["status"] == "provisioning" and record["gsp_import"]["writing"]  # never served half-done
    assert await ctx.db.media.count_documents({}) == 6
    assert (ctx.storage.path / "originals" / "Trips" / "beach.jpg").is_file()
    assert list(ctx.storage.tmp.glob("*.gsp.sqlite"))  # the killed run's work file (workfile.py)

    service = ServiceProcess(config)
    await service.start()
    try:
        await service.wait_for_line("undoing the interrupted GSP import into halfgsp")

        async def back():
            found = await registry.host_db.tenants.find_one({"_id": "halfgsp"})
            return found["status"] == "active" and "gsp_import" not in found
        await until(back, 60)
        for name, docs in before.items():
            assert await ctx.db[name].find({}).to_list() == docs, name
        assert await ctx.db.media.count_documents({}) == 0
        assert not [p for p in (ctx.storage.path / "originals").rglob("*") if p.is_file()]
        assert not list(ctx.storage.path.glob(".gsp-*"))
        assert await registry.host_db.jobs.count_documents({"tenant": "halfgsp"}) == 0
        assert (await service.browser().get("/g/halfgsp/")).code == 200

        async def work_file_swept():  # its writer is gone: the start-up tmp/ sweep removes it
            return not list(ctx.storage.tmp.glob("*.gsp.sqlite"))
        await until(work_file_swept, 60)
    finally:
        await service.stop()


async def test_the_cli_previews_a_backup_without_writing_and_names_the_galleries(config, services, tmp_path, make_jpeg):
    from tenants.installer import finish_install
    from tenants.provision import create_tenant

    registry = services.registry
    _record, token = await create_tenant(registry, "clidry", "Empty", [], "admin@clidry.test")
    password = "Correct-Horse-Battery-9"
    await finish_install(registry, await registry.context_for_slug("clidry"), token, {
        "title": "Empty", "username": "owner", "email": "admin@clidry.test",
        "password": password, "password2": password})
    xml = sample.write(tmp_path / "b.xml", sample.gallery_45())
    media = sample.media_folder(tmp_path / "media", make_jpeg)

    async def cli(*more: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", "--data-dir", str(config.paths.data_dir), "tenant", "import-gsp",
            "clidry", "--backup", str(xml), "--media", str(media), *more,
            cwd=ROOT, env=ServiceProcess(config).env(None), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _err = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode, out.decode()

    code, text = await cli("--dry-run", "--gallery-id", "1")
    assert code == 0, text
    assert "GSP generation 4.x (version 4.5.0), recognised by its version marker" in text
    assert "gallery 1: Family: 4 albums, 7 media <- this one" in text and "gallery 2: Work" in text
    assert "to import: 4 albums, 6 media, 3 users, 3 roles, 3 settings" in text
    assert "media files: 4 found, 1 missing, 2 GSP thumbnails/optimized copies passed over" in text
    assert "skipped media 15 external media: unsafe embed" in text
    ctx = await registry.context_for_slug("clidry")
    assert await ctx.db.albums.count_documents({}) == 1 and await ctx.db.media.count_documents({}) == 0
