"""Ids of gallery documents: 24 hex characters, made here, never taken on trust from a request."""

from __future__ import annotations

import re

from bson import ObjectId

_ID_RE = re.compile(r"^[0-9a-f]{24}$")


def new_id() -> str:
    return str(ObjectId())


def is_id(value) -> bool:
    return isinstance(value, str) and bool(_ID_RE.match(value))
