"""What the JSON API handlers share: the viewer, pagination, the job queue, JSON shapes,
and `operation()` for the OpenAPI description each API module declares next to its ROUTES.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gallery.errors import Invalid
from gallery.library.downloads import download_allowed
from gallery.library.media_access import has_distinct_original, may_view_original
from gallery.library.ratings import summary as rating_summary
from gallery.media_folder import READ_ONLY_REFUSED, read_only
from gallery.numbers import bounded_int
from gallery.people.permissions import Viewer, can, viewer_for
from gallery.richtext import user_html
from handlers.base import TenantHandler
from media.dates import taken_of

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000


class ApiHandler(TenantHandler):
    """A handler under /api/v1/: JSON in, JSON out, errors as {"error": {...}}."""

    _viewer: Viewer | None = None

    async def viewer(self) -> Viewer:
        if self._viewer is None:
            self._viewer = await viewer_for(
                self.tenant, self.user, self.settings_values, self.share_grants
            )
        return self._viewer

    @property
    def queue(self):
        """The job queue (this process's runner, or the shared queue when it runs no workers)."""
        if self.services.jobs is not None:
            return self.services.jobs.queue
        from jobs.queue import JobQueue

        config = self.config
        return JobQueue(self.services.host_db, config.jobs.lease_seconds, config.jobs.max_attempts)

    def int_argument(self, name: str, default: int, minimum: int, maximum: int) -> int:
        """A bounded whole number from the query, `default` when absent. Given empty or more
        than once it is a 400, as the OpenAPI document's integer says (no silent default)."""
        given = self.get_query_arguments(name)
        if not given:
            return default
        if len(given) > 1:
            raise Invalid(f"{name} is given more than once.", field_errors={name: "given more than once"})
        return bounded_int(name, given[0], minimum, maximum)

    def page_arguments(self) -> dict:
        """offset/limit (bounded; out of range is a 400) and an optional cursor."""
        default = int(self.settings_values.get("page_size", 60))
        limit = self.int_argument("limit", min(default, MAX_LIMIT), 1, MAX_LIMIT)
        offset = self.int_argument("offset", 0, 0, MAX_OFFSET)
        cursor = self.get_query_argument("cursor", None) or None
        if cursor and len(cursor) > 2000:
            raise Invalid("The cursor is not valid.", field_errors={"cursor": "is not valid"})
        return {"offset": offset, "limit": limit, "cursor": cursor}

    # -- JSON shapes ----------------------------------------------------------------------------
    def album_json(self, album: dict, viewer: Viewer) -> dict:
        return {
            "id": album["_id"],
            "title": album.get("title", ""),
            "summary": album.get("summary", ""),
            "summary_html": user_html(album.get("summary"), self.settings_values),
            "parent_id": album.get("parent_id"),
            "ancestors": album.get("ancestors", []),
            "dirname": album.get("dirname", ""),
            "private": bool(album.get("private")),
            "sort_field": album.get("sort_field", "position"),
            "sort_direction": album.get("sort_direction", 1),
            "cover_id": album.get("cover_id"),
            "cover_url": self.urls(f"/media/{album['cover_id']}/thumbnail")
            if album.get("cover_id")
            else None,
            "owner_id": album.get("owner_id"),
            "position": album.get("position", 0),
            "created": album.get("created"),
            "updated": album.get("updated"),
            "can": {
                p: can(viewer, p, album) and not (p in READ_ONLY_REFUSED and read_only(self.tenant))
                for p in ("add_album", "add_media", "edit_album", "delete_media", "edit_media")
            },
            # The pages say why Upload and New album are not offered.
            "read_only_media": read_only(self.tenant),
            # The delete dialogs say where things go (gallery/library/trash.py: no trash
            # in a read-only folder).
            "trash_days": 0 if read_only(self.tenant)
            else int(self.settings_values.get("trash_days", 30)),
        }

    def media_json(self, media: dict, viewer: Viewer, fields: set[str] | None = None) -> dict:
        mid = media["_id"]
        derivatives = media.get("derivatives") or {}
        urls = {
            # A failed item's thumbnail route answers with a placeholder picture.
            "thumbnail": self.urls(f"/media/{mid}/thumbnail")
            if derivatives.get("thumbnail") or media.get("state") == "failed"
            else None,
            "optimized": self.urls(f"/media/{mid}/optimized"),
            "original": self.urls(f"/media/{mid}/original")
            if may_view_original(viewer, media)
            else None,
        }
        # None when the gallery has turned single-file downloads off (the route says 403).
        urls["download"] = (
            (urls["original"] or urls["optimized"]) + "?download=1"
            if download_allowed(self.settings_values, "file")
            else None
        )
        if media.get("kind") in ("video", "audio"):
            urls["web"] = self.urls(f"/media/{mid}/web")  # the web copy, or the original
        data = {
            "id": mid,
            "album_id": media.get("album_id"),
            "kind": media.get("kind"),
            "mime": media.get("mime"),
            "title": media.get("title", ""),
            "caption": media.get("caption", ""),
            # The caption as pages show it: escaped text, or sanitised HTML when the
            # gallery allows HTML (gallery/richtext.py); `caption` stays as typed.
            "caption_html": user_html(media.get("caption"), self.settings_values),
            "tags": media.get("tags", []),
            "file_name": media.get("file_name", ""),
            "size": (media.get("original") or {}).get("size"),
            "width": media.get("width"),
            "height": media.get("height"),
            "duration": media.get("duration"),
            "date_taken": _instant(media.get("date_taken")),  # the UTC instant albums sort by
            "taken": taken.to_dict() if (taken := taken_of(media)) else None,  # as shown
            "date_added": _instant(media.get("date_added")),
            "position": media.get("position", 0),
            "private": bool(media.get("private")),
            "state": media.get("state"),
            "failure": media.get("failure"),
            "has_optimized": has_distinct_original(media),
            "metadata": media.get("metadata") or {},
            # Editors' corrections of metadata fields, shown instead of the file's values.
            "meta_edits": {k: v for k, v in (media.get("meta_edits") or {}).items() if isinstance(v, str)},
            # Members' average and vote count (gallery/library/ratings.py); the file's own too.
            "rating": rating_summary(media),
            "people": media.get("people") or [],
            # Web copy of a video/audio file: {state: none|pending|running|ready|failed|
            # cancelled, progress 0..1, job_id, error, reasons} (gallery.processing.transcoding).
            "transcode": media.get("transcode"),
            "urls": urls,
        }
        if fields:
            data = {k: v for k, v in data.items() if k in fields or k == "id"}
        return data


def _instant(value):
    """A stored instant as the text JSON answers carry (handlers.base._json_default's), made
    here: the JSON encoder's call back into Python for each of a page's 120 dates was a
    third of encoding 60 media (1.0 -> 0.6 ms)."""
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def operation(
    summary: str,
    *,
    params: tuple[str, ...] = (),
    query: tuple[str | dict, ...] = (),
    body: dict | None = None,
    responses: dict | None = None,
    tag: str = "",
    ok: str = "200",
    also: tuple[str, ...] = (),
    body_optional: bool = False,
) -> dict:
    """A compact OpenAPI operation: path parameters (ids), query parameters ("name:type",
    or a parameter from int_query/enum_query), a JSON body (`body_optional`: an empty body
    changes nothing), the success status `ok` and error statuses `also` beyond the usual."""
    op: dict = {"summary": summary, "tags": [tag] if tag else []}
    parameters = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
        }
        for p in params
    ]
    for q in query:
        if isinstance(q, str):
            name, _, kind = q.partition(":")
            q = {"name": name, "schema": {"type": kind or "string"}}
        # explode false: a list or object is one comma-separated value, as the handlers read it.
        parameters.append({"in": "query", "required": False, "style": "form", "explode": False, **q})
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {
            "required": not body_optional,
            "content": {"application/json": {"schema": body}},
        }
    op["responses"] = responses or {
        ok: {
            "description": {"200": "OK", "201": "Created", "202": "Accepted"}.get(ok, "OK"),
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **{
            status: {"$ref": "#/components/responses/Error"}
            for status in ("400", "401", "403", "404", *also)
        },
    }
    return op


def int_query(name: str, minimum: int, maximum: int) -> dict:
    """A whole-number query parameter with the bounds its handler enforces (else 400)."""
    return {"name": name, "schema": {"type": "integer", "minimum": minimum, "maximum": maximum}}


def enum_query(name: str, values, kind: str = "string") -> dict:
    """A query parameter that takes one of `values` (else 400)."""
    return {"name": name, "schema": {"type": kind, "enum": list(values)}}


ID_SCHEMA = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
# 1 to 200 ids, comma separated (the handlers refuse an empty list with 400).
IDS_PATTERN = "^[0-9a-f]{24}(,[0-9a-f]{24}){0,199}$"
# Tags: a list of words, or one text of comma-separated words, or null for none
# (gallery.library.tags.clean_tags).
TAGS_SCHEMA = {
    "oneOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "string", "description": "comma-separated tags"},
    ],
    "nullable": True,
}
CURSOR_QUERY = {"name": "cursor", "schema": {"type": "string", "maxLength": 2000}}
PAGE_QUERY = (int_query("offset", 0, MAX_OFFSET), int_query("limit", 1, MAX_LIMIT), CURSOR_QUERY)
