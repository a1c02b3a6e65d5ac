"""Background work that runs beside the web server in the same process: the write feed
(other processes' writes reach this one's caches) and the job workers."""

from __future__ import annotations

import logging

log = logging.getLogger("atrium")


async def start_background(services) -> None:
    """Start the write feed, and the job workers when workers are configured."""
    if services.feed is not None:
        await services.feed.start()
    try:
        from server.jobs import JobRunner
    except ImportError:
        return
    if services.config.jobs.workers <= 0:
        return
    runner = JobRunner(services)
    services.jobs = runner
    await runner.start()


async def stop_background(services) -> None:
    if services.jobs is not None:
        await services.jobs.stop()
        services.jobs = None
    if services.feed is not None:
        await services.feed.stop()
