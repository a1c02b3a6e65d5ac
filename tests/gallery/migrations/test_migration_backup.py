"""The backup format and the database move together (issue 19, item 4): an old gallery's
backup restored into this release and then upgraded, and the same old gallery upgraded
in place, give the same documents; the upgraded gallery exports a backup that validates
against the newest format and names the new database schema."""

from __future__ import annotations

import zipfile

from lxml import etree

from gallery import schema
from gallery.archive import formats
from gallery.archive.export import export_to_file
from gallery.intake.ingest import job_queue
from gallery.migrations import runner
from tenants.restore import restore_new
from tests.gallery.archive.test_backup import make_source

COMPARED = ("title", "caption", "tags", "taken", "date_taken", "taken_key", "metadata", "file_name", "kind")


async def shown(ctx) -> dict:
    return {d["file_name"]: {k: d.get(k) for k in COMPARED} for d in await ctx.db.media.find({}).to_list()}


def declared(path) -> etree._ElementTree:
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read("backup.xml")).getroottree()


async def test_old_backup_restored_then_upgraded_equals_the_gallery_upgraded_in_place(app, make_gallery, tmp_path):
    ctx, made = await make_source(make_gallery)
    # As release 37975f0 stored them: no `taken`, the file's date text in metadata, version 1.
    for media, text in ((made["one"], "2019-07-14T18:30:00+02:00"), (made["two"], "2021-04-01 12:00")):
        doc = await ctx.db.media.find_one({"_id": media["_id"]})
        await ctx.db.media.update_one({"_id": media["_id"]}, {
            "$set": {"metadata": {**(doc.get("metadata") or {}), "date_taken": text}},
            "$unset": {"taken": ""}})
    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": 1}})
    assert all("taken" not in d for d in await ctx.db.media.find({}).to_list())

    old_zip = tmp_path / "old.zip"
    await export_to_file(ctx, old_zip)
    assert declared(old_zip).getroot().get("database-schema") == "1"
    services = app.services
    await restore_new(services.registry, job_queue(services), old_zip, "beta", title="Alpha Gallery")
    beta = await services.registry.context_for_slug("beta")
    assert await runner.stored_version(beta.db) == 1  # restored as old documents, to be upgraded

    # Path 1: the old database upgraded in place. Path 2: the old backup restored, upgraded.
    steps = list(range(2, schema.SCHEMA_VERSION + 1))
    assert [s.number for s in await runner.migrate(ctx)] == steps
    assert [s.number for s in await runner.migrate(beta)] == steps
    in_place, restored = await shown(ctx), await shown(beta)
    assert in_place == restored
    assert in_place["beach.jpg"]["taken"] == {"local": "2019-07-14T18:30:00", "offset": "+02:00"}
    assert in_place["rock.jpg"]["taken"] == {"local": "2021-04-01T12:00:00", "offset": None}

    # The upgraded gallery's backup is of the newest format, valid, and names the new schema;
    # restored, it needs no upgrade and gives the same documents again.
    new_zip = tmp_path / "new.zip"
    await export_to_file(ctx, new_zip)
    tree = declared(new_zip)
    assert formats.declared_version(tree) == formats.newest()
    assert formats.validation_errors(tree, formats.newest()) == []
    assert tree.getroot().get("database-schema") == str(schema.SCHEMA_VERSION)
    await restore_new(services.registry, job_queue(services), new_zip, "gamma", title="Alpha Gallery")
    gamma = await services.registry.context_for_slug("gamma")
    assert await runner.stored_version(gamma.db) == schema.SCHEMA_VERSION
    assert await shown(gamma) == in_place
