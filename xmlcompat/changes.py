"""The change list (placeholder, filled below)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Change:
    rule: str
    location: str
    backward: bool | None
    forward: bool | None
    detail: str = ""
    refactoring: bool = False
    witnessed: list | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def diff(lang_a, lang_b, ns_map):
    return []


def reconcile(report, lang_a, lang_b):
    pass
