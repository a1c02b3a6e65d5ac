"""`_id` ranges in the embedded database (server/embedded_sql.py `id_range_clause`): the
keyset walk of migration steps ({"_id": {"$gt": last}} sorted by `_id`) runs as indexed SQL
instead of the library's Python path over the whole collection, and finds what MongoDB's
rules find for string ids: byte order, bounds exclusive or inclusive as asked."""

from __future__ import annotations

import asyncio

from pymongo import AsyncMongoClient

from server.embedded_db import EmbeddedDatabase
from server.embedded_sql import id_range_clause


def test_string_id_ranges_become_sql_and_other_shapes_do_not():
    assert id_range_clause("m._id", {"$gt": "6b0e"}) == ("m._id > ?", ["6b0e"])
    assert id_range_clause("_id", {"$gte": "a", "$lt": "b"}) == ("_id >= ? AND _id < ?", ["a", "b"])
    for other in ({"$gt": 5}, {"$gt": "a", "$ne": "b"}, {}, "a", {"$gt": None}):
        assert id_range_clause("_id", other) is None, other  # the library's own path


async def test_id_range_pages_find_what_mongodb_finds(tmp_path):
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    client = AsyncMongoClient(uri)
    try:
        things = client.ranges.things
        text_ids = [f"{i:024x}" for i in range(0, 2400, 7)] + ["Zeta", "alpha", "é-accent", "10", "9"]
        await things.insert_many([{"_id": i, "n": n} for n, i in enumerate(text_ids)])
        ordered = sorted(text_ids, key=lambda s: s.encode())

        # The keyset walk a migration step makes, page by page.
        walked, last = [], None
        while True:
            query = {"_id": {"$gt": last}} if last is not None else {}
            page = await things.find(query).sort("_id", 1).limit(50).to_list()
            if not page:
                break
            walked += [d["_id"] for d in page]
            last = page[-1]["_id"]
        assert walked == ordered

        for query, rule in (
            ({"$lt": "10"}, lambda s: s.encode() < b"10"),
            ({"$lte": "9", "$gte": "10"}, lambda s: b"10" <= s.encode() <= b"9"),
            ({"$gte": "Zeta"}, lambda s: s.encode() >= b"Zeta"),
        ):
            found = [d["_id"] for d in await things.find({"_id": query}).sort("_id", 1).to_list()]
            assert found == [s for s in ordered if rule(s)], query
            assert await things.count_documents({"_id": query}) == len(found), query
    finally:
        await client.close()
        await asyncio.to_thread(db.stop)
