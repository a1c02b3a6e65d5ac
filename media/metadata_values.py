"""Values read from image metadata made safe to store: capped, cleaned text, finite numbers,
dates in ISO 8601, exposure and flash in words (media/metadata.py and media/raw.py use them).
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from media.dates import parse_taken

MAX_TEXT = 2000  # characters kept of any one string
MAX_ITEMS = 200  # entries kept of any one list

# Control characters other than tab and newline (C0, DEL, C1) never reach the database.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
EXIF_DATE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?")
OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$", re.ASCII)
ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$"
)


def safely(read, *args):
    """read(*args), or None when the metadata it reads is damaged.

    Pillow reports malformed EXIF/IPTC/XMP with whatever the parser hit (struct.error,
    KeyError, SyntaxError, ZeroDivisionError, defusedxml errors, RecursionError...);
    damaged metadata costs that one part, never the whole result.
    """
    try:
        return read(*args)
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # the disk, not the file: worth a retry
        return None


def clean_text(value, *, nul_ends: bool = False) -> str | None:
    """A clean, capped string, or None for empty/unusable values."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value[: MAX_TEXT * 4]
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode("latin-1")
    elif not isinstance(value, str):
        return None
    if nul_ends:  # EXIF ASCII: the string ends at the first NUL, what follows is junk
        value = value.split("\x00", 1)[0]
    value = CONTROL.sub("", value[: MAX_TEXT * 4]).strip()
    return value[:MAX_TEXT] or None


def finite_number(value) -> float | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    if value is None or isinstance(value, str | bytes):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def exposure_text(seconds: float) -> str:
    if seconds >= 1:
        return f"{round(seconds, 1):g}"
    inverse = 1 / seconds
    if abs(inverse - round(inverse)) <= 0.03 * inverse:
        return f"1/{round(inverse)}"
    return f"{seconds:.2g}"


def flash_text(value: int) -> str:
    if value & 0x20 and not value & 0x01:
        return "No flash function"
    text = "Fired" if value & 0x01 else "Did not fire"
    details = []
    mode = (value >> 3) & 0x03
    if mode:
        details.append({1: "compulsory", 2: "off", 3: "auto"}[mode])
    if value & 0x40:
        details.append("red-eye reduction")
    return f"{text} ({', '.join(details)})" if details else text


def exif_date(value, offset) -> str | None:
    text = clean_text(value, nul_ends=True)
    if not text or not (m := EXIF_DATE.match(text)):
        return None
    year, month, day, hour, minute, second = (int(g or 0) for g in m.groups())
    try:
        taken = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    if year < 1800:
        return None
    iso = taken.isoformat()
    offset = clean_text(offset, nul_ends=True)
    # An impossible offset ("+99:00", other digits) is dropped, not the date with it.
    if offset and OFFSET.match(offset) and parse_taken(iso + offset) is not None:
        iso += offset
    return iso


def iso_date(value) -> str | None:
    text = clean_text(value)
    return text if text and ISO_DATE.match(text) else None
