"""Editors' corrections of a media object's metadata fields (gallery/metadata_fields.py).

Stored in `meta_edits` {field key: text}, apart from the `metadata` that processing reads
from the file and rewrites on every run (re-processing, a rotation, remade derivatives, a
replaced file, synchronization), so a correction outlives them all. Only the fields the
admin lists in the `metadata_editable` setting may be corrected; null removes a correction
and the file's value shows again.
"""

from __future__ import annotations

from gallery import metadata_fields
from gallery.errors import Forbidden, Invalid
from gallery.i18n import Message
from gallery.settings import get_settings


async def edit_update(ctx, media: dict, changes) -> dict:
    """The `$set` of `changes` {key: text or null}: one dotted path per field, so editors
    correcting different fields at once never undo each other. A removed correction is
    stored as null (the embedded database has no $unset of a dotted path): no correction.

    Raises Invalid for a malformed change and Forbidden for a field editors may not correct.
    """
    if not isinstance(changes, dict):
        raise Invalid("Please correct the marked fields.",
                      field_errors={"meta_edits": "must map field names to text or null"})
    allowed = set((await get_settings(ctx)).get("metadata_editable") or [])
    errors: dict[str, str] = {}
    refused = []
    values: dict[str, str | None] = {}
    for key, value in changes.items():
        field = metadata_fields.BY_KEY.get(key)
        if field is None or not field.editable:
            errors[f"meta_edits.{str(key)[:40]}"] = "is not a field that can be corrected"
            continue
        if key not in allowed:
            refused.append(field.name)
            continue
        try:
            values[key] = metadata_fields.clean_edit(key, value)
        except ValueError as exc:
            errors[f"meta_edits.{key}"] = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    if errors:
        raise Invalid("Please correct the marked fields.", field_errors=errors)
    if refused:
        raise Forbidden(Message("This gallery does not let editors correct: %(fields)s.", fields=", ".join(refused)))
    return {f"meta_edits.{key}": value for key, value in values.items()}
