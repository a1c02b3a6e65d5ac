"""What a search can be narrowed by besides its words: the kind of media and the date taken.

Each filter is checked here and turned into one flat query fragment; a bad value is an
Invalid naming the field (a date that is not YYYY-MM-DD, a range that ends before it
starts, a kind that does not exist), never an empty result that looks like "nothing found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from gallery.errors import Invalid
from gallery.i18n import Message
from gallery.library.people import clean_person, person_key

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
    min_rating: int | None = None  # stars, 1-5: the shown average (gallery/library/ratings.py)
    person: str = ""  # one name of the people field (gallery/library/people.py)

    def __bool__(self) -> bool:
        return bool(self.kind or self.taken_from or self.taken_to or self.min_rating
                    or self.person)

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
        if self.min_rating:
            out["rating_avg"] = {"$gte": self.min_rating}
        if self.person:
            out["people_keys"] = person_key(self.person)
        return out

    def params(self) -> dict:
        """The filters as query-string values, for links to the next page."""
        return {
            "kind": self.kind or None,
            "from": self.taken_from.isoformat() if self.taken_from else None,
            "to": self.taken_to.isoformat() if self.taken_to else None,
            "min_rating": self.min_rating,
            "person": self.person or None,
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
            Message("%(value)s is not a date.", value=value), field_errors={field: Message("must be a date (YYYY-MM-DD)")}
        ) from None


def _stars(value) -> int | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in ("1", "2", "3", "4", "5"):
        raise Invalid("The least rating is 1 to 5 stars.",
                      field_errors={"min_rating": "a whole number from 1 to 5"})
    return int(value)


def parse_filters(kind=None, taken_from=None, taken_to=None, min_rating=None,
                  person=None) -> SearchFilters:
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
    name = clean_person(person)
    return SearchFilters(kind, start, end, _stars(min_rating), name)
