"""The embedded database the product starts: start, stop, restart with data kept, stale child."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import psutil
from pymongo import AsyncMongoClient

from server.embedded_db import EmbeddedDatabase


async def _roundtrip(uri, write=None):
    client = AsyncMongoClient(uri)
    try:
        if write is not None:
            await client.keep.things.insert_one({"value": write})
        return [d["value"] for d in await client.keep.things.find().to_list()]
    finally:
        await client.close()


async def test_data_survives_a_restart(tmp_path):
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    assert await _roundtrip(uri, write="kept") == ["kept"]
    child = db.process.pid
    await asyncio.to_thread(db.stop)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE
    again = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(again.start)
    try:
        assert await _roundtrip(uri) == ["kept"]
    finally:
        await asyncio.to_thread(again.stop)


async def test_a_service_killed_hard_does_not_block_the_next_start(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.getcwd()!r})
        from server.embedded_db import EmbeddedDatabase
        db = EmbeddedDatabase({str(tmp_path)!r}); db.start()
        print(db.process.pid, flush=True)
        sys.stdin.read()  # stay alive until killed
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    child_pid = int(await asyncio.to_thread(parent.stdout.readline))
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdin.close()
    parent.stdout.close()
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    try:
        assert await _roundtrip(uri, write="after crash") == ["after crash"]
        for _ in range(100):
            if not psutil.pid_exists(child_pid) or psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the orphaned database child is still running")
    finally:
        await asyncio.to_thread(db.stop)


async def test_a_second_process_shares_the_running_server(tmp_path):
    owner = EmbeddedDatabase(tmp_path)
    # Pretend another live process (our parent, the test runner's parent) owns it.
    uri = await asyncio.to_thread(owner.start)
    try:
        state = owner._read_state()
        state["parent"] = os.getppid()
        owner.state_path.write_text(__import__("json").dumps(state))
        guest = EmbeddedDatabase(tmp_path)
        guest_uri = await asyncio.to_thread(guest.start)
        assert guest_uri == uri and guest.process is None
    finally:
        await asyncio.to_thread(owner.stop)


async def test_counts_agree_with_the_documents_found(tmp_path):
    """count_documents takes a SQL shortcut in the embedded server: it must count exactly
    what find returns, for every filter shape the gallery uses."""
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    client = AsyncMongoClient(uri)
    try:
        things = client.counts.things
        await things.insert_many([
            {"album_id": f"a{i % 3}", "position": i, "tags": [f"t{i % 4}", "all"],
             "private": i % 2 == 0, "parent": None if i % 5 == 0 else "p", "n": {"x": i}}
            for i in range(40)
        ])
        filters = [
            {}, {"album_id": "a1"}, {"album_id": {"$in": ["a0", "a2"]}},
            {"album_id": "a1", "position": {"$gte": 10}}, {"tags": {"$in": ["t2"]}},
            {"private": False}, {"parent": {"$eq": None}}, {"n.x": {"$lt": 7}},
            {"album_id": "a1", "$or": [{"position": {"$gt": 30}}, {"position": {"$lt": 3}}]},
            {"$and": [{"album_id": "a0"}, {"position": {"$ne": 3}}]}, {"album_id": "nothing"},
        ]
        for query in filters:
            found = len(await things.find(query).to_list())
            assert await things.count_documents(query) == found, query
            assert await things.count_documents(query, skip=2, limit=5) == max(0, min(found - 2, 5)), query
    finally:
        await client.close()
        await asyncio.to_thread(db.stop)


async def test_keyset_pages_and_equality_queries_find_the_same_documents(tmp_path):
    """$or filters and equality on scalar fields run as SQL in the embedded server; the
    pages they return must be the pages MongoDB's rules give (computed here in Python)."""
    db = EmbeddedDatabase(tmp_path)
    uri = await asyncio.to_thread(db.start)
    client = AsyncMongoClient(uri)
    try:
        media = client.pages.media
        docs = [
            {"_id": f"{i:04d}", "album_id": f"a{i % 2}", "position": i // 3 if i % 7 else None,
             "title": f"T{(i * 7) % 10}", "tags": [f"t{i % 3}"]}
            for i in range(60)
        ]
        await media.insert_many(docs)

        def key(d, field):
            value = d[field]
            return (value is not None, value if value is not None else 0, d["_id"])

        for field in ("position", "title"):
            for direction in (1, -1):
                mine = sorted((d for d in docs if d["album_id"] == "a1"),
                              key=lambda d: key(d, field), reverse=direction == -1)
                pivot = mine[10]
                op = "$gt" if direction == 1 else "$lt"
                after = {"$or": [{field: {op: pivot[field]}},
                                 {"$and": [{field: {"$eq": pivot[field]}}, {"_id": {op: pivot["_id"]}}]}]}
                if direction == -1 and pivot[field] is not None:
                    after["$or"].append({field: {"$eq": None}})
                if pivot[field] is None:
                    after = ({"$or": [{"$and": [{field: {"$eq": None}}, {"_id": {op: pivot["_id"]}}]},
                                      {field: {"$ne": None}}]} if direction == 1 else
                             {"$and": [{field: {"$eq": None}}, {"_id": {op: pivot["_id"]}}]})
                page = await media.find({"album_id": "a1", **after}).sort(
                    [(field, direction), ("_id", direction)]).limit(5).to_list()
                assert [d["_id"] for d in page] == [d["_id"] for d in mine[11:16]], (field, direction)
        assert len(await media.find({"album_id": "a0"}).to_list()) == 30
        assert await media.count_documents({"album_id": "a0"}) == 30
        # Equality on a field that holds arrays still matches elements (MongoDB's rule),
        # inside $or too, and $ne on an array means "no element equals".
        assert len(await media.find({"tags": "t1"}).to_list()) == 20
        cases = {
            "tags t1 or position > 18": (
                {"$or": [{"tags": "t1"}, {"position": {"$gt": 18}}]},
                lambda d: "t1" in d["tags"] or (d["position"] is not None and d["position"] > 18)),
            "tags not t1 or album a9": (
                {"$or": [{"tags": {"$ne": "t1"}}, {"album_id": "a9"}]}, lambda d: "t1" not in d["tags"]),
            "position not 3 or nothing": (
                {"$or": [{"position": {"$ne": 3}}, {"album_id": "a9"}]}, lambda d: d["position"] != 3),
        }
        for name, (query, rule) in cases.items():
            found = sorted(d["_id"] for d in await media.find(query).to_list())
            assert found == sorted(d["_id"] for d in docs if rule(d)), name
    finally:
        await client.close()
        await asyncio.to_thread(db.stop)


async def test_a_port_taken_between_its_pick_and_the_childs_bind_is_replaced(tmp_path, monkeypatch):
    """free_port() only finds a port free at that moment: a parallel process (two CLI runs,
    a test) can bind it before the child does. Here the first port handed out is one a
    listening socket holds; start-up tries another instead of failing."""
    import socket

    import server.embedded_db as embedded

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    ports = iter([taken])
    real = embedded.free_port
    monkeypatch.setattr(embedded, "free_port", lambda: next(ports, None) or real())
    db = EmbeddedDatabase(tmp_path)
    try:
        uri = await asyncio.to_thread(db.start)
        assert db.port != taken
        assert await _roundtrip(uri, write="here") == ["here"]
        assert "address already in use" in (tmp_path / "db" / "embedded.log").read_text()
    finally:
        holder.close()
        await asyncio.to_thread(db.stop)
