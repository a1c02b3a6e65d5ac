"""ZIP downloads, streamed while they are built (gallery.library.downloads does the work).

GET /download/album/<id>?sub=1&size=original|optimized
GET /download/media?ids=<id>,<id>&size=original|optimized
"""

from __future__ import annotations

import asyncio
import logging

from tornado.iostream import StreamClosedError

from gallery.processing import watermarks
from gallery.library.downloads import ZipStream, plan_album, plan_selection, require_download
from gallery.errors import Invalid
from gallery.people.permissions import viewer_for
from gallery.processing.derivatives import get_pool
from handlers.api_base import IDS_PATTERN, enum_query, operation
from handlers.base import TenantHandler
from handlers.media_files import content_disposition

log = logging.getLogger("atrium.downloads")
MAX_IDS_TEXT = 100_000
SUB_VALUES = ("0", "1", "false", "true", "no", "yes")


class DownloadHandler(TenantHandler):
    def size_argument(self) -> str:
        size = self.get_query_argument("size", "optimized") or "optimized"
        if size not in ("original", "optimized"):
            raise Invalid(
                "size must be original or optimized.",
                field_errors={"size": "must be original or optimized"},
            )
        return size

    @property
    def max_items(self) -> int:
        return int(self.settings_values.get("download_max_items", 10_000))

    async def viewer(self):
        self._viewer = await viewer_for(
            self.tenant, self.user, self.settings_values, self.share_grants
        )
        return self._viewer

    async def send_zip(self, name: str, entries) -> None:
        # Watermarked kinds: the stamped copy for whoever may not have them clean.
        if watermarks.active(self.settings_values):
            get_pool(self.services)  # made here, on the loop, not by the ZIP's thread
        entries = await asyncio.to_thread(
            watermarks.protect_entries, self.tenant, self.services, self.settings_values, self._viewer,
            entries,
        )
        self._transforms = []  # stored JPEGs and videos: gzip would only cost CPU
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", content_disposition("attachment", name))
        self.set_header("Cache-Control", "private, no-store")
        self.set_header("X-Accel-Buffering", "no")
        stream = ZipStream(entries)
        try:
            async for chunk in stream.chunks():
                self.write(chunk)
                await self.flush()
        except StreamClosedError:
            log.info("download of %s stopped: the client went away", name)
            return
        finally:
            stream.cancel()
        if stream.skipped:
            log.warning("download of %s left out missing files: %s", name, stream.skipped[:10])
        self.finish()


class AlbumDownloadHandler(DownloadHandler):
    async def get(self, album_id: str) -> None:
        require_download(self.settings_values, "album")
        sub = self.get_query_argument("sub", "0")
        if sub not in SUB_VALUES:
            raise Invalid("sub must be 1 or 0.", field_errors={"sub": "must be 1 or 0"})
        sub = sub in ("1", "true", "yes")
        name, entries = await plan_album(
            self.tenant,
            await self.viewer(),
            album_id,
            sub=sub,
            size=self.size_argument(),
            max_items=self.max_items,
        )
        await self.send_zip(name, entries)


class SelectionDownloadHandler(DownloadHandler):
    async def get(self) -> None:
        require_download(self.settings_values, "selection")
        raw = self.get_query_argument("ids", "") or ""
        if len(raw) > MAX_IDS_TEXT:
            raise Invalid("Too many items selected.", field_errors={"ids": "too many"})
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        name, entries = await plan_selection(
            self.tenant,
            await self.viewer(),
            ids,
            size=self.size_argument(),
            max_items=self.max_items,
        )
        await self.send_zip(name, entries)


ROUTES = [
    (r"/download/album/([^/]+)", AlbumDownloadHandler),
    (r"/download/media", SelectionDownloadHandler),
]

_ZIP = {
    "200": {
        "description": "A ZIP archive, streamed (no Content-Length)",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    },
    "400": {"description": "No ids, a bad size or too many items"},
    "403": {"description": "This kind of ZIP download is turned off in the gallery's settings"},
    "404": {"description": "No such album or media, or none the viewer may download"},
}
_SIZE = enum_query("size", ("optimized", "original"))
OPENAPI = {
    "/download/album/{album_id}": {
        "get": operation(
            "A ZIP of an album's media the viewer may see (sub=1: with sub-albums as folders); "
            "size=original needs view_original, else the optimized copies are packed",
            params=("album_id",),
            query=(enum_query("sub", SUB_VALUES), _SIZE),
            responses=_ZIP,
            tag="downloads",
        )
    },
    "/download/media": {
        "get": operation(
            "A ZIP of the selected media (comma-separated ids); ids the viewer cannot see are "
            "left out",
            query=({"name": "ids", "required": True, "schema": {"type": "string", "pattern": IDS_PATTERN}}, _SIZE),
            responses=_ZIP,
            tag="downloads",
        )
    },
}
