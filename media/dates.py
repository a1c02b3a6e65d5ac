"""When a photo or video was taken: the wall-clock time as the camera showed it, plus
the UTC offset when the file records one.

Files say this in different ways: EXIF DateTimeOriginal ("2024:05:01 15:47:00", local
time, no zone) with OffsetTimeOriginal ("-05:00") since EXIF 2.31; XMP and IPTC dates in
ISO 8601, with or without an offset; QuickTime's com.apple.quicktime.creationdate (local
time with offset) and creation_time (UTC by the specification). A time without an offset
is a local time whose instant is unknown, so it is never converted: it is shown as it was
taken, and sorted as if it were UTC (the best guess that needs no time zone database).

Pure functions on strings and dicts; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.ASCII,  # "２０２４" is not a year
)
_ZONE = re.compile(r"([+-])(\d{2}):?(\d{2})", re.ASCII)
_MIN_YEAR = 1800  # older "dates" are a camera's unset clock or a zero timestamp
_MAX_YEAR = 9000  # later ones are junk, and 9999 plus an offset overflows datetime
_MAX_OFFSET = timedelta(hours=14)  # UTC-12:00 .. UTC+14:00 are the real zones


@dataclass(frozen=True)
class TakenDate:
    """local: naive wall-clock time; offset: "+HH:MM"/"-HH:MM", or None when unknown."""

    local: datetime
    offset: str | None = None

    @property
    def utcoffset(self) -> timedelta | None:
        if self.offset is None:
            return None
        sign = -1 if self.offset[0] == "-" else 1
        return sign * timedelta(hours=int(self.offset[1:3]), minutes=int(self.offset[4:6]))

    @property
    def instant(self) -> datetime:
        """The UTC time to sort by: exact with an offset, the local time read as UTC without."""
        shift = self.utcoffset or timedelta(0)
        return (self.local - shift).replace(tzinfo=UTC)

    def isoformat(self) -> str:
        return self.local.isoformat() + (self.offset or "")

    def to_dict(self) -> dict:
        """As stored on a media object (`taken`) and returned by the API."""
        return {"local": self.local.isoformat(), "offset": self.offset}

    def display(self) -> str:
        """As a person reads it: "01 May 2024, 15:47 (UTC-05:00)"; no zone when unknown."""
        text = self.local.strftime("%d %b %Y, %H:%M")
        if self.offset is None:
            return text
        return f"{text} (UTC)" if self.offset in ("+00:00", "-00:00") else f"{text} (UTC{self.offset})"


def _offset(text: str | None) -> str | None:
    """"+HH:MM" from "Z", "+HH:MM" or "+HHMM"; None when absent or out of range."""
    if not text:
        return None
    if text == "Z":
        return "+00:00"
    m = _ZONE.fullmatch(text) if isinstance(text, str) else None
    if not m:
        return None
    hours, minutes = int(m[2]), int(m[3])
    if minutes >= 60 or timedelta(hours=hours, minutes=minutes) > _MAX_OFFSET:
        return None
    return f"{m[1]}{hours:02d}:{minutes:02d}"


def parse_taken(text) -> TakenDate | None:
    """A TakenDate from ISO 8601 text ("2024-05-01T15:47:00-05:00", "2024-05-01 15:47",
    "2024-05-01"); None for anything else or an impossible date."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    m = _ISO.match(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g or 0) for g in m.groups()[:6])
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    offset = _offset(m[7])
    if m[7] and offset is None:
        return None  # a malformed zone: the time may be anything
    return TakenDate(local, offset)


def best_taken(candidates) -> str | None:
    """The first readable date of `candidates` (ISO strings, most trusted first) as ISO
    text; when it has no offset and another candidate names the same wall-clock time
    with one (EXIF without OffsetTimeOriginal, XMP written by an editor with it), that
    offset is used."""
    parsed = [t for t in (parse_taken(c) for c in candidates) if t is not None]
    if not parsed:
        return None
    first = parsed[0]
    if first.offset is None:
        for other in parsed[1:]:
            if other.offset is not None and other.local == first.local:
                return TakenDate(first.local, other.offset).isoformat()
    return first.isoformat()


def quicktime_taken(tags: dict | None) -> str | None:
    """When a video was recorded, from ffprobe's format tags: Apple's creationdate (local
    time and offset) first, then creation_time (UTC; 1904/1970 zero dates ignored)."""
    tags = {str(k).lower(): v for k, v in (tags or {}).items()}
    apple = parse_taken(tags.get("com.apple.quicktime.creationdate"))
    if apple is not None:
        return apple.isoformat()
    created = parse_taken(tags.get("creation_time"))
    if created is None or created.local.year <= 1970:
        return None
    if created.offset is None:
        created = TakenDate(created.local, "+00:00")  # MP4 stores UTC
    elif created.offset != "+00:00":
        created = TakenDate(created.instant.replace(tzinfo=None), "+00:00")
    return created.isoformat()


def taken_of(media: dict) -> TakenDate | None:
    """The date a media document was taken, as shown: its `taken` field, else (documents
    stored before `taken` existed) the file's own text in metadata.date_taken, else its
    `date_taken` instant shown in UTC."""
    stored = media.get("taken")
    if isinstance(stored, dict):
        found = parse_taken(stored.get("local"))
        offset = _offset(stored.get("offset")) if stored.get("offset") else None
        if found is not None:
            return TakenDate(found.local, offset)
    found = parse_taken((media.get("metadata") or {}).get("date_taken"))
    if found is not None:
        return found
    instant = media.get("date_taken")
    if isinstance(instant, datetime):
        if instant.tzinfo is not None:
            instant = instant.astimezone(UTC).replace(tzinfo=None)
        return TakenDate(instant, "+00:00")
    return None


def taken_key(instant) -> str:
    """`taken_key`, the text the timeline sorts and pages by: "t" and the UTC instant
    ("t2019-07-14T16:30:00.000000"), so that text order is time order; "" (before every
    date) without one. A date range on `date_taken` is evaluated row by row on the embedded
    database, a range of this text is an index range there. The "t" keeps the text from
    looking like a date, which the embedded database would compare row by row again."""
    if not isinstance(instant, datetime):
        return ""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return (f"t{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T{instant.hour:02d}:"
            f"{instant.minute:02d}:{instant.second:02d}.{instant.microsecond:06d}")


def taken_fields(text) -> dict:
    """The media object's fields for a date read from a file: `taken` {local, offset} to
    show, `date_taken` (UTC instant) to sort by and its `taken_key`; {} when the text is
    not a date."""
    found = parse_taken(text)
    if found is None:
        return {}
    return {"taken": found.to_dict(), "date_taken": found.instant,
            "taken_key": taken_key(found.instant)}
