"""Tags: kept as people typed them (display) and case-folded (search)."""

from __future__ import annotations

import unicodedata

from gallery.errors import Invalid
from gallery.i18n import Message

MAX_TAGS = 100
MAX_TAG_LENGTH = 100


def clean_tags(raw) -> list[str]:
    """A list (or comma-separated text) of tags, trimmed, de-duplicated ignoring case."""
    if raw is None:
        return []
    if isinstance(raw, str):
        items = raw.replace("\n", ",").split(",")
    elif isinstance(raw, (list, tuple)) and all(isinstance(t, str) for t in raw):
        items = list(raw)
    else:
        raise Invalid(
            "Tags must be a list of words.", field_errors={"tags": "must be a list of words"}
        )
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        tag = " ".join(unicodedata.normalize("NFC", item).split())
        tag = "".join(ch for ch in tag if unicodedata.category(ch)[0] != "C")
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise Invalid(
                "A tag is too long.",
                field_errors={"tags": Message("at most %(count)s characters each", count=MAX_TAG_LENGTH)},
            )
        key = tag_key(tag)
        if key not in seen:
            seen.add(key)
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise Invalid("Too many tags.", field_errors={"tags": Message("at most %(count)s", count=MAX_TAGS)})
    return out


def tag_key(tag: str) -> str:
    """The search form of a tag: case-folded, single-spaced."""
    return " ".join(tag.casefold().split())


def tag_fields(tags: list[str]) -> dict:
    """The two stored forms: `tags` (display) and `tag_keys` (search, lower-case)."""
    return {"tags": list(tags), "tag_keys": [tag_key(t) for t in tags]}
