"""Step 0003: media stored before `taken_key` get it from `date_taken`, trashed media
records too, once; the timeline then reads them in date order."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gallery import schema
from gallery.ids import new_id
from gallery.library import albums
from gallery.migrations import runner
from media.dates import taken_key


async def test_step_0003_keys_old_media_and_trashed_records_once(app, make_gallery):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    root = await albums.root_album(ctx)
    dates = [datetime(2019, 7, 14, 16, 30), datetime(2024, 5, 1, 20, 47), None,
             datetime(2024, 5, 1, 20, 47), datetime(2001, 1, 1)]
    docs = [{"_id": new_id(), "album_id": root["_id"], "album_path": [root["_id"]], "private": False,
             "kind": "image", "title": f"photo {i}", "file_name": f"p{i}.jpg", "state": "ready",
             "position": i, "date_taken": when, "taken": None, "version": 1} for i, when in enumerate(dates)]
    kept = {**docs[0], "_id": new_id(), "taken_key": "t2030-01-01T00:00:00.000000"}  # written meanwhile
    await ctx.db.media.insert_many([*docs, kept])
    trashed = {**docs[1], "_id": new_id(), "date_taken": datetime(2022, 2, 2)}
    await ctx.db.trash_docs.insert_one({"_id": trashed["_id"], "entry_id": new_id(), "coll": "media",
                                        "doc": trashed, "at": datetime.now(UTC)})
    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": 2}})
    ctx.schema_current = False

    assert [s.number for s in await runner.migrate(ctx)] == [3] == [schema.SCHEMA_VERSION]
    stored = {d["_id"]: d for d in await ctx.db.media.find({}).to_list()}
    for doc in docs:
        assert stored[doc["_id"]]["taken_key"] == taken_key(doc["date_taken"]), doc["date_taken"]
    assert stored[kept["_id"]]["taken_key"] == "t2030-01-01T00:00:00.000000"
    record = await ctx.db.trash_docs.find_one({"_id": trashed["_id"]})
    assert record["doc"]["taken_key"] == "t2022-02-02T00:00:00.000000"

    # The timeline reads them newest first (ties by id), the undated last.
    visitor = app.browser()
    answer = json.loads((await visitor.get(f"{g['prefix']}/api/v1/timeline")).body)
    newest = sorted(((d["date_taken"], d["_id"]) for d in docs if d["date_taken"]), reverse=True)
    assert [m["id"] for m in answer["items"]] == [kept["_id"], *(i for _, i in newest), docs[2]["_id"]]

    # Again from version 2: nothing changes.
    await ctx.db.meta.update_one({"_id": "schema"}, {"$set": {"version": 2}})
    assert [s.number for s in await runner.migrate(ctx)] == [3]
    assert {d["_id"]: d for d in await ctx.db.media.find({}).to_list()} == stored
