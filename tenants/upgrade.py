"""The gate in front of a gallery whose database is not at this release's schema version.

TenantHandler.prepare calls `ensure_current` for every request. Once a context has been
seen current it costs nothing. A gallery behind is migrated on its first touch: one task
per gallery in this process (the database claim in gallery.migrations.runner makes it one
across processes), awaited for a moment so a quick migration is invisible; a longer one
keeps running while the gallery answers 503 with Retry-After and its progress, never a
half-migrated view. A database newer than this release, or with an unreadable schema
record, or whose migration failed, answers 503 with the reason and is left as it is,
except that a gallery whose failed steps all declare READ_ONLY_SAFE is served for
reading (its writes answer 503; docs/migrations.md, "Read-only serving").
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from gallery import schema
from gallery.errors import GalleryError
from gallery.migrations import runner

log = logging.getLogger("atrium.migrations")

#: How long a request waits for its gallery's migration before answering 503.
WAIT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5
#: A failed migration is not retried by requests for this long (the CLI retries at once).
RETRY_FAILED_SECONDS = 300

_tasks: dict[str, asyncio.Task] = {}
_refused_logged: set[str] = set()


class Upgrading(GalleryError):
    """503 with Retry-After: the gallery cannot be served by this release right now."""

    status = 503
    code = "upgrading"

    def __init__(self, message: str, retry_after: int = RETRY_AFTER_SECONDS, progress: dict | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        #: progress_of(): what the upgrading page and the API's 503 show (counts only).
        self.progress = progress


class Refused(Upgrading):
    code = "schema_refused"


class ReadOnly(Upgrading):
    """A write to a gallery served read-only after a failed upgrade."""

    code = "read_only"


READ_ONLY_NOTICE = ("This gallery's upgrade to the new release of Atrium has not finished, so it "
                    "is read-only for now: everything can be seen, but nothing can be changed "
                    "until the upgrade is completed.")


def duration_words(seconds: float) -> str:
    """'about 40 seconds', 'about 3 minutes', 'about 1.5 hours' (an estimate, in words)."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} seconds"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"


