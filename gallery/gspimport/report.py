"""The import's report: counts per kind imported / skipped / failed, and one line per item that
was not imported as it was (with the reason). JSON; kept in the event log and the job result."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

KINDS = ("albums", "media", "files", "users", "roles", "grants", "settings")
STATUSES = ("imported", "skipped", "failed")
#: Items listed in full; beyond this only the counts grow (a 100,000-object gallery with every
#: file missing must not make a report of 100,000 lines in the event log).
MAX_ITEMS = 2000


class Report:
    def __init__(self, generation: dict, gallery_id: int | None):
        self.generation = generation
        self.gallery_id = gallery_id
        self.started = datetime.now(UTC)
        self.finished: datetime | None = None
        self.counts = {kind: Counter() for kind in KINDS}
        self.items: list[dict] = []
        self.left_out = 0
        self.password_links: list[dict] = []
        self.notes: list[str] = []

    def count(self, kind: str, status: str = "imported", n: int = 1) -> None:
        self.counts[kind][status] += n

    def item(self, kind: str, status: str, ident="", name: str = "", reason: str = "") -> None:
        """An item not imported as it was: counted under `status` ("note": imported, changed)."""
        if status in STATUSES:
            self.counts[kind][status] += 1
        if len(self.items) < MAX_ITEMS:
            self.items.append({"kind": kind, "id": str(ident), "name": str(name)[:200],
                               "status": status, "reason": reason})
        else:
            self.left_out += 1

    def as_dict(self) -> dict:
        return {
            "version": 1, "source": "gsp", **self.generation, "gallery_id": self.gallery_id,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "counts": {k: {s: int(c.get(s, 0)) for s in STATUSES} for k, c in self.counts.items()},
            "items": list(self.items), "items_left_out": self.left_out,
            "password_links": list(self.password_links), "notes": list(self.notes),
        }

    def summary(self) -> str:
        parts = []
        for kind, c in self.counts.items():
            if sum(c.values()):
                parts.append(f"{kind}: {c['imported']} imported, {c['skipped']} skipped, {c['failed']} failed")
        return "; ".join(parts)
