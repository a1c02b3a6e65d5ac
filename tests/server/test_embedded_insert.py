"""Inserts in the embedded database (server/embedded_insert.py): one transaction per insert
command and each document serialized once store the very rows the library stored, answer
duplicates as before, and commit what an insert command inserted, a refused one too."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime

import pytest
from bson import BSON, ObjectId
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError

from server.embedded_db import EmbeddedDatabase

WHEN = datetime(2021, 6, 30, 23, 59, 1, 250000, tzinfo=UTC)
DOCS = [
    {"_id": "m1", "title": "Hafen ☀ \"quoted\" \\ \n", "when": WHEN, "n": 1.5, "big": 2 ** 40,
     "none": None, "flag": True, "tags": [], "empty": {},
     "nested": {"list": [1, {"x": b"\x00\x01"}, [WHEN]], "ref": ObjectId("5f1d7f1d7f1d7f1d7f1d7f1d")},
     "blob": b"raw bytes"},
    {"_id": ObjectId("6a2e8f2e8f2e8f2e8f2e8f2e"), "refs": [ObjectId("6a2e8f2e8f2e8f2e8f2e8f2f")]},
    {"_id": 7, "int id": True, "date only text": "2021-06-30T23:59:00"},
    {"title": "no id: the driver gives it one"},
]


def _rows(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT _id, data FROM things ORDER BY id").fetchall()
    finally:
        conn.close()


def _library_rows(tmp_path, docs) -> list[tuple]:
    """What neosqlite's own insert stores for `docs` as they arrive over the wire."""
    from neosqlite import Connection
    from neosqlite.collection.query_helper.crud_operations import CRUDOperationsMixin
    from nx_27017.utils import convert_bson_to_neo_objectids

    # The library's own code in this process (the patch lives in the database's child).
    assert CRUDOperationsMixin._internal_insert.__module__.startswith("neosqlite")
    path = tmp_path / "library.db"
    conn = Connection(str(path))
    try:
        for doc in docs:
            conn["things"].insert_one(convert_bson_to_neo_objectids(BSON(BSON.encode(doc)).decode()))
    finally:
        conn.close()
    return _rows(path)


@contextlib.asynccontextmanager
async def _served(root, **client_options):
    """An embedded database started on `root` and a client of it, both ended on the way out
    (yields the client and its URI)."""
    db = EmbeddedDatabase(root)
    uri = await asyncio.to_thread(db.start)
    client = AsyncMongoClient(uri, **client_options)
    try:
        yield client, uri
    finally:
        await client.close()
        await asyncio.to_thread(db.stop)


async def test_inserted_rows_are_the_ones_the_library_stored(tmp_path):
    docs = [dict(d) for d in DOCS]
    async with _served(tmp_path / "data", tz_aware=True) as (client, _uri):
        things = client.inserts.things
        result = await things.insert_many(docs[:3])
        assert result.inserted_ids == ["m1", DOCS[1]["_id"], 7]
        await things.insert_one(docs[3])  # the driver put its ObjectId into docs[3]
        back = await things.find({}).sort("_id", 1).to_list()
        assert {repr(d["_id"]) for d in back} == {repr(d["_id"]) for d in docs}
        first = await things.find_one({"_id": "m1"})
        assert first["when"] == WHEN and first["nested"]["ref"] == DOCS[0]["nested"]["ref"]
        assert first["nested"]["list"][1]["x"] == b"\x00\x01" and first["blob"] == b"raw bytes"
        stored = _rows(tmp_path / "data" / "db" / "inserts.db")
    assert stored == _library_rows(tmp_path, docs)


async def test_a_document_without_a_usable_id_gets_one_and_nan_is_refused(tmp_path):
    async with _served(tmp_path) as (client, _uri):
        things = client.inserts.things
        await things.insert_one({"_id": None, "title": "none"})
        made = await things.find_one({"title": "none"})
        assert isinstance(made["_id"], ObjectId)
        with pytest.raises(BulkWriteError) as refused:
            await things.insert_many([{"_id": "ok1"}, {"_id": "nan", "x": float("nan")}, {"_id": "ok2"}])
        assert refused.value.details["nInserted"] == 1  # ordered: stops at the refused one
        assert [d["_id"] for d in await things.find({"_id": {"$in": ["ok1", "nan", "ok2"]}}).to_list()] == ["ok1"]


async def test_what_a_refused_insert_command_inserted_is_committed(tmp_path):
    async with _served(tmp_path) as (client, uri):
        things = client.inserts.things
        await things.insert_one({"_id": "d"})
        with pytest.raises(BulkWriteError) as ordered:
            await things.insert_many([{"_id": "a"}, {"_id": "b"}, {"_id": "d"}, {"_id": "e"}])
        assert ordered.value.details["nInserted"] == 2
        with pytest.raises(BulkWriteError) as unordered:
            await things.insert_many([{"_id": "f"}, {"_id": "d"}, {"_id": "g"}], ordered=False)
        assert unordered.value.details["nInserted"] == 2
        assert [e["index"] for e in unordered.value.details["writeErrors"]] == [1]
        # Another connection sees them at once: no transaction was left open.
        other = AsyncMongoClient(uri)
        try:
            seen = sorted(d["_id"] for d in await other.inserts.things.find({}).to_list())
        finally:
            await other.close()
        assert seen == ["a", "b", "d", "f", "g"]
    # And on disk after the child is gone (an open transaction would have been lost).
    async with _served(tmp_path) as (client, _uri):
        assert sorted(d["_id"] for d in await client.inserts.things.find({}).to_list()) == [
            "a", "b", "d", "f", "g"]
