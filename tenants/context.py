"""TenantContext: everything one request or job needs to work inside one gallery.

Every database access of the gallery layer goes through `ctx.db`, the tenant's own
database, and every file through `ctx.storage`: code that holds a context cannot reach
another tenant's data by accident.

`ctx.db` also counts writes: each write through it moves the tenant's *generation*
(one counter per tenant database, shared by every context of that tenant in this
process). Per-request lookups that rarely change (a session and its user, a user's
roles, a media object's scope) are cached on the context together with the generation
they were read at, and a cached value is used only while no write has happened since
and for at most `CACHE_SECONDS` (the bound for writes made by other processes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from storage.root import StorageRoot

# How long a cached value is trusted without news of other processes' writes (a second
# service process, a worker, the CLI). tenants.writefeed raises it while it runs, since
# it then brings those writes within about two seconds.
CACHE_SECONDS = 5.0
DEFAULT_CACHE_SECONDS = CACHE_SECONDS
# Entries per context; past it the cache starts over (tenants are many, hot keys few).
CACHE_ENTRIES = 512
# Rendered page parts (tens of KB each) are kept apart, fewer of them, so that a crawl
# through an album's pages neither grows memory nor pushes sessions and roles out.
PAGE_ENTRIES = 64

# Calls that change what a read returns. Index changes do not, and are made at every
# start-up: counting them would throw away every cache (and, through the write feed,
# every other process's) each time a process starts.
_WRITES = frozenset({
    "insert_one", "insert_many", "update_one", "update_many", "replace_one",
    "delete_one", "delete_many", "find_one_and_update", "find_one_and_replace",
    "find_one_and_delete", "bulk_write", "drop", "rename",
})


def feed_live() -> bool:
    """True while tenants.writefeed brings other processes' writes (it raises CACHE_SECONDS)."""
    return CACHE_SECONDS > DEFAULT_CACHE_SECONDS


# Database name -> write generation. Module-wide so that two contexts of one tenant
# (a job's older one, a request's newer one) see each other's writes.
_generations: dict[str, int] = {}
_MISS = object()


def generation(db_name: str) -> int:
    return _generations.get(db_name, 0)


def _bump(db_name: str) -> None:
    _generations[db_name] = _generations.get(db_name, 0) + 1


# Tenant databases written by this process since tenants.writefeed last published them.
_written: set[str] = set()


def _wrote(db_name: str) -> None:
    _bump(db_name)
    _written.add(db_name)


def take_written() -> set[str]:
    """The databases written since the last call (for tenants.writefeed to publish)."""
    names = set(_written)
    _written.clear()
    return names


def written_elsewhere(db_name: str) -> None:
    """Another process wrote to this tenant's database: what was cached from it is stale."""
    _bump(db_name)


def _tracked(write, db_name: str):
    """`write` moving the database's generation before and after it runs (so a read that
    overlapped the write is never cached as current)."""

    async def tracked(*args, **kwargs):
        _bump(db_name)
        try:
            return await write(*args, **kwargs)
        finally:
            _wrote(db_name)

    return tracked


class TrackedCollection:
    """A collection whose writes move the tenant's generation (before and after the write,
    so a read that overlapped the write is never cached as current)."""

    __slots__ = ("_collection", "_db_name")

    def __init__(self, collection, db_name: str):
        self._collection = collection
        self._db_name = db_name

    def __getattr__(self, name: str):
        attr = getattr(self._collection, name)
        return _tracked(attr, self._db_name) if name in _WRITES else attr

    def __getitem__(self, name: str):
        return TrackedCollection(self._collection[name], self._db_name)

    def __eq__(self, other) -> bool:
        return self._collection == getattr(other, "_collection", other)

    def __hash__(self) -> int:
        return hash(self._collection)

    def __repr__(self) -> str:
        return f"Tracked({self._collection!r})"


