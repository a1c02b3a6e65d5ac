"""The one handler that serves media files: thumbnail, optimized copy, original, download.

It checks permissions first (a media object the viewer may not see answers 404, as if it
did not exist), takes the file's path from the database (resolved inside the tenant's
storage root, never from the URL), then lets tornado's StaticFileHandler do Range (206 /
416), ETag, Last-Modified, 304s and streaming. Types a browser could run script from
(HTML, SVG, XML, anything unknown) are only ever sent as attachments.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from urllib.parse import quote

import tornado.web

from gallery.processing import watermarks
from gallery.library.downloads import require_download
from gallery.library.media import get_media
from gallery.library.media_access import media_scope, original_is_viewing_copy
from gallery.people.permissions import can, require, viewer_for
from handlers.base import TenantHandler
from handlers.media_placeholder import MIME as PLACEHOLDER_MIME
from handlers.media_placeholder import original_stands_in, placeholder_for
from media.errors import MediaError
from media.sniff import is_inline_safe
from storage.root import StorageError

PUBLIC_MAX_AGE = 3600
_MISSING = "This file is not available (yet)."
_EXTENSIONS = {
    "image/jpeg": "jpg", "image/webp": "webp", "image/png": "png",
    "video/mp4": "mp4", "audio/mp4": "m4a",
}


def download_name(name: str, fallback: str = "download") -> tuple[str, str]:
    """(ASCII fallback, full Unicode name) for Content-Disposition, both header-safe."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = " ".join(text.replace('"', "'").split()).strip(" .") or fallback
    ascii_name = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_name = "".join(ch if ch.isalnum() or ch in " ._-()[]+,'" else "_" for ch in ascii_name)
    ascii_name = ascii_name.replace("'", "_").strip(" .") or fallback
    return ascii_name[:150], text[:200]


def content_disposition(kind: str, name: str) -> str:
    ascii_name, full = download_name(name)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(full, safe='')}"


async def _cached_media(ctx, media_id: str) -> dict:
    """The media object, remembered on the context until the tenant's next write (a move,
    a privacy change, a delete all write) or a few seconds: a page of thumbnails asks for
    the same objects again and again. Read-only here, so no copy."""
    key = ("media", media_id)
    media = ctx.cached(key)
    if media is None:
        generation = ctx.generation
        full = await get_media(ctx, media_id)
        # Only what serving a file needs: metadata (EXIF…) would make entries 10x larger.
        media = {k: full[k] for k in _FILE_FIELDS if k in full}
        ctx.remember(key, media, generation)
    return media


_FILE_FIELDS = (
    "_id", "album_id", "album_path", "private", "mime", "file_name", "original", "derivatives",
    "state", "kind", "transcode", "transform", "owner_id",
)


