"""Runs a gallery's pending migration steps, once, under a claim held in its database.

The claim is the tenant's `meta {"_id": "migration"}` document: one atomic update takes
it when its lease has run out (free, released, or its holder died), so of several
requests, tasks or service processes exactly one migrates a gallery; the holder renews
the lease with every batch it records. A step records where it is (`step`, `last_id`,
`done`) in the same document, so after a `kill -9` the next holder continues the step
from its last recorded batch (steps are idempotent, so a batch done but not yet recorded
is simply done again). The schema version (`meta {"_id": "schema"}`) moves to a step's
NUMBER only when that step has finished: a failure leaves the gallery on the version it
had, with the failure recorded for the gate (tenants/upgrade.py) and the CLI to show.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType

from pymongo.errors import DuplicateKeyError

from gallery import failpoints, schema

log = logging.getLogger("atrium.migrations")

CLAIM_ID = "migration"
LEASE_SECONDS = 30.0


class MigrationError(Exception):
    """A gallery's database cannot be brought to this release's shapes now."""


class NewerDatabase(MigrationError):
    """Written by a newer release: never touched (no downgrade by accident)."""


class SchemaUnreadable(MigrationError):
    """`meta {"_id": "schema"}` holds something that is not a version number."""


class MigrationBusy(MigrationError):
    """Another request, task or process holds the claim and is migrating it now."""

    def __init__(self, message: str, state: dict):
        super().__init__(message)
        self.state = state


class MigrationFailed(MigrationError):
    """A step raised: the gallery stays on the version before it."""


class LostClaim(MigrationError):
    """Our lease ran out and another holder took the claim: stop writing."""


@dataclass
class Step:
    number: int
    description: str
    module: ModuleType

    async def run(self, ctx, progress) -> None:
        await self.module.run(ctx, progress)

    async def total(self, ctx) -> int | None:
        counter = getattr(self.module, "total", None)
        return await counter(ctx) if counter else None

    @property
    def read_only_safe(self) -> bool:
        """The step says (READ_ONLY_SAFE = True) that this release's code reads documents
        both before and after it correctly, so a gallery whose run of it stopped part-way
        may be served for reading (docs/migrations.md, "Read-only serving")."""
        return getattr(self.module, "READ_ONLY_SAFE", False) is True


def read_only_safe(steps: list[Step]) -> bool:
    """Whether a gallery with these steps pending (the failed one and those after it) can
    be read by this release's code: only when every one of them says so."""
    return bool(steps) and all(s.read_only_safe for s in steps)


def load_steps(package: str = "gallery.migrations.steps") -> list[Step]:
    """The steps of a package (modules named NNNN_what), in order; a wrong one stops here."""
    pkg = importlib.import_module(package)
    steps = []
    for info in pkgutil.iter_modules(pkg.__path__):
        prefix = info.name.split("_", 1)[0]
        if not prefix.isdigit():
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        number = getattr(module, "NUMBER", None)
        if number != int(prefix) or not getattr(module, "DESCRIPTION", "") or not hasattr(module, "run"):
            raise RuntimeError(f"migration step {package}.{info.name} needs NUMBER={int(prefix)}, DESCRIPTION and run()")
        steps.append(Step(number, module.DESCRIPTION, module))
    steps.sort(key=lambda s: s.number)
    numbers = [s.number for s in steps]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"migration steps in {package} share a number: {numbers}")
    return steps


TENANT_STEPS = load_steps()
HOST_STEPS = load_steps("gallery.migrations.host_steps")
#: The host database's schema version: its highest step (1: the shapes of release 37975f0).
HOST_SCHEMA_VERSION = max((s.number for s in HOST_STEPS), default=1)


async def stored_version(db) -> int:
    """The schema version a database says it has. No `meta` document at all: a database
    from before versions were recorded, i.e. version 1 (the earliest shapes; every step
    is idempotent, so running them on a database that already had them changes nothing)."""
    doc = await db.meta.find_one({"_id": "schema"})
    if doc is None:
        return 1
    version = doc.get("version")
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # a number written from the mongo shell is a double
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SchemaUnreadable(f"the database's schema record is unreadable (version {version!r})")
    return version


