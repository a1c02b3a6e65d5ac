"""The tenant registry: tenant records in the host database and a per-process cache of contexts.

Contexts are made lazily on a tenant's first request and kept in a bounded LRU cache,
so start-up time and memory do not grow with the number of tenants.

A cached record is dropped at the next request after any write to the host's `tenants`
or `hostnames` collections (they are tracked like a tenant database, tenants.context),
and by age: after `tenants.cache_seconds` when this process has no write feed, so a
tenant suspended through another process stops being served within that time. While
the feed runs, other processes' record changes arrive through it (about two seconds),
and a record is re-read only after the feed's safety-net age: re-reading a thousand
tenants' records every few seconds was a large part of their tail latency.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path

from keys.tokens import derive_key
from storage.root import StorageRoot
from tenants import context as tenant_context
from tenants.context import TenantContext, TrackedDatabase
from tenants.names import InvalidName, check_slug


class TenantNotFound(Exception):
    """No tenant answers to this slug or hostname."""


RECORD_COLLECTIONS = frozenset({"tenants", "hostnames"})


class TenantRegistry:
    def __init__(self, config, client):
        self.config = config
        self.client = client
        self.prefix = config.database.prefix
        # Writes to these two move the records' generation (see the module's docstring).
        self.host_db = TrackedDatabase(client[f"{self.prefix}host"], only=RECORD_COLLECTIONS)
        self.tenants_dir = Path(config.data_dir) / "tenants"
        self._contexts: OrderedDict[str, TenantContext] = OrderedDict()
        self._hostnames: dict[str, tuple[str, float, int]] = {}  # name -> slug, read at, generation

    # -- names of a tenant's resources ------------------------------------------------
    def database_name(self, slug: str, record: dict | None = None) -> str:
        """The tenant's database. A record with `store` (set when a restore into the
        existing gallery switched it to a staged database, tenants/restore_into.py) names
        `t_<slug>__<store>`; without it (every other tenant) `t_<slug>`."""
        store = (record or {}).get("store")
        return f"{self.prefix}t_{slug}__{store}" if store else f"{self.prefix}t_{slug}"

    def tenant_db(self, slug: str, record: dict | None = None):
        return self.client[self.database_name(slug, record)]

    def storage(self, slug: str, record: dict | None = None) -> StorageRoot:
        """The tenant's storage root; with the record, its read-only media folder if the
        host set one (tenants/media_folder.py)."""
        return StorageRoot(self.tenants_dir / slug, (record or {}).get("media_folder"))

    # -- records ----------------------------------------------------------------------
    async def get_record(self, slug: str) -> dict:
        record = await self.host_db.tenants.find_one({"_id": slug})
        if record is None:
            raise TenantNotFound(slug)
        return record

    async def list_records(self, skip: int = 0, limit: int = 0) -> list[dict]:
        cursor = self.host_db.tenants.find({}).sort("_id", 1).skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return await cursor.to_list()

    async def count(self) -> int:
        return await self.host_db.tenants.count_documents({})

    async def set_status(self, slug: str, status: str) -> dict:
        result = await self.host_db.tenants.update_one({"_id": slug}, {"$set": {"status": status}})
        if result.matched_count == 0:
            raise TenantNotFound(slug)
        self.forget(slug)
        return await self.get_record(slug)

    # -- contexts ---------------------------------------------------------------------
    def _make_context(self, record: dict) -> TenantContext:
        slug = record["_id"]
        secret = self.config.security.host_secret
        return TenantContext(
            slug=slug,
            record=record,
            db=self.tenant_db(slug, record),
            storage=self.storage(slug, record),
            cookie_key=derive_key(secret, f"tenant-cookie:{slug}:{record.get('key_salt', '')}"),
        )

    def _records_generation(self) -> int:
        return tenant_context.generation(self.host_db.name)

    def _trust_seconds(self) -> float:
        if tenant_context.feed_live():
            return tenant_context.CACHE_SECONDS
        return self.config.tenants.cache_seconds

    async def context_for_slug(self, slug: str) -> TenantContext:
        try:
            check_slug(slug)
        except InvalidName:
            raise TenantNotFound(slug) from None
        ctx = self._contexts.get(slug)
        now = time.monotonic()
        generation = self._records_generation()
        if (ctx is not None and ctx.record_generation == generation
                and now - ctx.fetched_at < self._trust_seconds()):
            self._contexts.move_to_end(slug)
            return ctx
        record = await self.host_db.tenants.find_one({"_id": slug})
        if record is None:
            self._contexts.pop(slug, None)
            raise TenantNotFound(slug)
        if ctx is not None and ctx.record.get("media_folder") != record.get("media_folder"):
            ctx = None  # files moved: nothing remembered of the old folder may be served
        if (ctx is not None and ctx.record.get("key_salt") == record.get("key_salt")
                and ctx.record.get("store") == record.get("store")):
            ctx.record, ctx.fetched_at = record, now
        else:
            ctx = self._make_context(record)
        # Read before the lookup: a write that overlapped it leaves the record stale.
        ctx.record_generation = generation
        self._contexts[slug] = ctx
        self._contexts.move_to_end(slug)
        while len(self._contexts) > self.config.tenants.cache_size:
            self._contexts.popitem(last=False)
        return ctx

    async def context_for_hostname(self, hostname: str) -> TenantContext:
        cached = self._hostnames.get(hostname)
        now = time.monotonic()
        generation = self._records_generation()
        if cached and cached[2] == generation and now - cached[1] < self._trust_seconds():
            slug = cached[0]
        else:
            doc = await self.host_db.hostnames.find_one({"_id": hostname})
            if doc is None:
                self._hostnames.pop(hostname, None)
                raise TenantNotFound(hostname)
            slug = doc["slug"]
            if len(self._hostnames) > self.config.tenants.cache_size:
                self._hostnames.clear()
            self._hostnames[hostname] = (slug, now, generation)
        return await self.context_for_slug(slug)

    def forget(self, slug: str) -> None:
        """Drop cached state of a tenant (after a change made by this process)."""
        self._contexts.pop(slug, None)
        for name, (cached_slug, *_) in list(self._hostnames.items()):
            if cached_slug == slug:
                self._hostnames.pop(name, None)
