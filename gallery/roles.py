"""Roles: a set of permissions on a set of albums (and everything below them)."""

from __future__ import annotations

from datetime import UTC, datetime

from gallery.ids import new_id
from gallery.users import username_key

ROLE_VERSION = 1

PERMISSIONS = (
    "view",
    "view_original",
    "add_album",
    "add_media",
    "edit_album",
    "edit_media",
    "delete_album",
    "delete_media",
    "synchronize",
    "administer_gallery",
    "hide_watermark",
)

ADMINISTRATORS = "Gallery Administrators"
AUTHENTICATED = "Authenticated Users"


def role_document(name: str, permissions: list[str], album_ids: list[str], *, builtin: str | None = None) -> dict:
    return {
        "_id": new_id(),
        "name": name,
        "name_key": username_key(name),
        "permissions": [p for p in PERMISSIONS if p in permissions],
        "album_ids": album_ids,
        "builtin": builtin,
        "created": datetime.now(UTC),
        "version": ROLE_VERSION,
    }


def builtin_roles(root_album_id: str) -> list[dict]:
    """The roles every gallery starts with (created by the installer)."""
    return [
        role_document(ADMINISTRATORS, ["administer_gallery"], [root_album_id], builtin="administrators"),
        role_document(AUTHENTICATED, ["view", "view_original"], [root_album_id], builtin="authenticated"),
    ]
