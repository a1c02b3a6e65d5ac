"""Projections in the embedded database (server/embedded_sql.py `projector`): plain 1/0
projections give what MongoDB's rules give (inclusion, exclusion, "a.b" inside embedded
documents and arrays of them, `_id` kept unless `_id: 0`) without copying each document
whole; other projections keep the library's own code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pymongo import AsyncMongoClient

from server.embedded_db import EmbeddedDatabase
from server.embedded_sql import projector

WHEN = datetime(2021, 6, 30, 23, 59, tzinfo=UTC)
DOC = {
    "_id": "m1",
    "title": "Harbour",
    "private": False,
    "width": 0,
    "caption": None,
    "when": WHEN,
    "derivatives": {"thumbnail": {"path": "t.jpg", "width": 64}, "optimized": {"path": "o.jpg"},
                    "web": {"path": "w.mp4"}},
    "people": [{"name": "Ada", "box": [1, 2]}, {"box": [3]}, "loose", [{"name": "Nested"}]],
    "tags": ["sea", "boat"],
    "search_keys": ["ha", "har"],
    "scalar": 5,
}

# (projection, what MongoDB answers for DOC)
CASES = [
    ({"title": 1}, {"_id": "m1", "title": "Harbour"}),
    ({"title": True, "private": 1, "caption": 1}, {"_id": "m1", "title": "Harbour", "private": False, "caption": None}),
    ({"title": 1, "_id": 0}, {"title": "Harbour"}),
    ({"_id": 1}, {"_id": "m1"}),
    ({"missing": 1}, {"_id": "m1"}),
    ({"derivatives.thumbnail": 1, "derivatives.optimized": 1},
     {"_id": "m1", "derivatives": {"thumbnail": {"path": "t.jpg", "width": 64}, "optimized": {"path": "o.jpg"}}}),
    ({"derivatives.thumbnail.width": 1}, {"_id": "m1", "derivatives": {"thumbnail": {"width": 64}}}),
    ({"derivatives.poster": 1}, {"_id": "m1", "derivatives": {}}),
    ({"people.name": 1, "_id": 0}, {"people": [{"name": "Ada"}, {}, [{"name": "Nested"}]]}),
    ({"scalar.x": 1, "title.x": 1}, {"_id": "m1"}),
    ({"when": 1}, {"_id": "m1", "when": WHEN}),
    ({"search_keys": 0}, {k: v for k, v in DOC.items() if k != "search_keys"}),
    ({"search_keys": False, "tags": 0, "_id": 0},
     {k: v for k, v in DOC.items() if k not in ("search_keys", "tags", "_id")}),
    ({"_id": 0}, {k: v for k, v in DOC.items() if k != "_id"}),
    ({"title": 0, "_id": 1}, {k: v for k, v in DOC.items() if k != "title"}),
    ({"derivatives.web": 0, "people.box": 0, "scalar.x": 0},
     {**DOC, "derivatives": {"thumbnail": {"path": "t.jpg", "width": 64}, "optimized": {"path": "o.jpg"}},
      "people": [{"name": "Ada"}, {}, "loose", [{"name": "Nested"}]]}),
]


def test_plain_projections_follow_mongodb_rules_and_leave_the_document_alone():
    before = repr(DOC)
    for projection, expected in CASES:
        assert projector(projection)(DOC) == expected, projection
    assert repr(DOC) == before  # nothing the caller holds was changed
    # Inclusion keeps the document's own order of fields, `_id` first as stored.
    assert list(projector({"width": 1, "title": 1})(DOC)) == ["_id", "title", "width"]


def test_other_projections_are_left_to_the_library():
    for projection in ({}, None, {"a": 1, "b": 0}, {"a": 1, "a.b": 1}, {"a.b": 0, "a": 0},
                       {"a": {"$slice": 2}}, {"a": "$b"}, {"$a": 1}, {"a..b": 1}, {"a": "1"}):
        assert projector(projection) is None, projection


async def test_the_embedded_database_answers_projections_as_mongodb_does(tmp_path):
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    client = AsyncMongoClient(uri, tz_aware=True)
    try:
        things = client.projections.things
        await things.insert_one(dict(DOC))
        await things.insert_one({"_id": "m2", "title": "Other", "derivatives": {}})
        for projection, expected in CASES:
            found = await things.find_one({"_id": "m1"}, projection)
            assert found == expected, projection
        # A page of several documents, sorted, as the timeline reads it.
        page = await things.find({}, {"title": 1, "derivatives.thumbnail": 1}).sort("_id", -1).to_list()
        assert page == [{"_id": "m2", "title": "Other", "derivatives": {}},
                        {"_id": "m1", "title": "Harbour", "derivatives": {"thumbnail": DOC["derivatives"]["thumbnail"]}}]
        # The read-only projection of gallery/processing/originals.py: {"original.path": 1}.
        await things.insert_one({"_id": "m3", "original": {"path": "a/b.jpg", "size": 3}})
        assert await things.find_one({"_id": "m3"}, {"original.path": 1}) == {"_id": "m3", "original": {"path": "a/b.jpg"}}
        # Projections never change what is stored.
        assert await things.find_one({"_id": "m1"}) == DOC
        # A projection the plain path leaves alone still answers (the library's code).
        assert await things.find_one({"_id": "m1"}, {"name": "$title"}) == {"_id": "m1", "name": "Harbour"}
    finally:
        await client.close()
        await asyncio.to_thread(db.stop)


def test_replies_encode_as_nx_27017_encoded_them():
    """server/embedded_sql.py reply_encoder: the same bytes as nx-27017's Python walk
    (neosqlite ObjectIds and Decimals converted, a cursor id 0 as int64) followed by encode."""
    from decimal import Decimal

    from bson import decode, encode
    from neosqlite.objectid import ObjectId
    from nx_27017.utils import convert_neo_to_bson_objectids

    from server.embedded_sql import reply_encoder

    oid = ObjectId()
    docs = [dict(DOC), {"_id": oid, "refs": [oid, {"deep": oid}], "price": Decimal("1.10"), "n": 2**40}]
    for reply in ({"ok": 1, "cursor": {"id": 0, "ns": "db.things", "firstBatch": docs}},
                  {"ok": 1, "cursor": {"id": 12, "ns": "db.things", "firstBatch": docs[1:]}},
                  {"ok": 1, "n": 3}, {"ok": 0, "errmsg": "no"}):
        assert reply_encoder()(reply) == encode(convert_neo_to_bson_objectids(reply)), reply
    assert decode(reply_encoder()({"cursor": {"id": 0}}))["cursor"]["id"] == 0
