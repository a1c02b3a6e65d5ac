"""Live synchronization: watch a gallery's `originals/` (inotify, through `watchfiles`) and
sync what changed a few seconds after the last change.

Galleries opt in with the setting `sync_watch`. Each service process runs a `Watchers`
loop beside its job workers (server/runtime.py) that every ROUND_SECONDS looks for the
galleries that want watching and takes a lease on each one it watches (the host
collection `sync_watchers`, one document per gallery naming the holding process and
renewed every round), so one process of the host watches a gallery however many run; a
lease whose holder stopped renewing (or whose process is gone) is taken over. A process
watches at most `limits.watched_galleries`; a gallery beyond that is told once in its
event log ("not watched: ...") and watched when a place frees up.

A burst of changes (an rsync run) is one sync: `watchfiles` yields once nothing has changed
for the gallery's settle time plus a second (so the files are old enough for the sync to
take them), and the sync covers the deepest album directory holding every changed path
(unchanged directories cost the sync next to nothing, gallery/sync_state.py). When a sync
of the gallery is already running, the watcher waits for it and syncs again; when files were
still being written, it syncs again once they settle.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime, timedelta

from gallery import settings as gallery_settings
from gallery.library.albums import root_album
from gallery.notices.events import record_event
from storage import instance
from tenants.registry import TenantNotFound

log = logging.getLogger("atrium.sync")

ROUND_SECONDS = 15.0
LEASE = timedelta(seconds=60)
MAX_BURST_MS = 60_000  # a never-ending stream of changes still gets a sync every minute


class Watchers:
    def __init__(self, services, limit: int | None = None):
        self.services = services
        self.limit = services.config.limits.watched_galleries if limit is None else limit
        self.leases = services.host_db.sync_watchers
        self.tasks: dict[str, asyncio.Task] = {}
        self.told: set[str] = set()  # galleries told they are not watched (once)
        self.me = instance.current()

    async def run_forever(self) -> None:
        try:
            while True:
                try:
                    await self.round()
                except Exception:  # the next round tries again
                    log.exception("the sync watchers' round failed")
                await asyncio.sleep(ROUND_SECONDS)
        finally:
            await self.stop()

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        if self.tasks:
            await self.leases.delete_many({"_id": {"$in": list(self.tasks)}, "holder": self.me})
        self.tasks.clear()

    async def wanted(self) -> list:
        """Contexts of the galleries on this data directory whose setting asks for watching."""
        tenants_dir = self.services.config.data_dir / "tenants"
        try:
            slugs = sorted(await asyncio.to_thread(os.listdir, tenants_dir))
        except FileNotFoundError:
            return []
        contexts = []
        for slug in slugs:
            try:
                ctx = await self.services.registry.context_for_slug(slug)
            except TenantNotFound:
                continue
            if not ctx.active:  # staged restores, installers, suspended or going galleries
                continue
            if (await gallery_settings.get_settings(ctx)).get("sync_watch"):
                contexts.append(ctx)
        return contexts

    async def round(self) -> None:
        contexts = {ctx.slug: ctx for ctx in await self.wanted()}
        for slug in [s for s in self.tasks if s not in contexts or self.tasks[s].done()]:
            self.tasks.pop(slug).cancel()
            await self.leases.delete_one({"_id": slug, "holder": self.me})
        for slug, ctx in contexts.items():
            if slug in self.tasks:
                if not await self._lease(slug):  # taken over (we looked dead): let it go
                    self.tasks.pop(slug).cancel()
                continue
            if len(self.tasks) >= self.limit:
                if slug not in self.told:
                    self.told.add(slug)
                    await record_event(
                        ctx, "sync",
                        f"This gallery's folder is not watched for changes: the host watches at "
                        f"most {self.limit} galleries per process (limits.watched_galleries). "
                        "Synchronize by hand, on a schedule, or ask the host to raise the limit.")
                continue
            if await self._lease(slug):
                self.told.discard(slug)
                self.tasks[slug] = asyncio.create_task(self.watch(ctx))

    async def _lease(self, slug: str) -> bool:
        """Take or renew the gallery's lease; False when another live process holds it."""
        from pymongo.errors import DuplicateKeyError

        now = datetime.now(UTC)
        mine = {"holder": self.me, "until": now + LEASE}
        renewed = await self.leases.update_one({"_id": slug, "holder": self.me}, {"$set": mine})
        if renewed.matched_count:
            return True
        current = await self.leases.find_one({"_id": slug})
        if current is None:
            try:
                await self.leases.insert_one({"_id": slug, **mine})
                return True
            except DuplicateKeyError:
                return False
        if current["until"].replace(tzinfo=UTC) > now and not instance.is_gone(
                current.get("holder", "")):
            return False
        taken = await self.leases.update_one(
            {"_id": slug, "holder": current.get("holder"), "until": current["until"]},
            {"$set": mine})
        return taken.modified_count == 1

    async def watch(self, ctx) -> None:
        import watchfiles

        settle = int((await gallery_settings.get_settings(ctx)).get("sync_min_age_seconds", 5))
        originals = str(ctx.storage.originals)
        log.info("watching %s for gallery %s", originals, ctx.slug)
        async for changes in watchfiles.awatch(originals, step=(settle + 1) * 1000,
                                               debounce=MAX_BURST_MS, recursive=True,
                                               ignore_permission_denied=True):
            paths = [os.path.relpath(path, originals) for _change, path in changes]
            try:
                await self.sync_changed(ctx, paths, settle)
            except asyncio.CancelledError:
                raise
            except Exception:  # the next change tries again
                log.exception("live synchronization of gallery %s failed", ctx.slug)

    async def sync_changed(self, ctx, paths: list[str], settle: int) -> None:
        from gallery.intake.ingest import job_queue
        from gallery.intake.sync import start_sync

        album = await self.album_for(ctx, paths)
        queue = job_queue(self.services)
        for _attempt in range(10):
            job_id, running = await start_sync(ctx, queue, None, album, trigger="watch")
            job = await self._ended(queue, job_id)
            if running:  # that one may have missed these changes: run ours after it
                continue
            young = any("still being written" in e.get("reason", "")
                        for e in ((job or {}).get("result") or {}).get("skipped_entries", ()))
            if not young:
                return
            await asyncio.sleep(settle + 1)  # the product waits for files to settle
        log.warning("gallery %s: live sync gave up after 10 rounds of busy files", ctx.slug)

    @staticmethod
    async def _ended(queue, job_id: str) -> dict | None:
        while True:
            job = await queue.jobs.find_one({"_id": job_id})
            if job is None or job["state"] not in ("queued", "running"):
                return job
            await asyncio.sleep(0.5)

    @staticmethod
    async def album_for(ctx, paths: list[str]) -> dict:
        """The album of the deepest directory holding every changed path (the root's at
        least), so a change in one folder syncs that folder's subtree."""
        parts = [p.split("/")[:-1] for p in paths if p and not p.startswith("..")]
        common: list[str] = []
        if parts and len(parts) == len(paths):
            for level in zip(*parts, strict=False):
                if len(set(level)) != 1:
                    break
                common.append(level[0])
        while common:
            album = await ctx.db.albums.find_one({"dirpath": "/".join(common)})
            if album is not None:
                return album
            common.pop()
        return await root_album(ctx)
