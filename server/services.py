"""App-wide services, built once in server.main and reached through `handler.services`."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from gallery.people import passwords
from server.config import Config, ensure_host_secret
from server.database import connect
from tenants.registry import TenantRegistry
from tenants.writefeed import WriteFeed

log = logging.getLogger("atrium")


@dataclass
class Services:
    config: Config
    client: Any
    registry: TenantRegistry
    embedded: Any = None
    started: float = field(default_factory=time.time)
    # Filled by later layers (job runner, process pool); None when not running.
    jobs: Any = None
    pool: Any = None
    # tenants.writefeed.WriteFeed: publishes this process's tenant writes (every process)
    # and, in a running service, brings other processes' writes to its caches.
    feed: Any = None
    # True while `python -m server run` starts its background work: requests are served,
    # but /_health says "starting" (a load balancer, or a test, waits for the whole service).
    starting: bool = False
    _closers: list = field(default_factory=list)

    @property
    def host_db(self):
        return self.registry.host_db

    def on_close(self, fn) -> None:
        self._closers.append(fn)

    async def stop_database_if_silent(self) -> None:
        """At shutdown, first ask the embedded database for a ping. One that does not answer
        within PING_SECONDS (hung, or dead and being restarted) is stopped now, with a short
        grace: every later step that touches the database then fails at once instead of
        waiting out its bound on a socket nobody reads (SQLite's journal keeps the files
        whole; a database that cannot answer a ping has nothing in flight to finish)."""
        if self.embedded is None or await _answers(self.client, PING_SECONDS):
            return
        log.warning("shutdown: the embedded database does not answer; stopping it first")
        await bounded("stop the embedded database", asyncio.to_thread(self.embedded.stop, SILENT_STOP_GRACE_SECONDS),
                      seconds=EMBEDDED_STOP_SECONDS)

    async def close(self) -> None:
        """Close everything, each step bounded (CLOSE_STEP_SECONDS): a dead or hung database
        or a stuck worker costs at most its step, never the whole shutdown. The steps before
        the embedded database's stop also share one budget (CLOSE_BUDGET_SECONDS), so the
        bound does not grow with the number of closers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_BUDGET_SECONDS

        def left() -> float:
            return min(CLOSE_STEP_SECONDS, max(0.2, deadline - loop.time()))

        if self.feed is not None:
            # a CLI's writes reach the running service's caches
            await bounded("publish the last tenant writes", self.feed.flush(), seconds=left())
        for fn in reversed(self._closers):
            # Closers may block (a process pool joining its workers): off the event loop.
            await bounded(f"close {getattr(fn, '__qualname__', fn)}", _call(fn), seconds=left())
        await bounded("close the database client", self.client.close(), seconds=left())
        if self.embedded is not None:
            await bounded("stop the embedded database", asyncio.to_thread(self.embedded.stop),
                          seconds=EMBEDDED_STOP_SECONDS)


#: The bound of one shutdown step; the embedded database's stop has its own (it waits
#: for SIGTERM, then SIGKILL: server/embedded_db.py STOP_GRACE_SECONDS).
CLOSE_STEP_SECONDS = 5.0
#: What the steps before the embedded database's stop may take together.
CLOSE_BUDGET_SECONDS = 6.0
EMBEDDED_STOP_SECONDS = 8.0
#: What a step that overran its bound gets after its cancel before it is left behind.
CANCEL_GRACE_SECONDS = 0.5
#: How long the shutdown's ping may take before the embedded database counts as silent,
#: and what SIGTERM then gets before SIGKILL.
PING_SECONDS = 1.5
SILENT_STOP_GRACE_SECONDS = 1.0


async def _answers(client, seconds: float) -> bool:
    task = asyncio.ensure_future(client.admin.command("ping"))
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
        return False
    return not task.cancelled() and task.exception() is None


async def _call(fn) -> None:
    result = await asyncio.to_thread(fn)
    if asyncio.iscoroutine(result):
        await result


async def bounded(step: str, awaitable, seconds: float = CLOSE_STEP_SECONDS) -> None:
    """Await one shutdown step for at most `seconds`; log (never raise) what went wrong.

    Not `asyncio.wait_for`: on its timeout it cancels the step and then waits for the step
    to end, without limit, and a step waiting on a dead database may ignore its cancel
    (pymongo's server selection retries). The step is cancelled and given CANCEL_GRACE_SECONDS,
    then left behind (server/lifetime.py ends the loop without it)."""
    task = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
        log.warning("shutdown: could not %s within %gs; going on", step, seconds)
    elif not task.cancelled() and task.exception() is not None:  # closing must go on
        log.warning("shutdown: could not %s", step, exc_info=task.exception())


async def build_services(config: Config, reuse_embedded: bool = True) -> Services:
    """Connect to the database and make the host-level indexes; nothing per tenant."""
    ensure_host_secret(config)
    security = config.security
    passwords.configure(security.password_memory_kb, security.password_rounds, security.password_parallelism)
    client, embedded = await connect(config, reuse_embedded=reuse_embedded)
    registry = TenantRegistry(config, client)
    services = Services(config=config, client=client, registry=registry, embedded=embedded)
    services.feed = WriteFeed(registry.host_db)
    try:
        host = registry.host_db
        await host.jobs.create_index([("state", 1), ("run_after", 1)])
        await host.jobs.create_index([("tenant", 1), ("state", 1)])
        await host.tenants.create_index([("status", 1)])
    except BaseException:
        await services.close()
        raise
    return services
