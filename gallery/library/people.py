"""The people field of media: names of who is in the picture, kept apart from tags.

Stored (optional, absence means nobody: no migration): `people` (names as typed, for display)
and `people_keys` (case-folded, for `/search?person=`). A GSP import's `person:` tags are moved
here from the tags (gallery/gspimport/build.py).
"""

from __future__ import annotations

import unicodedata

from gallery.errors import Invalid
from gallery.i18n import Message

MAX_PEOPLE = 100
MAX_NAME = 100


def _name(raw: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")


def person_key(name: str) -> str:
    return " ".join(name.casefold().split())


def clean_person(value) -> str:
    """One name to search by ("" for none)."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise Invalid("A person's name is text.", field_errors={"person": "must be text"})
    name = _name(value)  # only spaces or control characters: no filter, like an empty box
    if len(name) > MAX_NAME:
        raise Invalid("A person's name is 1 to 100 characters.",
                      field_errors={"person": Message("at most %(count)s characters", count=MAX_NAME)})
    return name


def clean_people(raw) -> list[str]:
    """A list (or comma-separated text) of names: trimmed, de-duplicated ignoring case."""
    if raw is None:
        return []
    if isinstance(raw, str):
        items = raw.replace("\n", ",").split(",")
    elif isinstance(raw, (list, tuple)) and all(isinstance(n, str) for n in raw):
        items = list(raw)
    else:
        raise Invalid("People must be a list of names.",
                      field_errors={"people": "must be a list of names"})
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        name = _name(item)
        if not name:
            continue
        if len(name) > MAX_NAME:
            raise Invalid("A name is too long.",
                          field_errors={"people": Message("at most %(count)s characters each", count=MAX_NAME)})
        if person_key(name) not in seen:
            seen.add(person_key(name))
            out.append(name)
    if len(out) > MAX_PEOPLE:
        raise Invalid("Too many people.", field_errors={"people": Message("at most %(count)s", count=MAX_PEOPLE)})
    return out


def people_fields(names: list[str]) -> dict:
    return {"people": list(names), "people_keys": [person_key(n) for n in names]}


async def people_cloud(ctx, visible: dict | None, limit: int = 40) -> list[dict]:
    """Names on media the viewer may see (`visible`: their media query) with counts, most
    seen first."""
    if visible is None:
        return []
    has = {"people_keys": {"$exists": True}}  # an emptied field is skipped below
    match = {"$and": [visible, has]} if visible else has
    counts: dict[str, list] = {}
    async for doc in ctx.db.media.find(match, {"people": 1}).limit(20_000):
        for name in doc.get("people") or []:
            entry = counts.setdefault(person_key(name), [name, 0])
            entry[1] += 1
    ranked = sorted(counts.values(), key=lambda e: (-e[1], e[0].casefold()))[:limit]
    return [{"name": n, "count": c} for n, c in ranked]
