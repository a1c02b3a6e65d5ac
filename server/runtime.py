"""Background work that runs beside the web server in the same process: the write feed
(other processes' writes reach this one's caches) and the job workers."""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger("atrium")

# Modules that register job handlers (the queue knows kinds, not galleries): imported when
# workers start.
HANDLER_MODULES: list[str] = ["gallery.processing.process", "gallery.intake.zipimport", "gallery.intake.uploads", "gallery.notices.mail",
                               "gallery.people.account_sweep"]


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)


async def start_background(services) -> None:
    """Start the write feed, and the job workers when workers are configured."""
    if services.feed is not None:
        await services.feed.start()
    try:
        from jobs.queue import JobRunner
    except ImportError:
        return
    if services.config.jobs.workers <= 0:
        return
    load_handlers()
    runner = JobRunner(services)
    services.jobs = runner
    await runner.start()


async def stop_background(services) -> None:
    if services.jobs is not None:
        await services.jobs.stop()
        services.jobs = None
    if services.feed is not None:
        await services.feed.stop()
