"""What a search can be narrowed by besides its words: the kind of media and the date taken.

Each filter is checked here and turned into one flat query fragment; a bad value is an
Invalid naming the field (a date that is not YYYY-MM-DD, a range that ends before it
starts, a kind that does not exist), never an empty result that looks like "nothing found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from gallery.errors import Invalid

# The kinds people choose from, and the stored kinds (media.sniff.KINDS) each one covers.
KINDS = {
    "photo": ["image"],
    "video": ["video"],
    "audio": ["audio"],
    "document": ["document", "other"],
}
KIND_LABELS = {"photo": "Photos", "video": "Videos", "audio": "Audio", "document": "Documents"}


@dataclass(frozen=True)
class SearchFilters:
    kind: str = ""
    taken_from: date | None = None
    taken_to: date | None = None

    def __bool__(self) -> bool:
        return bool(self.kind or self.taken_from or self.taken_to)

    def query(self) -> dict:
        """The media query fragment (flat: the embedded database answers flat filters fastest)."""
        out: dict = {}
        if self.kind:
            out["kind"] = {"$in": KINDS[self.kind]}
        taken: dict = {}
        if self.taken_from:
            taken["$gte"] = _start_of(self.taken_from)
        if self.taken_to:  # the whole last day
            taken["$lt"] = _start_of(self.taken_to + timedelta(days=1))
        if taken:
            out["date_taken"] = taken
        return out

    def params(self) -> dict:
        """The filters as query-string values, for links to the next page."""
        return {
            "kind": self.kind or None,
            "from": self.taken_from.isoformat() if self.taken_from else None,
            "to": self.taken_to.isoformat() if self.taken_to else None,
        }


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _day(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise Invalid("Dates are written YYYY-MM-DD.", field_errors={field: "must be YYYY-MM-DD"})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"{value} is not a date.", field_errors={field: "must be a date (YYYY-MM-DD)"}
        ) from None


def parse_filters(kind=None, taken_from=None, taken_to=None) -> SearchFilters:
    if kind in (None, ""):
        kind = ""
    elif kind not in KINDS:
        raise Invalid(
            "Kind must be photo, video, audio or document.",
            field_errors={"kind": "photo, video, audio or document"},
        )
    start, end = _day(taken_from, "from"), _day(taken_to, "to")
    if start and end and end < start:
        raise Invalid("The date range ends before it starts.", field_errors={"to": "before from"})
    return SearchFilters(kind, start, end)
