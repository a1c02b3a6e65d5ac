"""Removing self-registered accounts whose e-mail address was never confirmed.

Such an account holds a name and an address without anyone having proved they own it, so
it must not sit forever: after `unverified_account_days` (setting) it goes, with its tokens,
sessions and personal album. The sweep runs at each registration and as the
`accounts.sweep` job, which each registration schedules for the moment its account would
expire (one queued job per gallery; it reschedules itself while unverified accounts remain).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gallery.people.accounts import account_event, remove_user
from gallery.settings import get_settings

SWEEP_KIND = "accounts.sweep"
BATCH = 200


def _unverified_query(before: datetime | None = None) -> dict:
    # `pending` is an array: match its element with $in (plain equality misbehaves in the
    # embedded database), and only accounts that registered themselves.
    clauses: list[dict] = [{"pending": {"$in": ["verify"]}}, {"registered": True}]
    if before is not None:
        clauses.append({"created": {"$lt": before}})
    return {"$and": clauses}


async def sweep_unverified(ctx, days: int | None = None, *, now: datetime | None = None) -> int:
    """Remove accounts still unverified `days` after registering; returns how many went."""
    if days is None:
        days = int((await get_settings(ctx)).get("unverified_account_days", 7))
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    removed = 0
    while True:
        batch = await ctx.db.users.find(_unverified_query(cutoff)).limit(BATCH).to_list()
        if not batch:
            return removed
        for user in batch:
            await remove_user(ctx, user)
            await account_event(
                ctx,
                "account",
                f"Account {user['username']} removed: e-mail not confirmed within {days} days",
                None,
                target=user,
            )
            removed += 1


async def schedule_sweep(ctx, queue, days: int) -> None:
    """Queue the next sweep for when the newest registration would expire (deduplicated)."""
    if queue is None:
        from gallery.notices.mail import _host_queue

        queue = _host_queue(ctx)
    await queue.enqueue(
        ctx.slug, SWEEP_KIND, {}, delay=days * 86400 + 60, dedupe=SWEEP_KIND, max_attempts=3
    )


async def run_sweep_job(job) -> dict:
    """Job `accounts.sweep`: sweep, then come back while unverified accounts remain."""
    ctx = job.tenant
    days = int((await get_settings(ctx)).get("unverified_account_days", 7))
    removed = await sweep_unverified(ctx, days)
    oldest = await ctx.db.users.find(_unverified_query()).sort("created", 1).limit(1).to_list()
    if oldest:
        created = oldest[0]["created"]
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        due = created + timedelta(days=days) - datetime.now(UTC)
        # Finished jobs do not block the dedupe key, but this one is still running: queue
        # without it; the next registration's dedupe then finds this follow-up.
        await job.queue.enqueue(
            ctx.slug,
            SWEEP_KIND,
            {},
            delay=max(60.0, due.total_seconds() + 60),
            max_attempts=3,
            dedupe=None,
        )
    return {"removed": removed}


def _register() -> None:
    from jobs.queue import register

    register(SWEEP_KIND, run_sweep_job)


_register()
