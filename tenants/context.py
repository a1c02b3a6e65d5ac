"""TenantContext: everything one request or job needs to work inside one gallery.

Every database access of the gallery layer goes through `ctx.db`, the tenant's own
database, and every file through `ctx.storage`: code that holds a context cannot reach
another tenant's data by accident.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from storage.root import StorageRoot


@dataclass
class TenantContext:
    slug: str
    record: dict
    db: Any  # pymongo AsyncDatabase of <prefix>t_<slug>
    storage: StorageRoot
    cookie_key: bytes
    fetched_at: float = field(default_factory=time.monotonic)
    # Cached gallery settings (gallery.settings fills and invalidates these).
    settings_cache: dict | None = None
    settings_fetched_at: float = 0.0

    @property
    def title(self) -> str:
        return self.record.get("title") or self.slug

    @property
    def status(self) -> str:
        return self.record.get("status", "installing")

    @property
    def hostnames(self) -> list[str]:
        return list(self.record.get("hostnames", []))

    @property
    def active(self) -> bool:
        return self.status == "active"
