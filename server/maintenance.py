"""Periodic upkeep of every tenant, run by each service process beside its job workers
(server/runtime.py), at start-up (so a killed service's leftovers go at once) and every
`tmpsweep.INTERVAL` after: the tmp/ sweep (gallery/tmpsweep.py), and processing queued
for media stranded `pending` without a job (gallery/ingest.py `requeue_stranded`), and
the scheduled synchronization's next tick (gallery/sync_schedule.py), and the emptying
of the trash when something in it is due (gallery/library/trash_upkeep.py)."""

from __future__ import annotations

import asyncio
import logging
import os

from gallery.intake import ingest, sync_schedule, tmpsweep
from gallery.library import trash_upkeep
from tenants.registry import TenantNotFound

log = logging.getLogger("atrium.maintenance")


async def sweep_all(services) -> int:
    """Upkeep of every tenant with a storage root; returns how many files were removed."""
    tenants_dir = services.config.data_dir / "tenants"
    try:
        slugs = sorted(await asyncio.to_thread(os.listdir, tenants_dir))
    except FileNotFoundError:
        return 0
    removed = 0
    for slug in slugs:
        try:
            ctx = await services.registry.context_for_slug(slug)
        except TenantNotFound:  # being deleted (deletion removes the root), or not a tenant
            continue
        if ctx.status in ("provisioning", "deleting"):
            # A restore being staged or removed, or a tenant going: touching its database
            # here would make it again behind the removal's back.
            continue
        try:
            removed += (await tmpsweep.sweep_tenant(ctx, services))["removed"]
            await ingest.requeue_stranded(ctx, ingest.job_queue(services))
            await sync_schedule.ensure_scheduled(ctx, ingest.job_queue(services))
            await trash_upkeep.ensure_scheduled(ctx, ingest.job_queue(services))
        except Exception:  # one tenant's trouble must not stop the others' upkeep
            log.exception("could not look after tenant %s", slug)
    return removed


async def run_forever(services) -> None:
    """The start-up sweep, then one every tmpsweep.INTERVAL."""
    try:  # restores killed before their switch left a staging tenant (tenants/restore.py)
        from tenants.restore import clean_leftovers

        await clean_leftovers(services.registry)
    except Exception:
        log.exception("could not clean up after interrupted restores")
    try:  # GSP imports killed before their switch (gallery/gspimport/staging.py)
        from gallery.gspimport.staging import clean_leftovers as undo_imports

        await undo_imports(services.registry)
    except Exception:
        log.exception("could not undo interrupted GSP imports")
    while True:
        try:
            await sweep_all(services)
        except Exception:  # the next round tries again: upkeep never stops for good
            log.exception("the tmp/ sweep failed")
        await asyncio.sleep(tmpsweep.INTERVAL.total_seconds())
