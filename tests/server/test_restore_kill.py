"""A restore killed with SIGKILL (issue 14): before its switch it leaves no gallery, and the
next service start removes its staging leftovers and says so; after its switch the gallery
is whole and the held processing jobs remake its derivatives after the restart."""

from __future__ import annotations

from pathlib import Path

from tests.service_process import ServiceProcess, cli_killed_at
from tests.waiting import until

FIXTURE = Path(__file__).resolve().parents[1] / "gallery" / "archive" / "backups" / "format-2.zip"


async def restore_until(config, failpoint: str, slug: str, *more: str) -> None:
    """Run `tenant restore` as its own process until it reaches `failpoint`, then kill -9 it."""
    await cli_killed_at(config, failpoint, "tenant", "restore", str(FIXTURE), "--slug", slug, *more)


async def test_killed_before_the_switch_nothing_is_left_after_the_next_start(config, services):
    registry = services.registry
    await restore_until(config, "restore.before_switch", "halfway")
    record = await registry.host_db.tenants.find_one({"_id": "halfway"})
    assert record["status"] == "provisioning" and record["restoring"]  # staging, never served
    assert (registry.storage("halfway").originals / "Trips" / "beach.jpg").exists()

    service = ServiceProcess(config)
    await service.start()
    try:
        await service.wait_for_line("removing the leftovers of an interrupted restore of tenant halfway")
        async def record_gone():  # the line is logged as the removal starts
            return await registry.host_db.tenants.find_one({"_id": "halfway"}) is None
        await until(record_gone, 60)
        assert not registry.storage("halfway").exists()
        assert registry.database_name("halfway") not in await services.client.list_database_names()
        assert (await service.browser().get("/g/halfway/")).code == 404
    finally:
        await service.stop()


async def test_killed_after_the_switch_the_gallery_is_whole_and_its_derivatives_are_made(config, services):
    registry = services.registry
    await restore_until(config, "restore.after_switch", "whole")
    record = await registry.host_db.tenants.find_one({"_id": "whole"})
    assert record["status"] == "active" and "restoring" not in record
    db = registry.tenant_db("whole")
    assert await db.media.count_documents({}) == 2

    service = ServiceProcess(config)
    await service.start()
    try:
        async def ready():
            return await db.media.count_documents({"state": "ready"}) == 2
        await until(ready, 90)
        media = await db.media.find({}).to_list()
        for m in media:
            assert m["derivatives"]["thumbnail"]["path"].startswith(f"derivatives/{m['_id']}/")
        assert await registry.host_db.tenants.find_one({"_id": "whole"}) is not None
    finally:
        await service.stop()


async def _empty_gallery(services, slug: str):
    from tenants.installer import finish_install
    from tenants.provision import create_tenant

    registry = services.registry
    _record, token = await create_tenant(registry, slug, "Empty", [], f"admin@{slug}.test")
    password = "Correct-Horse-Battery-9"
    await finish_install(registry, await registry.context_for_slug(slug), token, {
        "title": "Empty", "username": "owner", "email": f"admin@{slug}.test",
        "password": password, "password2": password})
    return await registry.context_for_slug(slug)


async def test_into_an_existing_gallery_killed_before_the_switch_gives_the_empty_gallery_back(config, services):
    registry = services.registry
    ctx = await _empty_gallery(services, "keep")
    await restore_until(config, "restore_into.before_switch", "keep", "--into")
    record = await registry.host_db.tenants.find_one({"_id": "keep"})
    assert record["status"] == "provisioning" and record["restoring"]["phase"] == "staging"
    staged = registry.database_name("keep", {"store": record["restoring"]["store"]})
    assert staged in await services.client.list_database_names()

    service = ServiceProcess(config)
    await service.start()
    try:
        await service.wait_for_line("removing the leftovers of an interrupted restore into tenant keep")
        async def back():
            found = await registry.host_db.tenants.find_one({"_id": "keep"})
            return found["status"] == "active" and "restoring" not in found
        await until(back, 60)
        assert staged not in await services.client.list_database_names()
        assert not list((registry.tenants_dir / ".staging").iterdir())
        assert [u["username"] for u in await ctx.db.users.find({}).to_list()] == ["owner"]
        assert await ctx.db.media.count_documents({}) == 0
    finally:
        await service.stop()


async def test_into_an_existing_gallery_killed_after_the_switch_is_finished_at_the_next_start(config, services):
    registry = services.registry
    await _empty_gallery(services, "swap")
    old_db = registry.database_name("swap")
    await restore_until(config, "restore_into.after_switch", "swap", "--into")
    record = await registry.host_db.tenants.find_one({"_id": "swap"})
    assert record["restoring"]["phase"] == "switched" and record["store"]

    service = ServiceProcess(config)
    await service.start()
    try:
        await service.wait_for_line("finishing the interrupted restore into tenant swap")
        async def finished():
            found = await registry.host_db.tenants.find_one({"_id": "swap"})
            return found["status"] == "active" and "restoring" not in found
        await until(finished, 60)
        assert old_db not in await services.client.list_database_names()
        assert not list((registry.tenants_dir / ".staging").iterdir())
        # The switch was made by another process: read the record it wrote, not this
        # process's copy (the write feed would bring the news within seconds).
        registry.forget("swap")
        ctx = await registry.context_for_slug("swap")
        assert await ctx.db.media.count_documents({}) == 2
        assert (ctx.storage.originals / "Trips" / "beach.jpg").exists()
        assert "owner" not in [u["username"] for u in await ctx.db.users.find({}).to_list()]
        async def ready():
            return await ctx.db.media.count_documents({"state": "ready"}) == 2
        await until(ready, 90)
    finally:
        await service.stop()
