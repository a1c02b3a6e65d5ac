"""POST /api/v1/media/<id>/file: replace a media object's file, keeping its record (title,
tags, album, position); it is re-processed. The body is the raw file (name in X-File-Name
or ?name=) or a multipart/form-data form with one file field. It streams to tmp/ like an
upload; permission, size and quota are checked before the body is stored."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import tornado.web

from gallery.errors import TooLarge
from gallery.intake import ingest
from gallery.intake.media_replace import boundary_of, extract_file_part, replace_original
from gallery.intake.uploads import HashingWriter
from gallery.library.media import viewable_media
from gallery.media_folder import require_writable
from gallery.people.permissions import viewer_for
from handlers.api_base import ApiHandler, operation
from handlers.uploads import StreamedFileBody, _declared_length

# A multipart body carries a little more than the file: boundaries and part headers.
MULTIPART_SLACK = 64 * 1024


def _unlink(path) -> None:
    import os

    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@tornado.web.stream_request_body
class MediaFileReplaceHandler(StreamedFileBody, ApiHandler):
    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method != "POST":
            return
        self.require_user()
        self.media_viewer = await viewer_for(self.tenant, self.user, self.settings_values)
        # Refuse before a byte is stored when the caller may not edit this media object.
        await viewable_media(self.tenant, self.media_viewer, self.path_args[0], "edit_media")
        require_writable(self.tenant, "Replacing a file")
        self.boundary = boundary_of(self.request.headers.get("Content-Type", ""))
        raw_name = self.request.headers.get("X-File-Name") or self.get_query_argument("name", "")
        self.file_name = unquote(raw_name)[:4096]
        self.limit = ingest.upload_limit(self.settings_values)
        if self.boundary:
            self.limit += MULTIPART_SLACK
        length = _declared_length(self)
        if length is not None and length > self.limit:
            ingest.check_size(self.settings_values, length)
        self.writer = HashingWriter(self.tenant.storage.temp_path(".replace"))
        await self.writer.open(create=True)

    async def data_received(self, chunk: bytes) -> None:
        if self.refused or self.writer is None:
            return
        if self.writer.received + len(chunk) > self.limit:
            await self.refuse(
                TooLarge(
                    f"The file is larger than this gallery's limit of "
                    f"{self.settings_values.get('max_upload_mb')} MB."
                )
            )
            return
        await self.store_chunk(chunk)

    async def post(self, media_id: str) -> None:
        writer, self.writer = self.writer, None
        self.completed = True
        size, _sha256 = await writer.close()
        path, name = writer.path, self.file_name
        if self.boundary:
            part = self.tenant.storage.temp_path(".part")
            try:
                part_name, size = await asyncio.to_thread(
                    extract_file_part, writer.path, self.boundary, part
                )
            except BaseException:
                await asyncio.to_thread(_unlink, part)
                raise
            finally:
                await asyncio.to_thread(_unlink, writer.path)
            path, name = part, name or part_name
        media = await replace_original(
            self.tenant, self.media_viewer, media_id, path, name, size, self.queue
        )
        self.write_json({"media": self.media_json(media, self.media_viewer)}, status=202)


ROUTES = [(r"/api/v1/media/([0-9a-f]{24})/file", MediaFileReplaceHandler)]

OPENAPI = {
    "/api/v1/media/{media_id}/file": {
        "post": {
            **operation(
                "Replace the file (raw body or multipart); the media object is re-processed",
                params=("media_id",),
                tag="media",
                ok="202",
                also=("409", "413", "415"),
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    },
                },
            },
        }
    }
}