@dataclass
class Plan:
    version: int
    latest: int
    steps: list[Step] = field(default_factory=list)

    @property
    def behind(self) -> bool:
        return self.version < self.latest


async def plan(db, steps: list[Step] | None = None, latest: int = schema.SCHEMA_VERSION) -> Plan:
    """What migrating `db` would do; raises NewerDatabase or SchemaUnreadable."""
    steps = TENANT_STEPS if steps is None else steps
    version = await stored_version(db)
    if version > latest:
        raise NewerDatabase(
            f"the database has schema version {version}, newer than this release's {latest}: "
            "it was written by a newer Atrium and is left untouched (run that release, or restore a backup)"
        )
    return Plan(version, latest, [s for s in steps if version < s.number <= latest])


async def claim_state(db) -> dict | None:
    return await db.meta.find_one({"_id": CLAIM_ID})


class Progress:
    """Where the running step is; `advance` records a batch and renews the claim."""

    def __init__(self, db, owner: str, step: Step, last_id, done: int, lease: float, report,
                 total: int | None = None):
        self.db, self.owner, self.step, self.total = db, owner, step, total
        self.last_id, self.done, self.lease, self.report = last_id, done, lease, report

    async def advance(self, last_id, count: int) -> None:
        self.last_id, self.done = last_id, self.done + count
        result = await self.db.meta.update_one(
            {"_id": CLAIM_ID, "owner": self.owner},
            {"$set": {"last_id": last_id, "done": self.done, "lease_until": time.time() + self.lease}},
        )
        if result.matched_count == 0:
            raise LostClaim(f"migration claim lost during step {self.step.number}")
        if self.report:
            self.report(self.step, self.done, self.total)
        await failpoints.reached("migration.batch")  # tests kill -9 a migration here


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


async def _claim(db, owner: str, lease: float, latest: int) -> bool:
    try:
        await db.meta.insert_one({"_id": CLAIM_ID, "owner": None, "lease_until": 0.0})
    except DuplicateKeyError:
        pass  # it exists already (or another process made it just now)
    now = time.time()
    claim = {"$set": {"owner": owner, "lease_until": now + lease, "target": latest,
                      "claimed": datetime.now(UTC)}}
    result = await db.meta.update_one({"_id": CLAIM_ID, "lease_until": {"$lt": now}}, claim)
    if result.modified_count == 1:
        return True
    # A holder on this machine that no longer runs (kill -9, a crash) need not be waited
    # out: the claim is taken from exactly that holder, so of several takers one wins.
    state = await claim_state(db) or {}
    holder, until = state.get("owner"), state.get("lease_until")
    if isinstance(until, bool) or not isinstance(until, int | float):
        # A garbled claim (no release writes one) would never run out: taken from exactly
        # that document, so of several takers one wins.
        result = await db.meta.update_one({"_id": CLAIM_ID, "owner": holder, "lease_until": until}, claim)
        if result.modified_count == 1:
            log.warning("migration claim with an unreadable lease (%r) taken over", until)
            return True
        return False
    if holder and isinstance(holder, str) and _dead_here(holder):
        result = await db.meta.update_one({"_id": CLAIM_ID, "owner": holder}, claim)
        if result.modified_count == 1:
            log.warning("migration claim of %s taken over: its process is gone", holder)
            return True
    return False


