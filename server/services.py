"""App-wide services, built once in server.main and reached through `handler.services`."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

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
    _closers: list = field(default_factory=list)

    @property
    def host_db(self):
        return self.registry.host_db

    def on_close(self, fn) -> None:
        self._closers.append(fn)

    async def close(self) -> None:
        if self.feed is not None:
            try:
                await self.feed.flush()  # a CLI's writes reach the running service's caches
            except Exception:  # closing must go on; caches age out anyway
                log.warning("could not publish the last tenant writes", exc_info=True)
        for fn in reversed(self._closers):
            result = fn()
            if asyncio.iscoroutine(result):
                await result
        await self.client.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)


async def build_services(config: Config, reuse_embedded: bool = True) -> Services:
    """Connect to the database and make the host-level indexes; nothing per tenant."""
    ensure_host_secret(config)
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
