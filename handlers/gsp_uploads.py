"""Resumable uploads of a Gallery Server Pro backup and its media ZIP for the import page, at
/admin/import-gsp/uploads/ (tus 1.0 core + creation + termination: what static/js/tus.js speaks).

These files are not media, so they cannot be tus uploads into an album (handlers/tus.py): each is
`gsp-<id>.part` in the tenant's tmp/ with `gsp-<id>.json` beside it (owner, kind, name, length).
The offset is the part file's size, so an upload resumes after a dropped connection or a restart
with nothing else stored. Only the gallery administrator who made an upload reaches it (anyone
else, another tenant included, gets 404); the tmp/ sweep removes one left idle for six hours
(gallery/intake/tmpsweep.py), and counts it in the quota until then. When the last byte arrives
the answer carries `Upload-Media-Id: <upload id>`, the header tus.js waits for to finish.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from pathlib import Path

import tornado.web

from gallery.errors import Conflict, Invalid, NotFound, TooLarge, Unsupported
from gallery.i18n import Message
from gallery.intake import ingest
from gallery.intake.uploads import HashingWriter
from gallery.numbers import whole_number
from handlers.admin_users import AdminPage
from handlers.tus import TusMixin, parse_metadata

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
# What each slot of the page takes: the backup (GSP saved .xml, usually zipped) and the media folder.
KINDS = {"backup": (".xml", ".zip"), "media": (".zip",)}
_LOCKS: dict[str, asyncio.Lock] = {}


def _paths(ctx, upload_id: str) -> tuple[Path, Path]:
    return ctx.storage.tmp / f"gsp-{upload_id}.part", ctx.storage.tmp / f"gsp-{upload_id}.json"


def _read(ctx, upload_id: str) -> dict | None:
    part, meta = _paths(ctx, upload_id)
    try:
        record = json.loads(meta.read_text("utf-8"))
        record["offset"] = part.stat().st_size
    except (OSError, ValueError):
        return None
    record["path"] = part
    return record


async def find_upload(ctx, user: dict, upload_id: str) -> dict | None:
    """The caller's upload (None when there is none of that id, or it is someone else's)."""
    if not isinstance(upload_id, str) or not UPLOAD_ID.fullmatch(upload_id):
        return None
    record = await asyncio.to_thread(_read, ctx, upload_id)
    if record is None or record.get("user_id") != user["_id"]:
        return None
    return record


async def completed_upload(ctx, user: dict, upload_id: str, kind: str) -> dict:
    """A finished upload of `kind`, or a clear error for the page."""
    record = await find_upload(ctx, user, upload_id)
    if record is None or record.get("kind") != kind:
        raise NotFound(
            "That upload is gone (uploads left for six hours are removed); upload the file again."
        )
    if record["offset"] != record["length"]:
        raise Invalid("That upload is not complete yet; choose the file again to resume it.")
    return record


def _create(ctx, record: dict) -> None:
    part, meta = _paths(ctx, record["id"])
    part.parent.mkdir(parents=True, exist_ok=True)
    with open(part, "xb"):
        pass
    meta.write_text(json.dumps(record), "utf-8")


def forget_upload(ctx, upload_id: str) -> None:
    """Drop an upload's record once a job has taken its file (blocking): the job removes the file
    when it ends; the same upload cannot start a second import."""
    try:
        os.unlink(_paths(ctx, upload_id)[1])
    except FileNotFoundError:
        pass


def remove_upload(ctx, upload_id: str) -> None:
    """Both files of an upload (blocking)."""
    for path in _paths(ctx, upload_id):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class GspUploadCollection(TusMixin, AdminPage):
    """OPTIONS and POST (create) at /admin/import-gsp/uploads/."""

    async def prepare(self) -> None:
        await super().prepare()
        self.check_tus_version()

    def options(self) -> None:
        self.set_header("Tus-Extension", "creation,termination")
        self.set_status(204)
        self.finish()

    async def post(self) -> None:
        user = await self.admin()
        length = whole_number("Upload-Length", self.request.headers.get("Upload-Length", ""))
        meta = parse_metadata(self.request.headers.get("Upload-Metadata", ""))
        kind = meta.get("kind", "")
        name = (meta.get("filename") or "")[:255]
        if kind not in KINDS:
            raise Invalid("kind must be backup or media.")
        if not name.lower().endswith(KINDS[kind]):
            wanted = " / ".join(KINDS[kind])
            if kind == "backup":
                raise Unsupported(Message("The backup must be a %(endings)s file.", endings=wanted))
            raise Unsupported(Message("The media folder must be a %(endings)s file.", endings=wanted))
        if length <= 0:
            raise Invalid("The file is empty.")
        await ingest.check_quota(self.tenant, length)
        record = {
            "id": uuid.uuid4().hex,
            "user_id": user["_id"],
            "kind": kind,
            "name": name,
            "length": length,
        }
        await asyncio.to_thread(_create, self.tenant, record)
        self.set_header("Location", self.urls.absolute(f"/admin/import-gsp/uploads/{record['id']}"))
        self.set_header("Upload-Offset", "0")
        self.set_status(201)
        self.finish()


@tornado.web.stream_request_body
class GspUploadHandler(TusMixin, AdminPage):
    """HEAD (offset), PATCH (append) and DELETE of one upload."""

    SUPPORTED_METHODS = ("HEAD", "PATCH", "DELETE", "OPTIONS")
    record: dict | None = None
    writer: HashingWriter | None = None
    lock: asyncio.Lock | None = None
    refused = False

    async def prepare(self) -> None:
        await super().prepare()
        self.check_tus_version()
        user = await self.admin()  # Tornado checked the XSRF header of PATCH and DELETE already
        self.record = await find_upload(self.tenant, user, self.path_args[0])
        if self.record is None:
            raise NotFound("No such upload.")
        if self.request.method != "PATCH":
            return
        if (
            self.request.headers.get("Content-Type", "").split(";")[0].strip()
            != "application/offset+octet-stream"
        ):
            raise Unsupported("PATCH needs Content-Type: application/offset+octet-stream.")
        offset = whole_number("Upload-Offset", self.request.headers.get("Upload-Offset", ""))
        lock = _LOCKS.setdefault(self.record["id"], asyncio.Lock())
        if lock.locked():
            raise Conflict("Another request is writing this upload; ask HEAD for the offset.")
        await lock.acquire()
        self.lock = lock
        self.record = await find_upload(
            self.tenant, user, self.record["id"]
        )  # the size now, under the lock
        if self.record is None:
            raise NotFound("No such upload.")
        if offset != self.record["offset"]:
            self.set_header("Upload-Offset", str(self.record["offset"]))
            raise Conflict(
                f"Upload-Offset {offset} does not match the stored offset {self.record['offset']}."
            )
        declared = self.request.headers.get("Content-Length")
        if (
            declared is not None
            and offset + whole_number("Content-Length", declared) > self.record["length"]
        ):
            raise TooLarge("The body goes past the Upload-Length given at creation.")
        self.writer = HashingWriter(self.record["path"], offset=offset)
        await self.writer.open(create=False)

    async def data_received(self, chunk: bytes) -> None:
        if self.writer is None or self.refused:
            return
        if self.writer.received + len(chunk) > self.record["length"]:  # a chunked body that runs on
            self.refused = True
            writer, self.writer = self.writer, None
            await writer.close()  # what came before the excess stays: HEAD says where to go on
            try:
                raise TooLarge("The body goes past the Upload-Length given at creation.")
            except TooLarge as exc:
                self._handle_request_exception(exc)
            return
        await self.writer.write(chunk)

    async def patch(self, upload_id: str) -> None:
        writer, self.writer = self.writer, None
        if self.refused or writer is None:  # answered already (413)
            return
        await writer.flush()
        await writer.close()
        offset = writer.written
        self.set_header("Upload-Offset", str(offset))
        if offset == self.record["length"]:
            self.set_header("Upload-Media-Id", self.record["id"])
        self.set_status(204)
        self.finish()

    async def head(self, upload_id: str) -> None:
        self.set_header("Upload-Offset", str(self.record["offset"]))
        self.set_header("Upload-Length", str(self.record["length"]))
        if self.record["offset"] == self.record["length"]:
            self.set_header("Upload-Media-Id", self.record["id"])
        self.set_status(200)
        self.finish()

    async def delete(self, upload_id: str) -> None:
        if _LOCKS.get(self.record["id"]) is not None and _LOCKS[self.record["id"]].locked():
            raise Conflict("This upload is being written; try again when the request ends.")
        await asyncio.to_thread(remove_upload, self.tenant, self.record["id"])
        self.set_status(204)
        self.finish()

    def on_finish(self) -> None:
        self._release()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self._release()

    def _release(self) -> None:
        writer, self.writer = self.writer, None
        lock, self.lock = self.lock, None
        if writer is None and lock is None:
            return
        asyncio.ensure_future(self._close_then_unlock(writer, lock))

    async def _close_then_unlock(
        self, writer: HashingWriter | None, lock: asyncio.Lock | None
    ) -> None:
        # A cut request keeps what reached the disk (that is where HEAD tells the client to go
        # on); the lock is held until its last bytes are written, so no PATCH reads a size
        # that is still growing.
        try:
            if writer is not None:
                await writer.close()
        finally:
            if lock is not None and lock.locked():
                lock.release()
                if _LOCKS.get(self.record["id"]) is lock:
                    del _LOCKS[self.record["id"]]


ROUTES = [
    (r"/admin/import-gsp/uploads/?", GspUploadCollection),
    (r"/admin/import-gsp/uploads/([^/]+)", GspUploadHandler),
]