class TrackedDatabase:
    """The tenant's database; every collection taken from it is a TrackedCollection.

    With `only`, just those collections are tracked and the rest are handed out as they
    are: the host database tracks its tenant records this way (tenants.registry), not the
    busy collections beside them."""

    __slots__ = ("_collections", "_db", "_only")

    def __init__(self, db, only: frozenset[str] | None = None):
        self._db = db
        self._only = only
        self._collections: dict[str, TrackedCollection] = {}

    def _wrap(self, name: str):
        if self._only is not None and name not in self._only:
            return self._db[name]
        wrapped = self._collections.get(name)
        if wrapped is None:
            wrapped = self._collections[name] = TrackedCollection(self._db[name], self._db.name)
        return wrapped

    def __getattr__(self, name: str):
        if name.startswith("_"):
            return getattr(self._db, name)
        attr = getattr(self._db, name)
        if type(attr).__name__ == "AsyncCollection":
            return self._wrap(name)
        if name in ("drop_collection", "create_collection") and self._only is None:
            return _tracked(attr, self._db.name)
        return attr

    def __getitem__(self, name: str) -> TrackedCollection:
        return self._wrap(name)

    def get_collection(self, name: str, *args, **kwargs):
        if not (args or kwargs):
            return self._wrap(name)
        collection = self._db.get_collection(name, *args, **kwargs)
        if self._only is not None and name not in self._only:
            return collection
        return TrackedCollection(collection, self._db.name)

    def __eq__(self, other) -> bool:
        return self._db == getattr(other, "_db", other)

    def __hash__(self) -> int:
        return hash(self._db)

    def __repr__(self) -> str:
        return f"Tracked({self._db!r})"


@dataclass
class TenantContext:
    slug: str
    record: dict
    db: Any  # pymongo AsyncDatabase of <prefix>t_<slug> (wrapped in a TrackedDatabase)
    storage: StorageRoot
    cookie_key: bytes
    fetched_at: float = field(default_factory=time.monotonic)
    # Generation of the host's tenant records when `record` was read (tenants.registry).
    record_generation: int = -1
    # Cached gallery settings (gallery.settings fills and invalidates these).
    settings_cache: dict | None = None
    settings_fetched_at: float = 0.0
    settings_generation: int = -1
    # Seen at this release's schema version (tenants.upgrade); checked until then.
    schema_current: bool = False
    _cache: dict = field(default_factory=dict, repr=False)
    _pages: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.db, TrackedDatabase):
            self.db = TrackedDatabase(self.db)

    # -- the per-tenant read cache ----------------------------------------------------
    @property
    def cache_seconds(self) -> float:
        """CACHE_SECONDS now (tenants.writefeed raises it), for gallery code caching on a
        context (gallery.settings) without importing this layer above it."""
        return CACHE_SECONDS

    @property
    def generation(self) -> int:
        """Read this *before* loading a value to cache, and pass it to `remember`."""
        return _generations.get(self.db.name, 0)

    def cached(self, key, default=None):
        """The value remembered under `key` if no write happened since it was read."""
        entry = self._cache.get(key, _MISS)
        if entry is _MISS:
            return default
        gen, at, value = entry
        stale = time.monotonic() - at > CACHE_SECONDS
        if gen != _generations.get(self.db.name, 0) or stale:
            self._cache.pop(key, None)
            return default
        return value

    def remember(self, key, value, generation: int) -> None:
        if generation != _generations.get(self.db.name, 0):
            return  # something was written while it was read: don't keep it
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache.clear()
        self._cache[key] = (generation, time.monotonic(), value)

    def forget_cached(self) -> None:
        self._cache.clear()
        self._pages.clear()

    def page_entry(self, key):
        """(value, fresh) for `key`: value None when missing or written since it was read;
        fresh False when older than CACHE_SECONDS though nothing was written here since.
        An aged value may stand in while one request reads the new one (a few ms)."""
        entry = self._pages.get(key, _MISS)
        if entry is _MISS:
            return None, False
        gen, at, value = entry
        if gen != _generations.get(self.db.name, 0):
            self._pages.pop(key, None)
            return None, False
        return value, time.monotonic() - at <= CACHE_SECONDS

    def remember_page(self, key, value, generation: int) -> None:
        if generation != _generations.get(self.db.name, 0):
            return  # something was written while the page was built: don't keep it
        if len(self._pages) >= PAGE_ENTRIES:
            # Entries of older generations are dead weight; drop them first, then the oldest.
            current = _generations.get(self.db.name, 0)
            for k in [k for k, (g, _, _) in self._pages.items() if g != current]:
                del self._pages[k]
            while len(self._pages) >= PAGE_ENTRIES:
                del self._pages[next(iter(self._pages))]
        self._pages[key] = (generation, time.monotonic(), value)

    @property
    def title(self) -> str:
        return self.record.get("title") or self.slug

    @property
    def status(self) -> str:
        return self.record.get("status", "installing")

    @property
    def hostnames(self) -> list[str]:
        return list(self.record.get("hostnames", []))

    @property
    def active(self) -> bool:
        return self.status == "active"
