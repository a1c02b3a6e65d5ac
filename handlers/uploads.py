"""Getting media in over HTTP: a streamed browser upload (optionally a ZIP to import) and
external media (embed HTML). Resumable tus uploads are in handlers.tus.

A ZIP (`?zip=1`) is always imported by a `zip.import` job (gallery.intake.zipimport): when it is
large or `?background=1` is given the request answers 202 with the job's URL at once; else
the request runs the job itself and answers with its result (200, the job's URL in
`Location` and `job`). Either way the report stays fetchable at the job's URL (also listed
at /api/v1/jobs) if the connection drops, the import goes on (or, if the service dies,
resumes after a restart), and sending the same ZIP again answers with that job.

The upload body is the raw file (`stream_request_body`), not multipart: it goes straight
to tmp/ in 1 MB blocks, hashed on the way, and is refused (413) before it is stored when
Content-Length says it is too big, or as soon as a chunked body passes the limit.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import tornado.web

from gallery.errors import GalleryError, Invalid, NotFound, TooLarge
from gallery.i18n import Message
from gallery.ids import is_id
from gallery.intake import ingest, zipimport
from gallery.intake.uploads import HashingWriter
from gallery.library import album_paths, embeds
from gallery.media_folder import require_writable
from gallery.numbers import whole_number
from gallery.people import permissions as gallery_permissions
from handlers import activity
from handlers.activity import quoted
from handlers.base import TenantHandler
from handlers.linger import LingeringClose

# A ZIP larger than this is imported by the `zip.import` job (the request answers 202 with
# the job at once); smaller ones inline. `?background=1` asks for the job whatever the size.
ZIP_INLINE_BYTES = 200 * 1024 * 1024


class AlbumWriteMixin:
    """Loads the album named in the URL and checks a permission on it (404 when unseen)."""

    async def album_for(self, album_id: str, permission: str = "add_media") -> dict:
        if not is_id(album_id):
            raise NotFound("No such album or media object.")
        album = await self.tenant.db.albums.find_one({"_id": album_id})
        if album is None:
            raise NotFound("No such album or media object.")
        self.viewer = await gallery_permissions.viewer_for(
            self.tenant, self.user, self.settings_values
        )
        gallery_permissions.require(self.viewer, permission, album)
        return album


# ?zip= values (anything else is a 400, not a plain upload by mistake).
ZIP_FLAGS = ("", "0", "1", "false", "true", "no", "yes")


def _declared_length(handler: tornado.web.RequestHandler) -> int | None:
    raw = handler.request.headers.get("Content-Length")
    if raw is None:
        return None
    value = whole_number("Content-Length", raw)
    if value < 0:
        raise Invalid("Content-Length is not a number.")
    return value


class StreamedFileBody(LingeringClose):
    """A request body streamed into a HashingWriter under tmp/ (`self.writer`, opened in
    prepare): refused part-way with a clear error the client gets to read (LingeringClose),
    and discarded whenever the request ends without `completed` being set (a refusal, an
    error, a client that went away)."""

    writer: HashingWriter | None = None
    refused = False
    completed = False

    async def refuse(self, exc: GalleryError) -> None:
        self.refused = True
        writer, self.writer = self.writer, None
        await writer.discard()
        try:
            raise exc  # error pages read the error from sys.exc_info()
        except GalleryError as raised:
            self._handle_request_exception(raised)

    async def store_chunk(self, chunk: bytes) -> None:
        try:
            await self.writer.write(chunk)
        except GalleryError as exc:
            await self.refuse(exc)

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self._cleanup_soon()

    def on_finish(self) -> None:
        self._cleanup_soon()

    def _cleanup_soon(self) -> None:
        if self.writer is not None and not self.completed:
            writer, self.writer = self.writer, None
            asyncio.ensure_future(writer.discard())


@tornado.web.stream_request_body
class AlbumUploadHandler(StreamedFileBody, AlbumWriteMixin, TenantHandler):
    """POST /api/v1/albums/<id>/upload: the raw file as the body; X-File-Name or ?name=."""

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method != "POST":
            return
        self.require_user()
        self.album = await self.album_for(self.path_args[0])
        require_writable(self.tenant, "Uploading files")  # refused before a byte is stored
        # A file from a dropped folder names its folder: it goes into an album of that
        # name below this one (made if missing), which needs add_album before any byte.
        self.folder = album_paths.folder_parts(self.get_query_argument("folder", None))
        if self.folder:
            gallery_permissions.require(self.viewer, "add_album", self.album)
        raw_name = self.request.headers.get("X-File-Name") or self.get_query_argument("name", "")
        self.file_name = unquote(raw_name)[:4096]
        zip_flag = self.get_query_argument("zip", "")
        if zip_flag not in ZIP_FLAGS:
            raise Invalid("zip must be 1 or 0.", field_errors={"zip": "must be 1 or 0"})
        self.is_zip = zip_flag in ("1", "true", "yes")
        self.limit = ingest.upload_limit(self.settings_values)
        quota = ingest.quota_bytes(self.tenant)
        self.quota_left = None
        if quota:
            self.quota_left = max(0, quota - await ingest.current_usage(self.tenant))
        length = _declared_length(self)
        if length is not None:
            ingest.check_size(self.settings_values, length)
            if not self.is_zip:
                await ingest.check_quota(self.tenant, length)
        self.writer = HashingWriter(self.tenant.storage.temp_path(".upload"))
        await self.writer.open(create=True)

    async def data_received(self, chunk: bytes) -> None:
        if self.refused or self.writer is None:
            return
        total = self.writer.received + len(chunk)
        limit = self.limit
        if self.quota_left is not None and not self.is_zip:
            limit = min(limit, self.quota_left)
        if total > limit:
            if total > self.limit:
                await self.refuse(
                    TooLarge(
                        f"The file is larger than this gallery's limit of "
                        f"{self.settings_values.get('max_upload_mb')} MB."
                    )
                )
            else:
                await self.refuse(
                    TooLarge("This gallery's storage quota is used up; the file does not fit.")
                )
            return
        await self.store_chunk(chunk)

    def _job_runner(self):
        """This process's job runner; a web-only process makes one just to run this job."""
        from jobs.runner import JobRunner

        return self.services.jobs or JobRunner(self.services, workers=0)

    async def post(self, album_id: str) -> None:
        writer, self.writer = self.writer, None
        self.completed = True
        size, sha256 = await writer.close()
        if self.folder:
            try:
                self.album = await album_paths.album_for_folder(
                    self.tenant, self.viewer, self.album, self.folder
                )
            except BaseException:
                await asyncio.to_thread(_unlink, writer.path)
                raise
        if self.is_zip:
            await self._import_zip(writer.path, size, sha256)
            return
        media = await ingest.ingest_file(
            self.tenant,
            self.services,
            self.user,
            self.album,
            writer.path,
            self.file_name,
            size=size,
            sha256=sha256,
            title=self.get_query_argument("title", None),
            caption=self.get_query_argument("caption", None),
            tags=self.get_query_argument("tags", None),
        )
        await activity.record(self, "upload", Message("%(item)s uploaded to %(album)s", item=quoted(media), album=quoted(self.album)),
                              media_id=media["_id"], album_id=self.album["_id"])
        self.set_header("Location", self.urls(f"/api/v1/media/{media['_id']}"))
        self.write_json(media, status=201)

    async def _import_zip(self, path, size: int, sha256: str) -> None:
        background = (
            self.get_query_argument("background", "") in ("1", "true", "yes")
            or size > ZIP_INLINE_BYTES
        )
        runner = self._job_runner()
        try:
            job_id = await zipimport.enqueue_import(
                self.tenant, runner.queue, self.user, self.album, path,
                sha256=sha256, name=self.file_name, hold=not background,
            )
        except BaseException:
            await asyncio.to_thread(_unlink, path)
            raise
        job_url = self.urls(f"/api/v1/jobs/{job_id}")
        self.set_header("Location", job_url)
        job = None if background else await _finished_job(runner, job_id)
        if job is None:  # in the background, or still running elsewhere
            self.write_json({"job": {"id": job_id, "url": job_url}}, status=202)
            return
        if job["state"] != "done":
            raise Invalid(job.get("error") or f"The import ended {job['state']}.")
        self.write_json({**job["result"], "job": {"id": job_id, "url": job_url}}, status=200)