class MediaFileHandler(TenantHandler, tornado.web.StaticFileHandler):
    """GET/HEAD /media/<id>/(thumbnail|optimized|web|original)[?download=1]"""

    def initialize(self) -> None:
        self.root = ""
        self.default_filename = None
        self._file: str | None = None

    async def head(self, media_id: str, variant: str) -> None:
        await self.get(media_id, variant, include_body=False)

    async def get(self, media_id: str, variant: str, include_body: bool = True) -> None:
        self._transforms = []  # ranges are byte ranges of the file: never gzip
        ctx = self.tenant
        viewer = await viewer_for(ctx, self.user, self.settings_values, self.share_grants)
        media = await _cached_media(ctx, media_id)
        scope = media_scope(media)
        require(viewer, "view", scope)
        derivatives = media.get("derivatives") or {}
        original = media.get("original") or {}
        original_info = {
            "path": original.get("path"),
            "mime": media.get("mime") or "application/octet-stream",
        }
        info = None
        if variant == "thumbnail":
            info = derivatives.get("thumbnail")
        elif variant in ("optimized", "web"):
            # "web": the browser-playable copy of a video or audio file (the original
            # when it plays as it is); "optimized": the web-sized image.
            info = derivatives.get(variant)
            if info and not await self._exists(info.get("path")):
                info = None
            if not info and original_stands_in(media, variant):
                info = original_info
        else:
            if not original_is_viewing_copy(media):
                require(viewer, "view_original", scope)
            info = original_info
        if (
            info is original_info
            and variant != "original"
            and not original_is_viewing_copy(media, variant)
            and not can(viewer, "view_original", scope)
        ):
            # The original would stand in for a copy that is not there (yet, or for this
            # kind): its bytes need view_original as on /original; others get a 404.
            info = None
        download = self.get_query_argument("download", "") not in ("", "0", "false")
        if download:  # refused before any watermarking work
            require_download(self.settings_values, "file")
        # Watermarked kinds: whoever may not see them clean gets the stamped copy, made
        # from the very file chosen above (so the same permission rules hold), on every
        # size, HEAD and Range alike (docs/watermarks.md).
        source = (info or {}).get("path")
        marked = watermarks.watermarked_kind(self.settings_values, media, variant, source)
        if marked and source and watermarks.needs_watermark(
            self.settings_values, viewer, media, variant, download=download, source=source
        ):
            try:
                info = await watermarks.watermarked(
                    ctx, self.services, media, variant, info["path"], self.settings_values
                )
            except (FileNotFoundError, StorageError) as exc:  # nothing to stamp (yet)
                raise tornado.web.HTTPError(404, _MISSING) from exc
            except MediaError as exc:
                # Undecodable (a failed upload's original): its placeholder or nothing,
                # never the clean file.
                placeholder = placeholder_for(media, variant)
                if placeholder is not None:
                    return self._send_placeholder(placeholder, include_body)
                raise tornado.web.HTTPError(404, _MISSING) from exc
        # The file's existence is checked by validate_absolute_path with the one stat
        # StaticFileHandler keeps for its headers.
        path = self._resolved((info or {}).get("path"))
        placeholder = placeholder_for(media, variant)  # None unless failed: no extra stat
        if placeholder is not None and not (path and await self._exists(info.get("path"))):
            return self._send_placeholder(placeholder, include_body)
        if not path:
            raise tornado.web.HTTPError(404, _MISSING)
        self._file = path
        self._mime = info.get("mime") or "application/octet-stream"
        self._inline = is_inline_safe(self._mime) and not download
        if not self._inline:
            # An attachment is a download, asked for or not (a type browsers cannot show).
            require_download(self.settings_values, "file")
        name = media.get("file_name") or "download"
        if info is not original_info:
            stem = name.rsplit(".", 1)[0] if "." in name else name
            name = f"{stem}-{variant}.{_EXTENSIONS.get(self._mime, 'bin')}"
        self._download_name = name
        self._public = (
            # A clean copy of a watermarked kind is for this viewer only: a shared cache
            # must never hand it to the next visitor.
            not (marked and not os.path.basename(path).startswith("wm-"))
            and not media.get("private")
            and bool(self.settings_values.get("allow_anonymous_browsing", True))
            and (
                info is not original_info
                or original_is_viewing_copy(media, variant)
                or bool(self.settings_values.get("allow_anonymous_original"))
            )
        )
        await super().get(path, include_body)

    def _send_placeholder(self, body: bytes, include_body: bool) -> None:
        """Our own constant picture (handlers/media_placeholder.py), never cached: the
        real one may be made at any time."""
        self.absolute_path = None  # no file: compute_etag has nothing to hash
        self.set_header("Content-Type", PLACEHOLDER_MIME)
        self.set_header("Content-Length", str(len(body)))
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.set_header("X-Atrium-Placeholder", "failed")
        self.finish(body if include_body else None)

    def _resolved(self, relative: str | None) -> str | None:
        """The stored relative path resolved inside the storage root (None if it leaves
        it); remembered briefly, resolving costs a syscall per path component."""
        if not relative:
            return None
        ctx = self.tenant
        key = ("path", relative)
        found = ctx.cached(key, _MISSING)
        if found is _MISSING:
            generation = ctx.generation
            try:
                found = str(ctx.storage.resolve(relative))
            except StorageError:
                found = None
            ctx.remember(key, found, generation)
        return found

    async def _exists(self, relative: str | None) -> str | None:
        # One stat of a local file: cheaper inline than the thread hop of to_thread
        # (StaticFileHandler stats the file inline too).
        path = self._resolved(relative)
        return path if path and os.path.isfile(path) else None

    # -- StaticFileHandler hooks: the file comes from the database, not the URL -----------
    def get_absolute_path(self, root: str, path: str) -> str:  # type: ignore[override]
        return self._file or ""

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if not self._file:
            raise tornado.web.HTTPError(404)
        try:
            # StaticFileHandler._stat() reuses this result for its headers: one stat.
            self._stat_result = os.stat(absolute_path)
            regular = stat.S_ISREG(self._stat_result.st_mode)
        except OSError:
            regular = False
        if not regular:
            raise tornado.web.HTTPError(404, _MISSING)
        return absolute_path

    def compute_etag(self) -> str | None:
        # Path, size and mtime: cheap, and it changes when a derivative is remade (rotate).
        if self.absolute_path is None:
            return None
        st = self._stat()
        digest = hashlib.sha256(
            f"{self.absolute_path}:{st.st_size}:{st.st_mtime_ns}".encode()
        ).hexdigest()
        return f'"{digest[:32]}"'

    def get_content_type(self) -> str:
        return self._mime

    def get_cache_time(self, path, modified, mime_type) -> int:
        return 0  # Cache-Control is set in set_extra_headers

    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        if self._public:
            self.set_header("Cache-Control", f"public, max-age={PUBLIC_MAX_AGE}")
        else:
            self.set_header("Cache-Control", "private, max-age=0, must-revalidate")
            self.set_header("Vary", "Cookie")
        if self._inline:
            self.set_header(
                "Content-Disposition", content_disposition("inline", self._download_name)
            )
            if not self._mime.startswith(("image/", "video/", "audio/")):
                # A PDF or text file shown in the media page's frame: no scripts, no
                # requests elsewhere, framed only by our own pages. object-src 'self'
                # because Chromium's PDF viewer embeds the document into itself.
                self.set_header(
                    "Content-Security-Policy",
                    "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; "
                    "frame-ancestors 'self'",
                )
        else:
            self.set_header(
                "Content-Disposition", content_disposition("attachment", self._download_name)
            )
            # Even if a browser ignores the attachment, the file runs with no rights.
            self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")


ROUTES = [(r"/media/([^/]+)/(thumbnail|optimized|web|original)", MediaFileHandler)]
