"""`python -m server migrate [--all | SLUG…] [--dry-run]`: galleries to this release's schema.

One gallery after another (each under its database claim, gallery.migrations.runner, so
a running service or a second `migrate` never migrates one twice), a progress line per
gallery on stderr and a summary; the exit status is 1 when any gallery failed or was
refused. A failed gallery is retried at once here (requests wait RETRY_FAILED_SECONDS).
"""

from __future__ import annotations

import sys
import time

from gallery import schema
from gallery.migrations import runner
from tenants.registry import TenantNotFound


class MigrateFailed(Exception):
    """Some galleries could not be migrated (the summary says which)."""


def _bar(done: int, total: int | None, width: int = 30) -> str:
    if not total:
        return f"{done:,} documents"
    filled = min(width, width * done // total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"


async def migrate_galleries(services, slugs: list[str], all_: bool, dry_run: bool, out=print) -> dict:
    registry = services.registry
    if all_:
        slugs = [r["_id"] for r in await registry.list_records() if r.get("status") != "deleting"]
    elif not slugs:
        raise MigrateFailed("name galleries to migrate, or --all")
    summary = {"current": [], "migrated": [], "would_migrate": [], "busy": [], "failed": [], "refused": []}
    try:  # the host database first: its steps (none yet) run at every start too
        host_plan = await runner.plan(services.host_db, runner.HOST_STEPS, runner.HOST_SCHEMA_VERSION)
        if host_plan.behind and not dry_run:
            await runner.migrate_host(services.host_db)
        word = "would migrate" if host_plan.behind and dry_run else "migrated" if host_plan.behind else "current"
        out(f"host database: {word} (schema version {host_plan.version}, this release {host_plan.latest})")
    except runner.MigrationError as exc:
        raise MigrateFailed(f"host database: {exc}") from None
    tty = sys.stderr.isatty()
    started = time.monotonic()
    for index, slug in enumerate(slugs, 1):
        head = f"[{index}/{len(slugs)}] {slug}"
        try:
            ctx = await registry.context_for_slug(slug)
        except TenantNotFound:
            summary["failed"].append(slug)
            out(f"{head}: no such gallery")
            continue
        try:
            plan = await runner.plan(ctx.db)
            if not plan.behind:
                summary["current"].append(slug)
                out(f"{head}: current (schema version {plan.version})")
                continue
            steps = ", ".join(f"{s.number:04d} {s.description}" for s in plan.steps)
            if dry_run:
                summary["would_migrate"].append(slug)
                out(f"{head}: would migrate {plan.version} -> {plan.latest}: {steps}")
                continue

            def report(step, done, total, _head=head):
                if tty:
                    sys.stderr.write(f"\r{_head}: step {step.number:04d} {_bar(done, total)}   ")
                    sys.stderr.flush()

            t0 = time.monotonic()
            ran = await runner.migrate(ctx, report=report)
            if tty:
                sys.stderr.write("\n")
            ctx.schema_current = True
            summary["migrated"].append(slug)
            out(f"{head}: migrated {plan.version} -> {ran[-1].number if ran else plan.latest} "
                f"in {time.monotonic() - t0:.1f} s ({steps})")
        except runner.MigrationBusy as exc:
            summary["busy"].append(slug)
            from tenants.upgrade import progress_text

            out(f"{head}: being migrated by another process ({progress_text(exc.state)})")
        except (runner.NewerDatabase, runner.SchemaUnreadable) as exc:
            summary["refused"].append(slug)
            out(f"{head}: refused: {exc}")
        except runner.MigrationError as exc:
            summary["failed"].append(slug)
            out(f"{head}: FAILED: {exc}")
    counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in summary.items() if v)
    out(f"{len(slugs)} galleries (schema version {schema.SCHEMA_VERSION}): {counts or 'none'} "
        f"in {time.monotonic() - started:.1f} s")
    if summary["failed"] or summary["refused"]:
        raise MigrateFailed(f"{len(summary['failed'])} failed, {len(summary['refused'])} refused (see above)")
    return summary
