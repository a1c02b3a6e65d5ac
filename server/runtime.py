"""Background work that runs beside the web server in the same process: the write feed
(other processes' writes reach this one's caches), the tmp/ sweep (server/maintenance.py:
what killed work left, at start-up and periodically) and the job workers."""

from __future__ import annotations

import asyncio
import importlib
import logging

log = logging.getLogger("atrium")

# Modules that register job handlers (the queue knows kinds, not galleries): imported when
# workers start.
HANDLER_MODULES: list[str] = [
    "gallery.processing.process", "gallery.processing.watermarks", "gallery.intake.zipimport",
    "gallery.intake.uploads", "gallery.intake.sync", "gallery.intake.sync_schedule",
    "gallery.notices.mail", "gallery.people.account_sweep", "gallery.archive.jobs",
    "gallery.gspimport.jobs", "gallery.library.trash_upkeep",
]


def load_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)
# The tmp/ sweep task of each running Services (by id: Services is not hashable).
_SWEEPERS: dict[int, asyncio.Task] = {}
_WATCHERS: dict[int, asyncio.Task] = {}


async def start_background(services) -> None:
    """Start the write feed, and the job workers when workers are configured."""
    if services.feed is not None:
        await services.feed.start()
    from server import maintenance

    _SWEEPERS[id(services)] = asyncio.create_task(maintenance.run_forever(services))
    try:
        from jobs.runner import JobRunner
    except ImportError:
        return
    if services.config.jobs.workers <= 0:
        return
    load_handlers()
    runner = JobRunner(services)
    services.jobs = runner
    await runner.start()
    # Live directory synchronization (gallery/sync_watch.py) runs where jobs run.
    from tenants.sync_watch import Watchers

    _WATCHERS[id(services)] = asyncio.create_task(Watchers(services).run_forever())


async def stop_background(services) -> None:
    sweeper = _SWEEPERS.pop(id(services), None)
    if sweeper is not None:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
    watchers = _WATCHERS.pop(id(services), None)
    if watchers is not None:
        watchers.cancel()
        await asyncio.gather(watchers, return_exceptions=True)
    if services.jobs is not None:
        await services.jobs.stop()
        services.jobs = None
    if services.feed is not None:
        await services.feed.stop()
