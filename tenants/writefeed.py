"""Tell every process which tenant databases the others wrote to.

Caches on a TenantContext (sessions, roles, settings, rendered page bodies) stay valid until
a write to that tenant's database moves its generation (tenants.context). Writes made in this
process are seen at once; writes made by another process (a second service process, a
separate worker, the CLI) would only be seen when a cache entry ages out. The feed closes
that gap with one small host collection, `tenant_writes` ({_id: database name, seq, at, by}):

- every second this process publishes the tenant databases it wrote to: one upsert each,
  counting `seq` up by one; a counter that moved by more than our own step means another
  process wrote too;
- every second it reads the entries changed since its last look (one indexed query,
  whatever the number of tenants) and moves the generation of every tenant whose counter
  moved since it last saw it.

The host database's tenant records (`tenants`, `hostnames`) are tracked and published
the same way, under the host database's name (tenants.registry).

So another process's write shows within about two seconds, and caches can be trusted for
TRUST_SECONDS instead of a few, which is what keeps a thousand tenants as fast as one. A
process that only publishes (the CLI) calls `flush()` before it exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import PyMongoError

from tenants import context

log = logging.getLogger("atrium.writefeed")

INTERVAL_SECONDS = 1.0
# While the feed runs, a cached value is re-read at the latest after this (a safety net
# for a process whose clock is far off, or a write made with no feed at all).
TRUST_SECONDS = 300.0
# Entries are read back this far behind the newest one seen: clocks of different machines
# and the moment a writer stamps `at` are not exact.
OVERLAP = timedelta(seconds=10)


class WriteFeed:
    def __init__(self, host_db):
        self.collection = host_db.tenant_writes
        self.me = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._started = datetime.now(UTC) - OVERLAP
        self._since = self._started
        self._seen: dict[str, int] = {}  # entry -> the counter we last saw
        self._task: asyncio.Task | None = None

    async def flush(self) -> None:
        """Publish the tenant databases this process wrote to since the last flush."""
        now = datetime.now(UTC)
        for name in sorted(context.take_written()):
            before = await self.collection.find_one_and_update(
                {"_id": name},
                {"$set": {"at": now, "by": self.me}, "$inc": {"seq": 1}},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
            seq_before = (before or {}).get("seq", 0)
            if name in self._seen:
                news = self._seen[name] != seq_before  # someone counted since we last looked
            else:
                # Not seen since we started: news only if another process wrote it after
                # our start and we have not polled it yet; older writes are history.
                news = before is not None and before.get("by") != self.me and _at(before) >= self._started
            self._seen[name] = seq_before + 1
            if news:
                context.written_elsewhere(name)

    def _note(self, name: str, seq: int) -> bool:
        """Record a polled entry's counter; True (and the generation moved) when it is not
        the counter we last saw, our own publishes included."""
        if self._seen.get(name) == seq:
            return False
        self._seen[name] = seq
        context.written_elsewhere(name)
        return True

    async def poll(self) -> int:
        """Move the generation of every tenant another process wrote to; return how many."""
        found = await self.collection.find({"at": {"$gte": self._since}}).to_list()
        moved = 0
        for entry in found:
            if self._note(entry["_id"], entry.get("seq", 0)):
                moved += 1
            self._since = max(self._since, _at(entry) - OVERLAP)
        return moved

    async def start(self) -> None:
        """Start the feed; a database that is down now (its supervisor restarting it) does
        not stop the service from starting: the feed's loop retries, and caches trust only
        a few seconds until it has read once."""
        try:
            await self._first_look()
        except PyMongoError as exc:
            log.warning("write feed: the database is not answering (%s); retrying", type(exc).__name__)
            self._task = asyncio.create_task(self._run(looked=False), name="atrium-writefeed")
        else:
            context.CACHE_SECONDS = TRUST_SECONDS
            self._task = asyncio.create_task(self._run(), name="atrium-writefeed")

    async def _first_look(self) -> None:
        await self.collection.create_index([("at", ASCENDING)])
        await self.poll()  # what is already there is history, not news

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
            context.CACHE_SECONDS = context.DEFAULT_CACHE_SECONDS
        await self.flush()

    async def _run(self, looked: bool = True) -> None:
        failing = not looked
        while True:
            await asyncio.sleep(INTERVAL_SECONDS)
            try:
                if not looked:
                    await self._first_look()
                    looked = True
                await self.flush()
                await self.poll()
            except Exception:  # a database hiccup must not end the feed
                if not failing:
                    # Until it works again, caches trust only a few seconds, as without it.
                    failing, context.CACHE_SECONDS = True, context.DEFAULT_CACHE_SECONDS
                    log.exception("write feed: could not publish or read; retrying")
            else:
                if failing:
                    failing, context.CACHE_SECONDS = False, TRUST_SECONDS


def _at(entry: dict) -> datetime:
    """When the entry was last published (stored times may come back without a zone)."""
    at = entry.get("at")
    if at is None:
        return datetime.min.replace(tzinfo=UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)