# How long a request waits for an import that another request (or, after a restart, a
# worker) is running before it answers 202 with the job's URL.
ZIP_WAIT_SECONDS = 600


async def _finished_job(runner, job_id: str) -> dict | None:
    """Run the job here if it is still queued, else wait for whoever runs it."""
    job = await runner.run_now(job_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ZIP_WAIT_SECONDS
    while job is None or job["state"] in ("queued", "running"):
        if loop.time() > deadline:
            return None
        await asyncio.sleep(0.25)
        job = await runner.queue.jobs.find_one({"_id": job_id})
    return job


def _unlink(path) -> None:
    import os

    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class ExternalMediaHandler(AlbumWriteMixin, TenantHandler):
    """POST /api/v1/albums/<id>/external: {"html": "<iframe ...>", "title", "caption"};
    with "check": true only the verdict (the cleaned iframe, or a 400 saying why not)."""

    async def post(self, album_id: str) -> None:
        self.require_user()
        album = await self.album_for(album_id)
        body = self.json_body()
        html = body.get("html")
        if not isinstance(html, str) or not html.strip():
            raise Invalid(
                'Give the embed code (an <iframe>) in "html".', field_errors={"html": "is required"}
            )
        hosts = self.settings_values.get("embed_hosts") or embeds.DEFAULT_EMBED_HOSTS
        clean = embeds.sanitize_embed(html, hosts)
        if body.get("check") is True:
            # The allowlist's verdict before saving (the album page's dialog): nothing stored.
            self.write_json({"html": clean, "allowed": True})
            return
        title = body.get("title") if isinstance(body.get("title"), str) else ""
        caption = body.get("caption") if isinstance(body.get("caption"), str) else ""
        media = await embeds.add_external_media(
            self.tenant,
            self.user,
            album,
            clean,
            title=title,
            caption=caption,
        )
        self.set_header("Location", self.urls(f"/api/v1/media/{media['_id']}"))
        self.write_json(media, status=201)


ROUTES = [
    (r"/api/v1/albums/([0-9a-f]{24})/upload", AlbumUploadHandler),
    (r"/api/v1/albums/([0-9a-f]{24})/external", ExternalMediaHandler),
]

_ERRORS = {
    "400": {"description": "bad input (empty file, bad name, bad embed code)"},
    "401": {"description": "not signed in"},
    "403": {"description": "no add_media permission, or the XSRF token is missing"},
    "404": {"description": "no such album (or not visible to you)"},
    "409": {"description": "duplicates=skip and the same file is already in the album"},
    "413": {"description": "larger than max_upload_mb or the tenant's quota"},
    "415": {"description": "the content's type is not allowed (the message names it)"},
}

OPENAPI = {
    "/api/v1/albums/{album_id}/upload": {
        "post": {
            "summary": "Upload one file (raw body, streamed), or a ZIP to import with ?zip=1",
            "tags": ["uploads"],
            "parameters": [
                {"name": "album_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "X-File-Name",
                    "in": "header",
                    "schema": {"type": "string"},
                    "description": "the file's name, URL-encoded",
                },
                {
                    "name": "name",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "the file's name when the header is not set",
                },
                {
                    "name": "zip",
                    "in": "query",
                    "schema": {"type": "string", "enum": [f for f in ZIP_FLAGS if f]},
                    "description": "the body is a ZIP: folders become albums, every entry is reported",
                },
                {
                    "name": "folder",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "the file's folder in a dropped folder (a/b): stored in the "
                    "album of that name below this one, made if missing (needs add_album)",
                },
                {"name": "title", "in": "query", "schema": {"type": "string"}},
                {"name": "caption", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "tags",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "comma separated",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
            "responses": {
                "201": {"description": "the media object (state pending)"},
                "200": {"description": "ZIP import result: entries imported, skipped and failed, "
                        "and the import's job {id, url}"},
                "202": {"description": "ZIP import queued as a job (large, or ?background=1): "
                        "job {id, url}; the result is the job's"},
                **_ERRORS,
            },
        }
    },
    "/api/v1/albums/{album_id}/external": {
        "post": {
            "summary": "Add external media from embed code (an allowlisted https <iframe>)",
            "tags": ["uploads"],
            "parameters": [
                {"name": "album_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["html"],
                            "properties": {
                                "html": {"type": "string"},
                                "title": {"type": "string"},
                                "caption": {"type": "string"},
                                # true: only the allowlist's verdict, nothing stored
                                "check": {"type": "boolean"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {"description": "with check: the cleaned <iframe>, allowed"},
                "201": {"description": "the media object (kind external, state ready)"},
                **_ERRORS,
            },
        }
    },
}
