"""The embedded database's replies (server/embedded_wire.py): every client gets its own
answers, whole, however large and however many clients ask at once; a first batch past
16 MB is cut and the rest follows."""

from __future__ import annotations

import asyncio

from pymongo import AsyncMongoClient, monitoring

from server.embedded_db import EmbeddedDatabase


async def test_many_clients_get_their_own_whole_answers_at_once(tmp_path):
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    client = AsyncMongoClient(uri, maxPoolSize=30)
    try:
        things = client.wire.things
        # 40 documents of ~100 KB: a reply of 4 MB, far more than one TCP segment.
        await things.insert_many([{"n": i, "group": i % 20, "text": f"{i:04d}" * 25_000} for i in range(40)])
        whole = await things.find({}).sort("n", 1).to_list()
        assert [d["n"] for d in whole] == list(range(40))
        assert all(d["text"] == f"{d['n']:04d}" * 25_000 for d in whole)
        # 20 clients at once, each its own group: nobody gets another's answer.
        answers = await asyncio.gather(*(things.find({"group": g}).sort("n", 1).to_list() for g in range(20)))
        for group, found in enumerate(answers):
            assert [d["n"] for d in found] == [group, group + 20]
            assert all(d["text"].startswith(f"{d['n']:04d}") for d in found)
    finally:
        await client.close()
        await asyncio.to_thread(db.stop)


async def test_a_batch_past_the_bson_limit_is_cut_and_the_rest_follows(tmp_path):
    """A first batch is encoded once whole to see that it fits (server/embedded_wire.py);
    one past 16 MB is still cut the library's way, and the driver gets the rest after."""
    class Replies(monitoring.CommandListener):
        def __init__(self):
            self.batches = []

        def started(self, event):
            pass

        def succeeded(self, event):
            if event.command_name in ("find", "getMore"):
                cursor = event.reply["cursor"]
                self.batches.append(len(cursor.get("firstBatch", cursor.get("nextBatch", []))))

        def failed(self, event):
            pass

    replies = Replies()
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    client = AsyncMongoClient(uri, event_listeners=[replies])
    try:
        things = client.wire.big
        for i in range(20):  # 20 documents of ~1 MB: 20 MB, more than one reply may hold
            await things.insert_one({"n": i, "text": chr(65 + i) * 1_000_000})
        found = await things.find({}).sort("n", 1).to_list()
        assert [d["n"] for d in found] == list(range(20))
        assert all(d["text"] == chr(65 + d["n"]) * 1_000_000 for d in found)
        assert 1 <= replies.batches[0] <= 16 and sum(replies.batches) == 20, replies.batches
        replies.batches.clear()
        small = await things.find({}, {"text": 0}).sort("n", 1).to_list()
        assert small == [{"_id": d["_id"], "n": d["n"]} for d in found]
        assert replies.batches == [20]  # a small batch: all in one reply
    finally:
        await client.close()
        await asyncio.to_thread(db.stop)
