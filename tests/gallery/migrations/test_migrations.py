"""Migrations of a gallery's database (gallery/migrations/): the real step 0002 on
old-shape media, idempotence, resumption, refusals, a failing step, claims raced by
tasks in one process and by real `python -m server migrate` processes, and kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pymongo import UpdateMany, UpdateOne

from gallery import schema
from gallery.ids import new_id
from gallery.library import albums
from gallery.migrations import runner

ROOT = Path(__file__).resolve().parents[3]
STEP = next(s for s in runner.TENANT_STEPS if s.number == 2)  # the step these tests run
ALL = [s.number for s in runner.TENANT_STEPS if s.number >= 2]  # what a version-1 gallery runs


async def old_gallery(make_gallery, slug: str = "alpha", count: int = 1200) -> dict:
    """A gallery whose media are as release 37975f0 stored them (no `taken`), at version 1."""
    g = await make_gallery(slug)
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    dates = ["2024-05-01T15:47:00-05:00", "2023-01-02 08:00", None, "not a date", "2022-02-30"]
    docs = []
    for i in range(count):
        text = dates[i % len(dates)]
        docs.append({
            "_id": new_id(), "album_id": root["_id"], "album_path": [root["_id"]], "kind": "image",
            "title": f"photo {i}", "file_name": f"p{i}.jpg", "state": "ready", "position": i,
            "date_taken": None, "metadata": {"date_taken": text} if text else {}, "version": 1,
        })
    await ctx.db.media.insert_many(docs)
    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": 1}})
    ctx.schema_current = False
    return g


async def snapshot(ctx) -> dict:
    return {d["_id"]: d for d in await ctx.db.media.find({}).to_list()}


async def with_taken(ctx) -> int:
    # Counted here: nx-27017's $exists does not count a field holding null.
    return sum("taken" in d for d in await ctx.db.media.find({}, {"taken": 1}).to_list())


async def without_taken(ctx) -> int:
    return await ctx.db.media.count_documents({}) - await with_taken(ctx)


def test_steps_are_numbered_and_the_last_is_the_schema_version():
    assert [s.number for s in runner.TENANT_STEPS] == sorted({s.number for s in runner.TENANT_STEPS})
    assert runner.TENANT_STEPS[-1].number == schema.SCHEMA_VERSION
    assert all(s.description and "\n" not in s.description for s in runner.TENANT_STEPS)


async def test_step_0002_fills_taken_on_every_old_media_document_once(app, make_gallery):
    g = await old_gallery(make_gallery)
    ctx = g["ctx"]
    reports = []
    ran = await runner.migrate(ctx, report=lambda step, done, total: reports.append((step.number, done, total)))
    assert [s.number for s in ran] == ALL
    assert [r for r in reports if r[0] == 2] == [(2, 500, 1200), (2, 1000, 1200), (2, 1200, 1200)]
    assert await runner.stored_version(ctx.db) == schema.SCHEMA_VERSION
    docs = list((await snapshot(ctx)).values())
    assert len(docs) == 1200 and all("taken" in d for d in docs)
    by_text = {}
    for d in docs:
        by_text.setdefault(d["metadata"].get("date_taken"), set()).add(repr(d["taken"]))
    assert by_text["2024-05-01T15:47:00-05:00"] == {repr({"local": "2024-05-01T15:47:00", "offset": "-05:00"})}
    assert by_text["2023-01-02 08:00"] == {repr({"local": "2023-01-02T08:00:00", "offset": None})}
    assert by_text[None] == by_text["not a date"] == by_text["2022-02-30"] == {"None"}
    state = await runner.claim_state(ctx.db)
    assert state["owner"] is None and state["failed"] is None and state["done"] == 1200

    # Again: current, nothing runs. Forced again from version 1: nothing changes.
    before = await snapshot(ctx)
    assert await runner.migrate(ctx) == []
    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": 1}})
    assert [s.number for s in await runner.migrate(ctx)] == ALL
    assert await snapshot(ctx) == before


def test_step_0002_sends_one_write_per_distinct_date():
    docs = [{"_id": f"m{i}", "metadata": {"date_taken": text} if text else {}} for i, text in enumerate(
        [None, "not a date", "2024-05-01T15:47:00-05:00", "2024-05-01T15:47:00-05:00", "2023-01-02 08:00", None])]
    docs.append({"_id": "m6", "metadata": {}, "taken": None})  # already migrated: not written
    lacking = {"taken": {"$exists": False}}
    assert STEP.module.updates(docs) == [
        UpdateMany({"_id": {"$in": ["m0", "m1", "m5"]}, **lacking}, {"$set": {"taken": None}}),
        UpdateMany({"_id": {"$in": ["m2", "m3"]}, **lacking},
                   {"$set": {"taken": {"local": "2024-05-01T15:47:00", "offset": "-05:00"}}}),
        UpdateOne({"_id": "m4", **lacking}, {"$set": {"taken": {"local": "2023-01-02T08:00:00", "offset": None}}}),
    ]


async def test_a_date_stored_meanwhile_by_processing_is_kept(app, make_gallery):
    g = await old_gallery(make_gallery, count=10)
    ctx = g["ctx"]
    one = await ctx.db.media.find_one({"metadata.date_taken": "2023-01-02 08:00"})
    newer = {"local": "2020-01-01T00:00:00", "offset": "+01:00"}
    await ctx.db.media.update_one({"_id": one["_id"]}, {"$set": {"taken": newer}})
    await runner.migrate(ctx)
    assert (await ctx.db.media.find_one({"_id": one["_id"]}))["taken"] == newer


async def test_missing_meta_is_the_earliest_version_and_garbled_meta_is_refused(app, make_gallery):
    g = await old_gallery(make_gallery, count=20)
    ctx = g["ctx"]
    await ctx.db.meta.delete_one({"_id": "schema"})
    assert await runner.stored_version(ctx.db) == 1
    assert [s.number for s in await runner.migrate(ctx)] == ALL
    assert await runner.stored_version(ctx.db) == schema.SCHEMA_VERSION

    for garbled in ("2", "abc", None, -1, 0, 2.5, {"$numberInt": "2"}, [2]):
        await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": garbled}})
        await ctx.db.media.update_many({}, {"$unset": {"taken": ""}})
        with pytest.raises(runner.SchemaUnreadable, match="unreadable"):
            await runner.migrate(ctx)
        assert await with_taken(ctx) == 0, garbled


async def test_a_database_from_a_newer_release_is_not_touched(app, make_gallery):
    g = await old_gallery(make_gallery, count=20)
    ctx = g["ctx"]
    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": schema.SCHEMA_VERSION + 1}})
    before = await snapshot(ctx)
    with pytest.raises(runner.NewerDatabase, match="newer than this release"):
        await runner.migrate(ctx)
    assert await snapshot(ctx) == before
    assert await runner.claim_state(ctx.db) is None  # not even claimed


def failing_after(batches: int) -> list[runner.Step]:
    """The real step 0002, failing after `batches` recorded batches (a bug or a crash mid-step)."""

    async def run(ctx, progress):
        original = progress.advance
        seen = 0

        async def advance(last_id, count):
            nonlocal seen
            await original(last_id, count)
            seen += 1
            if seen == batches:
                raise ValueError("disk full while rewriting media")

        progress.advance = advance
        await STEP.module.run(ctx, progress)

    return [runner.Step(STEP.number, STEP.description, SimpleNamespace(run=run, total=STEP.module.total))]


async def test_a_step_failing_halfway_leaves_the_version_and_resumes_later(app, make_gallery):
    g = await old_gallery(make_gallery, count=1200)
    ctx = g["ctx"]
    with pytest.raises(runner.MigrationFailed, match="disk full"):
        await runner.migrate(ctx, steps=failing_after(1))
    assert await runner.stored_version(ctx.db) == 1
    state = await runner.claim_state(ctx.db)
    assert state["owner"] is None and state["failed"]["step"] == 2 and "disk full" in state["failed"]["error"]
    assert state["done"] == STEP.module.BATCH
    assert await with_taken(ctx) == 500

    # The next run continues after the recorded batch and finishes.
    assert [s.number for s in await runner.migrate(ctx)] == ALL
    state = await runner.claim_state(ctx.db)
    assert state["failed"] is None and state["done"] == 1200
    assert await without_taken(ctx) == 0


async def test_concurrent_tasks_migrate_a_gallery_exactly_once(app, make_gallery):
    g = await old_gallery(make_gallery, count=1500)
    ctx = g["ctx"]
    runs = 0

    async def counted(c, progress):
        nonlocal runs
        runs += 1
        await STEP.module.run(c, progress)

    steps = [runner.Step(STEP.number, STEP.description, SimpleNamespace(run=counted))]
    results = await asyncio.gather(*(runner.migrate(ctx, steps=steps) for _ in range(6)),
                                   return_exceptions=True)
    ran = [r for r in results if isinstance(r, list) and r]
    others = [r for r in results if not (isinstance(r, list) and r)]
    assert runs == 1 and len(ran) == 1
    assert all(r == [] or isinstance(r, runner.MigrationBusy) for r in others), results
    assert await without_taken(ctx) == 0


def cli_env(config, failpoint: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
    env.update({
        "ATRIUM_DATABASE_URI": config.database.uri, "ATRIUM_DATABASE_PREFIX": config.database.prefix,
        "ATRIUM_SECURITY_HOST_SECRET": config.security.host_secret,
        "ATRIUM_SERVER_BASE_DOMAIN": config.server.base_domain,
    })
    if failpoint:
        env["ATRIUM_FAILPOINT"] = failpoint
    return env


async def migrate_process(config, *args, failpoint=None):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--data-dir", str(config.paths.data_dir), "migrate", *args,
        cwd=ROOT, env=cli_env(config, failpoint),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_two_processes_racing_migrate_it_once(app, make_gallery, config):
    g = await old_gallery(make_gallery, count=3000)
    ctx = g["ctx"]
    procs = [await migrate_process(config, "alpha") for _ in range(2)]
    outs = [await p.communicate() for p in procs]
    texts = [o[0].decode() for o in outs]
    migrated = [t for t in texts if f"alpha: migrated 1 -> {schema.SCHEMA_VERSION}" in t]
    assert len(migrated) == 1, texts
    other = next(t for t in texts if t not in migrated)
    assert "being migrated by another process" in other or "alpha: current" in other, other
    assert await runner.stored_version(ctx.db) == schema.SCHEMA_VERSION
    assert await without_taken(ctx) == 0


async def test_kill_9_during_a_step_then_the_next_run_continues(app, make_gallery, config):
    g = await old_gallery(make_gallery, count=2200)
    ctx = g["ctx"]
    proc = await migrate_process(config, "alpha", failpoint="migration.batch@2")
    line = b""
    while b"failpoint migration.batch reached" not in line:
        line = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert line, "the migration ended before its failpoint"
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    state = await runner.claim_state(ctx.db)
    assert state["step"] == 2 and state["done"] == 1000 and state["owner"]
    assert await runner.stored_version(ctx.db) == 1  # never marked done half-way

    # Dry run says what would happen and changes nothing.
    dry = await migrate_process(config, "--all", "--dry-run")
    out, _ = await dry.communicate()
    assert dry.returncode == 0 and f"alpha: would migrate 1 -> {schema.SCHEMA_VERSION}" in out.decode()
    assert await runner.stored_version(ctx.db) == 1

    # The dead holder's claim is taken over at once and the step continues after id 1000.
    rerun = await migrate_process(config, "--all")
    out, err = await rerun.communicate()
    assert rerun.returncode == 0, (out, err)
    assert f"alpha: migrated 1 -> {schema.SCHEMA_VERSION}" in out.decode() and "1 migrated" in out.decode()
    state = await runner.claim_state(ctx.db)
    assert state["done"] == 2200 and state["owner"] is None
    assert await without_taken(ctx) == 0


async def test_migrate_all_reports_refused_and_failed_galleries_and_exits_1(app, make_gallery, config):
    newer = (await old_gallery(make_gallery, "newer", count=5))["ctx"]
    await newer.db.meta.update_one({"_id": "schema"}, {"$set": {"version": schema.SCHEMA_VERSION + 1}})
    old = (await old_gallery(make_gallery, "behind", count=5))["ctx"]
    proc = await migrate_process(config, "--all")
    out, err = await proc.communicate()
    out = out.decode()
    assert proc.returncode == 1 and "1 failed" not in err.decode() and "1 refused" in err.decode()
    latest = schema.SCHEMA_VERSION
    assert f"newer: refused: the database has schema version {latest + 1}, newer than this release's {latest}" in out
    assert f"behind: migrated 1 -> {latest}" in out and "1 migrated, 1 refused" in out
    assert await runner.stored_version(old.db) == latest and await without_taken(old) == 0
    assert await runner.stored_version(newer.db) == schema.SCHEMA_VERSION + 1 and await without_taken(newer) == 5

    show = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--data-dir", str(config.paths.data_dir), "tenant", "show", "newer",
        "--json", cwd=ROOT, env=cli_env(config), stdout=asyncio.subprocess.PIPE)
    shown, _ = await show.communicate()
    assert json.loads(shown)["schema"]["state"] == "newer"
