"""The fields a media page's metadata panel can show: every value Atrium reads from a file
(media/metadata.py) plus the media object's own (title, size, dates).

One catalogue for the settings (which fields, their names, which editors may change) and
for the panel (handlers/page_format.py) and search (gallery.library.keywords), so a field
added here is offered, shown and searched everywhere.

Editors' corrections live in the media object's `meta_edits` {key: text, or null once
removed}, beside the extracted `metadata` that processing rewrites; the shown value is the
correction when there is one (an empty correction hides the file's value), else the file's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gallery.i18n import Message

MAX_EDIT = 500  # characters of one correction
# Control characters (C0 but tab/newline, DEL, C1) and lone surrogates cannot be stored.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Field:
    key: str
    name: str  # what the settings page calls it
    label: str  # its default heading on the media page
    # Dotted paths into the media object's `metadata`; the first with a value is shown.
    # Empty: computed by handlers/page_format.metadata_rows from the media object itself.
    paths: tuple[str, ...] = ()
    fmt: str = ""  # how a number is written ("{:g} m"); words for codes come from `words`
    editable: bool = False  # text an editor may correct in place (when the admin allows it)
    words: tuple[tuple[int, str], ...] = ()


_ORIENTATION = (
    (1, "Upright"), (2, "Mirrored"), (3, "Upside down"), (4, "Upside down, mirrored"),
    (5, "Turned left, mirrored"), (6, "Turned right"), (7, "Turned right, mirrored"),
    (8, "Turned left"),
)

FIELDS: tuple[Field, ...] = (
    Field("title", "Title", "Title"),
    Field("caption", "Caption", "Caption"),
    Field("date_taken", "Date taken", "Taken"),
    Field("camera", "Camera", "Camera", ("camera.make", "camera.model"), editable=True),
    Field("lens", "Lens", "Lens", ("camera.lens",), editable=True),
    Field("exposure", "Exposure", "Exposure"),
    Field("iso", "ISO speed", "ISO"),
    Field("focal_length", "Focal length", "Focal length"),
    Field("dimensions", "Dimensions", "Dimensions"),
    Field("file_size", "File size", "File size"),
    Field("gps", "Location (map link)", "Location"),
    Field("tags", "Tags", "Tags"),
    Field("file_name", "File name", "File name"),
    Field("date_added", "Date added", "Added"),
    Field("author", "Author (artist, creator)", "Author", ("xmp.creator", "iptc.by_line", "camera.artist"), editable=True),
    Field("copyright", "Copyright", "Copyright", ("xmp.rights", "iptc.copyright", "camera.copyright"), editable=True),
    Field("headline", "Headline", "Headline", ("xmp.headline", "iptc.headline"), editable=True),
    Field("object_name", "Object name (IPTC)", "Object name", ("iptc.object_name",), editable=True),
    Field("credit", "Credit line", "Credit", ("xmp.credit", "iptc.credit"), editable=True),
    Field("source", "Source", "Source", ("xmp.source", "iptc.source"), editable=True),
    Field("sublocation", "Place (sublocation)", "Place", ("xmp.location", "iptc.sublocation"), editable=True),
    Field("city", "City", "City", ("xmp.city", "iptc.city"), editable=True),
    Field("state", "State or province", "State", ("xmp.state", "iptc.state"), editable=True),
    Field("country", "Country", "Country", ("xmp.country", "iptc.country"), editable=True),
    Field("keywords", "Keywords in the file", "Keywords", ("keywords",)),
    Field("software", "Software", "Software", ("camera.software",), editable=True),
    Field("flash", "Flash", "Flash", ("camera.flash",)),
    Field("white_balance", "White balance", "White balance", ("camera.white_balance",)),
    Field("exposure_program", "Exposure program", "Program", ("camera.exposure_program",)),
    Field("metering_mode", "Metering mode", "Metering", ("camera.metering_mode",)),
    Field("exposure_bias", "Exposure compensation", "Compensation", ("camera.exposure_bias",), "{:+g} EV"),
    Field("focal_length_35mm", "Focal length (35 mm equivalent)", "35 mm equivalent", ("camera.focal_length_35mm",), "{:g} mm"),
    Field("orientation", "Orientation in the file", "Orientation", ("camera.orientation",), words=_ORIENTATION),
    Field("gps_altitude", "Altitude (GPS)", "Altitude", ("gps.altitude",), "{:g} m"),
)

BY_KEY = {f.key: f for f in FIELDS}
EDITABLE = tuple(f.key for f in FIELDS if f.editable)


def _at(metadata: dict, path: str):
    value = metadata
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def extracted_text(field: Field, metadata: dict) -> str:
    """The file's value of a catalogue field, as words ("" when the file has none)."""
    if field.key == "camera":
        make, model = (_at(metadata, p) or "" for p in field.paths)
        if not isinstance(make, str) or not isinstance(model, str):
            return ""
        return model if make and model.lower().startswith(make.lower()) else f"{make} {model}".strip()
    for path in field.paths:
        value = _at(metadata, path)
        if isinstance(value, bool) or value in (None, "", []):
            continue
        if isinstance(value, list):
            return ", ".join(v for v in value if isinstance(v, str))
        if isinstance(value, int | float) and field.words:
            return dict(field.words).get(int(value), "")
        if isinstance(value, int | float) and field.fmt:
            return field.fmt.format(value)
        return str(value) if isinstance(value, str | int) else ""
    return ""


def shown_text(field: Field, media: dict) -> str | None:
    """An editor's correction of the field, or None when it has none (show the file's)."""
    edits = media.get("meta_edits")
    value = edits.get(field.key) if isinstance(edits, dict) else None
    return value if isinstance(value, str) else None


def clean_edit(key: str, value) -> str | None:
    """A correction as stored: one line of text (None removes it); raise ValueError why not."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(Message("must be text or null"))  # noqa: TRY004  (callers make ValueError a field error)
    if len(value) > MAX_EDIT:
        raise ValueError(Message("must be at most %(count)s characters", count=MAX_EDIT))
    if _FORBIDDEN.search(value):
        raise ValueError(Message("must not contain control characters"))
    return " ".join(value.split())


def edited_paths(media: dict) -> set[str]:
    """The metadata paths whose file values a correction replaces (search leaves them out)."""
    edits = media.get("meta_edits")
    if not isinstance(edits, dict):
        return set()
    return {p for key, value in edits.items() if key in BY_KEY and isinstance(value, str) for p in BY_KEY[key].paths}