def progress_of(state: dict | None, version: int | None = None, now: float | None = None) -> dict:
    """The upgrading page's figures from the claim document: which of this run's steps
    (1-based, of how many), documents done of total, percent, and an estimate of the
    seconds left in the step from the holder's own pace (None until it has one). Only
    counts: no names, ids or errors of the gallery."""
    state = state if isinstance(state, dict) else {}
    now = time.time() if now is None else now
    target = int(_number(state.get("target")) or schema.SCHEMA_VERSION)
    base = _number(state.get("from_version")) or version or 1
    numbers = [s.number for s in runner.TENANT_STEPS if base < s.number <= target] or [target]
    step = _number(state.get("step"))
    done = int(_number(state.get("done")) or 0)
    total = int(_number(state.get("total")) or 0) or None
    seconds_left = None
    started, done0 = _number(state.get("step_started")), int(_number(state.get("step_done0")) or 0)
    if step and total and started and done > done0 and now > started:
        rate = (done - done0) / (now - started)
        seconds_left = max(0, round((total - done) / rate))
    return {
        "state": "upgrading",
        "step": numbers.index(step) + 1 if step in numbers else 0,
        "steps": len(numbers),
        "done": done,
        "total": total,
        "percent": min(100, done * 100 // total) if total else None,
        "seconds_left": seconds_left,
    }


def _number(value) -> float | None:
    """A count or time from the claim document, or None for anything else (a garbled
    document shows as "starting", never as a failed request)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return value


def progress_words(progress: dict) -> str:
    """'step 1 of 1: 4,500 of 10,000 documents, 45%, about 30 seconds left' (plain words)."""
    if not progress.get("step"):
        return "starting"
    done, total = progress["done"], progress["total"]
    words = f"step {progress['step']} of {progress['steps']}: "
    words += f"{done:,} of {total:,} documents, {progress['percent']}%" if total else f"{done:,} documents"
    if progress.get("seconds_left") is not None:
        words += f", {duration_words(progress['seconds_left'])} left"
    return words


def progress_text(state: dict | None) -> str:
    """'step 2 of 2 (media: add taken …): 4,500 of 10,000 documents' from the claim document."""
    if not isinstance(state, dict) or not _number(state.get("step")):
        return "starting"
    done, total = int(_number(state.get("done")) or 0), int(_number(state.get("total")) or 0)
    count = f"{done:,} of {total:,} documents" if total else f"{done:,} documents"
    pct = f", {min(100, done * 100 // total)}%" if total else ""
    return (f"step {state['step']} of {state.get('target', schema.SCHEMA_VERSION)} "
            f"({state.get('description', '')}): {count}{pct}")


def _refuse(ctx, message: str) -> Refused:
    key = f"{ctx.db.name}:{message}"
    if key not in _refused_logged:  # one log line per gallery and reason, not one per request
        _refused_logged.add(key)
        log.error("gallery %s is not served: %s", ctx.slug, message)
    return Refused(f"This gallery cannot be opened by this version of Atrium: {message}.", retry_after=60)


def _failed_message(failed: dict) -> str:
    return (f"The upgrade of this gallery to the new release failed at step {failed.get('step')} "
            f"({failed.get('error')}); it is kept unchanged on its previous version. "
            "An administrator can retry with `python -m server migrate`.")


async def ensure_current(ctx, *, writing: bool = False) -> str | None:
    """Returns None when the gallery is current; READ_ONLY_NOTICE when it may only be read
    (its upgrade failed at READ_ONLY_SAFE steps; a write then raises ReadOnly); otherwise
    raises Upgrading (being migrated) or Refused (newer, unreadable, failed)."""
    if ctx.schema_current:
        return None
    try:
        pending = await runner.plan(ctx.db)
    except runner.MigrationError as exc:
        raise _refuse(ctx, str(exc)) from None
    if not pending.behind:
        ctx.schema_current = True
        return None
    task = _tasks.get(ctx.db.name)
    if task is None:
        state = await runner.claim_state(ctx.db) or {}
        failed = state.get("failed")
        if (isinstance(failed, dict) and not state.get("owner")
                and time.time() - (_number(failed.get("at")) or 0) < RETRY_FAILED_SECONDS):
            return _after_failure(failed, pending, writing)
        task = asyncio.get_running_loop().create_task(_migrate(ctx))
        _tasks[ctx.db.name] = task
        task.add_done_callback(_forget)
    done, _ = await asyncio.wait({task}, timeout=WAIT_SECONDS)
    if done and task.exception() is None:
        ctx.schema_current = True
        return None
    if done and isinstance(task.exception(), runner.MigrationFailed):
        failed = (await runner.claim_state(ctx.db) or {}).get("failed") or {"error": str(task.exception())}
        return _after_failure(failed, await runner.plan(ctx.db), writing)
    if done and isinstance(task.exception(), runner.MigrationError) and not isinstance(
            task.exception(), (runner.MigrationBusy, runner.LostClaim)):
        raise _refuse(ctx, str(task.exception()))
    progress = progress_of(await runner.claim_state(ctx.db), pending.version)
    raise Upgrading(f"This gallery is being upgraded to the new release of Atrium ({progress_words(progress)}). "
                    f"It will be back in a moment; this page reloads by itself.", progress=progress)


def _after_failure(failed: dict, pending: runner.Plan, writing: bool) -> str:
    """A failed upgrade: read-only when every pending step allows it, else 503 with why."""
    if not runner.read_only_safe(pending.steps):
        raise Refused(_failed_message(failed), retry_after=60)
    if writing:
        raise ReadOnly(READ_ONLY_NOTICE, retry_after=60)
    return READ_ONLY_NOTICE


async def _migrate(ctx) -> None:
    ran = await runner.migrate(ctx)
    if ran:
        log.info("gallery %s migrated to schema version %d", ctx.slug, ran[-1].number)


def _forget(task: asyncio.Task) -> None:
    for name, known in list(_tasks.items()):
        if known is task:
            del _tasks[name]
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()  # retrieved here, so an unawaited failure is not "never retrieved"
        if not isinstance(exc, runner.MigrationError):
            log.error("gallery migration task failed: %s: %s", type(exc).__name__, exc)


async def schema_state(db) -> dict:
    """A gallery's schema version for `tenant show` and the host console: {version,
    latest, behind, state} where state is current, behind, upgrading, failed, newer or
    unreadable."""
    latest = schema.SCHEMA_VERSION
    try:
        version = await runner.stored_version(db)
    except runner.SchemaUnreadable as exc:
        return {"version": None, "latest": latest, "behind": False, "state": "unreadable", "message": str(exc)}
    claim = await runner.claim_state(db) or {}
    state = "current" if version == latest else "newer" if version > latest else "behind"
    if state == "behind" and claim.get("owner") and (_number(claim.get("lease_until")) or 0) > time.time():
        state = "upgrading"
    elif state == "behind" and isinstance(claim.get("failed"), dict):
        state = "failed"
    out = {"version": version, "latest": latest, "behind": version < latest, "state": state}
    if state == "upgrading":
        out["progress"] = progress_text(claim)
    if state == "failed":
        out["message"] = _failed_message(claim["failed"])
        pending = [s for s in runner.TENANT_STEPS if version < s.number <= latest]
        out["read_only"] = runner.read_only_safe(pending)
        if out["read_only"]:
            out["message"] += " Meanwhile it is served read-only (its pending steps allow it)."
    return out