def _dead_here(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # a process of another user: alive
    return False


async def migrate(ctx, *, steps: list[Step] | None = None, latest: int = schema.SCHEMA_VERSION,
                  lease: float = LEASE_SECONDS, report=None) -> list[Step]:
    """Bring ctx.db to `latest`, running the pending steps; returns the steps run (none
    when it was current). Raises NewerDatabase, SchemaUnreadable, MigrationBusy (someone
    else holds the claim) or MigrationFailed (a step raised; recorded, claim released)."""
    db = ctx.db
    pending = (await plan(db, steps, latest)).steps
    if not pending:
        return []
    owner = _owner()
    if not await _claim(db, owner, lease, latest):
        state = await claim_state(db) or {}
        raise MigrationBusy("the gallery is being upgraded by another process", state)
    ran: list[Step] = []
    step = None
    try:
        # Another holder may have finished between our plan and our claim.
        planned = await plan(db, steps, latest)
        pending = planned.steps
        state = await claim_state(db) or {}
        for step in pending:
            resume = state.get("step") == step.number
            last_id, done = (state.get("last_id"), int(state.get("done") or 0)) if resume else (None, 0)
            total = await step.total(ctx)
            await db.meta.update_one({"_id": CLAIM_ID, "owner": owner}, {"$set": {
                "step": step.number, "description": step.description, "last_id": last_id,
                "done": done, "total": total, "failed": None, "lease_until": time.time() + lease,
                # For the upgrading page: which of this run's steps it is, and the pace of
                # this holder (its start and count at start give documents/s, an estimate).
                "from_version": planned.version, "step_started": time.time(), "step_done0": done}})
            if resume and last_id is not None:
                log.info("%s: step %04d continues after %s (%d done)", ctx.slug, step.number, last_id, done)
            await step.run(ctx, Progress(db, owner, step, last_id, done, lease, report, total))
            mine = await db.meta.update_one({"_id": CLAIM_ID, "owner": owner}, {"$set": {"step": None, "last_id": None}})
            if mine.matched_count == 0:
                raise LostClaim(f"migration claim lost at the end of step {step.number}")
            await db.meta.update_one({"_id": "schema"}, {"$set": {
                "version": step.number, "updated": datetime.now(UTC)}}, upsert=True)
            ran.append(step)
            state = {}
            log.info("%s: migrated to schema version %d (%s)", ctx.slug, step.number, step.description)
    except LostClaim:
        raise
    except Exception as exc:
        number = step.number if step else None
        await db.meta.update_one({"_id": CLAIM_ID, "owner": owner}, {"$set": {
            "owner": None, "lease_until": 0.0,
            "failed": {"step": number, "error": f"{type(exc).__name__}: {exc}"[:500], "at": time.time()}}})
        log.error("%s: migration step %s failed; the gallery stays on schema version %d: %s",
                  ctx.slug, number, await stored_version(db), exc)
        raise MigrationFailed(f"upgrade step {number} failed: {type(exc).__name__}: {exc}") from exc
    await db.meta.update_one({"_id": CLAIM_ID, "owner": owner}, {"$set": {
        "owner": None, "lease_until": 0.0, "failed": None, "finished": datetime.now(UTC)}})
    return ran


@dataclass
class HostScope:
    """What a host step gets as `ctx`: the host database (no slug, no storage)."""

    db: object
    slug: str = "(host database)"


async def migrate_host(host_db, *, lease: float = LEASE_SECONDS) -> list[Step]:
    """The host database's steps, under the same kind of claim in its own `meta`; at
    start-up and by `migrate`. Another process migrating it: wait for it (start-up only
    needs it done), up to a few leases."""
    import asyncio

    scope = HostScope(host_db)
    for _ in range(int(lease * 4 / 0.5)):
        try:
            ran = await migrate(scope, steps=HOST_STEPS, latest=HOST_SCHEMA_VERSION, lease=lease)
        except MigrationBusy:
            await asyncio.sleep(0.5)
            continue
        if await host_db.meta.find_one({"_id": "schema"}) is None:
            await host_db.meta.update_one({"_id": "schema"}, {"$set": {
                "version": HOST_SCHEMA_VERSION, "updated": datetime.now(UTC)}}, upsert=True)
        return ran
    raise MigrationBusy("the host database is being migrated by another process", {})
