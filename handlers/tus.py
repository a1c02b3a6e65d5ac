"""Resumable uploads, tus 1.0 (core + creation, termination, expiration) at /api/v1/uploads/.

POST creates an upload (album and file name in Upload-Metadata; permission, size and quota
are checked here, once); PATCH appends at Upload-Offset, streamed to tmp/ and hashed on the
way; the offset is stored as blocks reach the disk, so after a dropped connection or a
restart HEAD tells the client where to go on. The last PATCH turns the file into a media
object (gallery.ingest) and answers with its id in `Upload-Media-Id`; that survives a
crash (gallery.uploads `settle_upload`), so HEAD and the last PATCH sent again (empty, at
the full length) answer with the id too. Uploads belong to the user who made them: anyone
else gets 404.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from email.utils import format_datetime

import tornado.web

from gallery.errors import Conflict, GalleryError, Invalid, NotFound, TooLarge, Unsupported
from gallery.i18n import Message
from gallery.ids import is_id
from gallery.intake import ingest, uploads
from gallery.library import album_paths
from gallery.media_folder import require_writable
from gallery.numbers import whole_number
from gallery.people import permissions as gallery_permissions
from handlers import activity
from handlers.activity import quoted
from handlers.base import TenantHandler
from handlers.uploads import AlbumWriteMixin

log = logging.getLogger("atrium.uploads")

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
# Store the offset after this many new bytes or seconds (and whenever a request ends).
PERSIST_BYTES = 4 * 1024 * 1024
PERSIST_SECONDS = 1.0


class PreconditionFailed(GalleryError):
    status = 412
    code = "precondition_failed"


def parse_metadata(raw: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64value` pairs (value may be absent)."""
    result: dict[str, str] = {}
    for pair in (raw or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        try:
            result[key] = (
                base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
            )
        except (binascii.Error, UnicodeDecodeError):
            raise Invalid(f"Upload-Metadata value of {key!r} is not base64 UTF-8.") from None
    return result


def _int_header(handler, name: str) -> int:
    raw = handler.request.headers.get(name)
    if raw is None or whole_number(name, raw) < 0:
        raise Invalid(Message("%(name)s must be a non-negative whole number.", name=name))
    return int(raw)


class TusMixin:
    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Tus-Resumable", TUS_VERSION)
        self.set_header("Tus-Version", TUS_VERSION)  # also on errors (412 must carry it)
        self.set_header("Cache-Control", "no-store")

    def check_tus_version(self) -> None:
        if self.request.method == "OPTIONS":
            return
        if self.request.headers.get("Tus-Resumable") != TUS_VERSION:
            self.set_header("Tus-Version", TUS_VERSION)
            raise PreconditionFailed(f"Only tus {TUS_VERSION} is supported (Tus-Resumable header).")

    @property
    def expire_hours(self) -> int:
        return int(self.settings_values.get("upload_expire_hours", uploads.DEFAULT_EXPIRE_HOURS))

    def upload_headers(self, record: dict) -> None:
        # A completing upload has all its bytes (its offset may lag: docs/uploads.md).
        self.set_header(
            "Upload-Offset",
            str(record["length"] if record["state"] in ("done", "completing") else record["offset"]),
        )
        self.set_header("Upload-Length", str(record["length"]))
        if record["state"] == "uploading":
            self.set_header(
                "Upload-Expires", format_datetime(uploads._aware(record["expires"]), usegmt=True)
            )
        if record["state"] == "done" and record.get("media_id"):
            self.set_header("Upload-Media-Id", record["media_id"])


class TusCollectionHandler(TusMixin, AlbumWriteMixin, TenantHandler):
    """OPTIONS (capabilities) and POST (create) at /api/v1/uploads/."""

    async def prepare(self) -> None:
        await super().prepare()
        self.check_tus_version()

    def options(self) -> None:
        self.set_header("Tus-Version", TUS_VERSION)
        self.set_header("Tus-Extension", TUS_EXTENSIONS)
        self.set_header("Tus-Max-Size", str(ingest.upload_limit(self.settings_values)))
        self.set_status(204)
        self.finish()

    async def post(self) -> None:
        self.require_user()
        if self.request.headers.get("Upload-Defer-Length"):
            raise Invalid("Upload-Defer-Length is not supported; send Upload-Length.")
        length = _int_header(self, "Upload-Length")
        if "Upload-Metadata" not in self.request.headers:
            raise Invalid("Upload-Metadata is required (filename and album_id).")
        meta = parse_metadata(self.request.headers["Upload-Metadata"])
        album_id = meta.get("album_id", "")
        album = await self.album_for(album_id)
        require_writable(self.tenant, "Uploading files")
        folder = album_paths.folder_parts(meta.get("folder"))
        if folder:  # the file goes into an album of that name below (handlers.uploads)
            gallery_permissions.require(self.viewer, "add_album", album)
        file_name = (meta.get("filename") or meta.get("name") or "")[:4096]
        ingest.check_size(self.settings_values, length)
        await ingest.check_quota(self.tenant, length)
        await uploads.expire_uploads(self.tenant)
        record = await uploads.create_upload(
            self.tenant, self.user, album, file_name, length,
            expire_hours=self.expire_hours, folder=folder,
        )
        self.upload_headers(record)
        self.set_header("Location", self.urls.absolute(f"/api/v1/uploads/{record['_id']}"))
        self.set_status(201)
        self.finish()


@tornado.web.stream_request_body
class TusUploadHandler(TusMixin, TenantHandler):
    """HEAD, PATCH, DELETE (tus) and GET (state as JSON) of one upload."""

    record: dict | None = None
    writer: uploads.HashingWriter | None = None
    holding_lock = False
    refused = False
    body_done = False
    _closing: asyncio.Future | None = None
    _releasing: asyncio.Future | None = None

    SUPPORTED_METHODS = ("GET", "HEAD", "PATCH", "DELETE", "OPTIONS")

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method == "GET":
            return
        self.check_tus_version()
        if self.request.method != "PATCH":
            return
        record = await self.upload()
        if record["state"] == "done" and self._repeats_the_end(record):
            # The last PATCH again (its answer was lost): the same answer, media id included.
            self.upload_headers(record)
            self.set_status(204)
            self.finish()
            return
        if record["state"] == "completing":
            raise Conflict("This upload is being stored; ask HEAD for its media id.")
        if record["state"] == "failed":
            raise Conflict(record.get("failure") or "This upload failed.")
        if record["state"] != "uploading":
            raise Conflict("This upload is already complete.")
        if (
            self.request.headers.get("Content-Type", "").split(";")[0].strip()
            != "application/offset+octet-stream"
        ):
            raise Unsupported("PATCH needs Content-Type: application/offset+octet-stream.")
        offset = _int_header(self, "Upload-Offset")
        lock = uploads.lock_for(record["_id"])
        if lock.locked():
            raise Conflict("Another request is writing this upload; ask HEAD for the offset.")
        await lock.acquire()
        self.holding_lock = True
        # Re-read after taking the lock: a request that just ended may have moved the offset.
        record = self.record = await uploads.get_upload(self.tenant, self.user, record["_id"])
        if record is None or record["state"] != "uploading":
            raise NotFound("No such upload.")
        if offset != record["offset"]:
            self.set_header("Upload-Offset", str(record["offset"]))
            raise Conflict(
                f"Upload-Offset {offset} does not match the stored offset {record['offset']}."
            )
        length = self.request.headers.get("Content-Length")
        if length is not None and offset + whole_number("Content-Length", length) > record["length"]:
            raise TooLarge("The body goes past the Upload-Length given at creation.")
        self.writer = await uploads.resume_writer(self.tenant, record)
        self.persisted = record["offset"]
        self.persisted_at = time.monotonic()

    async def upload(self) -> dict:
        self.require_user()
        upload_id = self.path_args[0]
        record = (
            await uploads.get_upload(self.tenant, self.user, upload_id)
            if is_id(upload_id)
            else None
        )
        if record is None:
            raise NotFound("No such upload.")
        self.record = record = await uploads.settle_upload(self.tenant, self.services, record)
        return record

    def _repeats_the_end(self, record: dict) -> bool:
        offset = self.request.headers.get("Upload-Offset", "")
        body = self.request.headers.get("Content-Length", "0")
        return offset.strip() == str(record["length"]) and body.strip() in ("", "0")

    # -- tus ------------------------------------------------------------------------------
    async def head(self, upload_id: str) -> None:
        record = await self.upload()
        self.upload_headers(record)
        self.set_status(200)
        self.finish()

    async def get(self, upload_id: str) -> None:
        record = await self.upload()
        self.write_json(
            {
                "id": record["_id"],
                "state": record["state"],
                "offset": record["offset"],
                "length": record["length"],
                "album_id": record["album_id"],
                "file_name": record["file_name"],
                # chosen when completion starts; a media object only once done
                "media_id": record.get("media_id") if record["state"] == "done" else None,
                "failure": record.get("failure"),
                "expires": record.get("expires"),
            }
        )

    async def delete(self, upload_id: str) -> None:
        record = await self.upload()
        if uploads.lock_for(record["_id"]).locked():
            raise Conflict("This upload is being written; try again when the request ends.")
        await uploads.remove_upload(self.tenant, record)
        self.set_status(204)
        self.finish()

    async def data_received(self, chunk: bytes) -> None:
        writer = self.writer
        if writer is None or self.refused:
            return
        if writer.received + len(chunk) > self.record["length"]:
            self.refused = True
            try:
                raise TooLarge("The body goes past the Upload-Length given at creation.")
            except TooLarge as exc:
                await self._end_request()
                self._handle_request_exception(exc)
            return
        try:
            await writer.write(chunk)
        except GalleryError as exc:
            self.refused = True
            await self._end_request()
            self._handle_request_exception(exc)
            return
        now = time.monotonic()
        if writer.written - self.persisted >= PERSIST_BYTES or (
            writer.written > self.persisted and now - self.persisted_at >= PERSIST_SECONDS
        ):
            await self._persist(writer.written)

    async def _persist(self, offset: int) -> None:
        await uploads.save_offset(self.tenant, self.record, offset, self.expire_hours)
        self.persisted, self.persisted_at = offset, time.monotonic()

    async def _end_request(self) -> None:
        """Write what arrived and store the offset (runs once, whoever asks first)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_writer())
        await asyncio.shield(self._closing)

    async def _close_writer(self) -> None:
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            await writer.close()
        finally:
            if writer.written != self.persisted:
                await self._persist(writer.written)
            uploads.remember_hash(self.record, writer)

    def _release_soon(self) -> None:
        """After the writer is closed, let the next request for this upload in."""
        if not self.holding_lock or self._releasing is not None:
            return

        async def release() -> None:
            try:
                await self._end_request()
            except Exception:
                log.exception("could not store the offset of upload %s", self.record["_id"])
            finally:
                self.holding_lock = False
                uploads.release_lock(self.record["_id"])

        self._releasing = asyncio.ensure_future(release())

    def on_connection_close(self) -> None:
        super().on_connection_close()
        if not self.body_done:
            self._release_soon()

    def on_finish(self) -> None:
        self._release_soon()

    async def patch(self, upload_id: str) -> None:
        if self._finished:
            return  # answered in prepare (a repeated last PATCH)
        self.body_done = True
        writer = self.writer
        await self._end_request()
        record = self.record
        if writer.written < record["length"]:
            self.upload_headers(record)
            self.set_status(204)
            self.finish()
            return
        await self._complete(writer)

    async def _complete(self, writer: uploads.HashingWriter) -> None:
        record = self.record
        media = await uploads.complete_upload(
            self.tenant, self.services, self.user, record, writer.path,
            size=writer.written, sha256=writer.hasher.hexdigest(),
        )
        album = await self.tenant.db.albums.find_one({"_id": media["album_id"]}, {"title": 1})
        await activity.record(self, "upload", Message("%(item)s uploaded to %(album)s", item=quoted(media), album=quoted(album)),
                              media_id=media["_id"], album_id=media["album_id"])
        self.upload_headers(record)
        self.set_status(204)
        self.finish()


ROUTES = [
    (r"/api/v1/uploads/?", TusCollectionHandler),
    (r"/api/v1/uploads/([0-9a-fA-F]{24})", TusUploadHandler),
]

_TUS = {
    "name": "Tus-Resumable",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": [TUS_VERSION]},
}
_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
_NOT_FOUND = {"description": "no such upload (or not yours, or expired)"}
_WRONG_TUS = {"description": "Tus-Resumable missing or not 1.0.0 (Tus-Version says which)"}
_BAD_HEADERS = {"description": "a header missing or not what tus allows (e.g. not a whole number)"}

OPENAPI = {
    "/api/v1/uploads/": {
        "options": {
            "summary": "tus capabilities (Tus-Version, Tus-Extension, Tus-Max-Size)",
            "tags": ["uploads"],
            "responses": {"204": {"description": "capabilities"}},
        },
        "post": {
            "summary": "Create a resumable upload (tus creation)",
            "tags": ["uploads"],
            "parameters": [
                _TUS,
                {
                    "name": "Upload-Length",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
                {
                    "name": "Upload-Metadata",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "base64 pairs: filename, album_id, and folder (a/b) for a "
                    "file of a dropped folder: stored in the album of that name below",
                },
            ],
            "responses": {
                "201": {"description": "created; Location is the upload's URL"},
                "400": _BAD_HEADERS,
                "401": {"description": "not signed in"},
                "403": {"description": "may not add media to the album"},
                "404": {"description": "no such album"},
                "412": _WRONG_TUS,
                "413": {"description": "larger than max_upload_mb or the quota"},
            },
        },
    },
    "/api/v1/uploads/{upload_id}": {
        "head": {
            "summary": "Where to resume: Upload-Offset, Upload-Length, Upload-Expires",
            "tags": ["uploads"],
            "parameters": [_TUS, _ID],
            "responses": {
                "200": {"description": "offsets in headers"}, "404": _NOT_FOUND, "412": _WRONG_TUS
            },
        },
        "patch": {
            "summary": "Append bytes at Upload-Offset (application/offset+octet-stream)",
            "tags": ["uploads"],
            "parameters": [
                _TUS,
                _ID,
                {
                    "name": "Upload-Offset",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
            "requestBody": {
                "content": {
                    "application/offset+octet-stream": {
                        "schema": {"type": "string", "format": "binary"}
                    }
                }
            },
            "responses": {
                "204": {"description": "stored; the last one carries Upload-Media-Id"},
                "400": _BAD_HEADERS,
                "404": _NOT_FOUND,
                "412": _WRONG_TUS,
                "409": {"description": "Upload-Offset does not match"},
                "413": {"description": "past Upload-Length"},
                "415": {"description": "wrong Content-Type, or the file's type is not allowed"},
            },
        },
        "delete": {
            "summary": "Terminate: remove the upload and its bytes",
            "tags": ["uploads"],
            "parameters": [_TUS, _ID],
            "responses": {"204": {"description": "removed"}, "404": _NOT_FOUND, "412": _WRONG_TUS},
        },
        "get": {
            "summary": "The upload's state and, once complete, its media id",
            "tags": ["uploads"],
            "parameters": [_ID],
            "responses": {
                "200": {"description": "state, offset, length, media_id, failure"},
                "404": _NOT_FOUND,
            },
        },
    },
}
