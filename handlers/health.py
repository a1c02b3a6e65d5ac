"""`/_health`: database ping, storage writable, version (for load balancers and HEALTHCHECK)."""

from __future__ import annotations

import asyncio

from handlers.base import BaseHandler
from handlers.error_answers import DB_RETRY_AFTER_SECONDS
from storage.root import StorageRoot

VERSION = "0.1.0"  # the service's version, as in pyproject.toml (also in /api/v1/openapi.json)


class HealthHandler(BaseHandler):
    async def get(self) -> None:
        checks = {}
        embedded = self.services.embedded
        if embedded is not None and not embedded.available:
            # Known down (its supervisor is restarting it): say so at once, no ping to wait on.
            checks["database"] = f"error: embedded database {embedded.status()}"
        else:
            try:
                await asyncio.wait_for(self.services.host_db.command("ping"), timeout=3)
                checks["database"] = "ok"
            except Exception as exc:  # report, don't raise: this page exists to say what is wrong
                checks["database"] = f"error: {type(exc).__name__}"
        probe = StorageRoot(self.config.data_dir)
        writable = await asyncio.to_thread(_writable, probe)
        checks["storage"] = "ok" if writable else "error: not writable"
        if self.services.starting:
            checks["service"] = "starting"
        healthy = all(v == "ok" for v in checks.values())
        status = "ok" if healthy else "error"
        if self.services.starting and all(checks[k] == "ok" for k in ("database", "storage")):
            status = "starting"
        self.set_header("Cache-Control", "no-store")
        if checks["database"] != "ok" or self.services.starting:
            self.set_header("Retry-After", str(DB_RETRY_AFTER_SECONDS))
        self.write_json(
            {"status": status, "version": VERSION, "checks": checks},
            status=200 if healthy else 503,
        )


def _writable(root: StorageRoot) -> bool:
    root.tmp.mkdir(parents=True, exist_ok=True)
    return root.is_writable()


ROUTES = [(r"/_health", HealthHandler)]
