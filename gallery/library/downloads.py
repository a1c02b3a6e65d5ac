"""ZIP downloads of an album (optionally with its sub-albums) or of a selection of media.

`plan_album()` / `plan_selection()` decide what goes in (only what the viewer may see;
invisible ids are silently left out) and under which names (album folders, clean and
de-duplicated entry names, never ".." or absolute). `ZipStream` then writes the archive
with zipfile in its own thread into a small bounded queue of chunks that the handler
sends as they come: no temporary file, memory flat whatever the archive's size, and the
writer stops as soon as the client goes away.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from gallery.errors import Forbidden, Invalid, NotFound
from gallery.i18n import Message
from gallery.ids import is_id
from gallery.library.albums import viewable_album
from gallery.library.media_access import may_view_original, media_scope, original_is_viewing_copy
from gallery.people.permissions import Viewer, can
from media.dates import taken_of
from media.errors import MediaError
from storage.root import StorageError

SIZES = ("original", "optimized")
CHUNK = 256 * 1024
QUEUE_CHUNKS = 8  # at most ~2 MB waiting per download
_DEFLATE_MIMES = ("text/", "application/pdf", "application/json", "image/svg", "image/bmp")
_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "image/png": "png",
               "video/mp4": "mp4", "video/webm": "webm", "audio/mp4": "m4a", "audio/mpeg": "mp3"}
# Kinds whose "optimized" derivative is a still of them (poster frame, cover, first page):
# never packed in their place — a ZIP of a video holds the video.
_PLAYED = ("video", "audio")


# The gallery's download switches (gallery.settings, group Downloads), by kind of download.
DOWNLOAD_SWITCHES = {
    "file": ("allow_file_download", "Downloading files is turned off in this gallery."),
    "album": ("allow_album_zip", "Downloading albums as ZIP is turned off in this gallery."),
    "selection": ("allow_selection_zip", "Downloading a selection as ZIP is turned off in this gallery."),
}


def download_allowed(settings: dict, kind: str) -> bool:
    key, _ = DOWNLOAD_SWITCHES[kind]
    return bool(settings.get(key, True))


def require_download(settings: dict, kind: str) -> None:
    """Raise Forbidden when the gallery has turned this kind of download off (for everyone:
    a switch of the gallery, not a permission)."""
    if not download_allowed(settings, kind):
        raise Forbidden(DOWNLOAD_SWITCHES[kind][1])


@dataclass(frozen=True)
class Entry:
    name: str  # path inside the ZIP
    path: str  # absolute path of the file on disk
    compress: bool
    modified: datetime | None = None
    # For gallery.watermarks: the media object, which of its files this is ("original"
    # packed as the original, or "optimized": the viewing copy), its stored relative path,
    # and, once watermarked, a blocking function that makes the copy and returns its path.
    media: dict | None = field(default=None, compare=False, repr=False)
    variant: str = "optimized"
    source: str = ""
    prepare: Callable[[], str] | None = field(default=None, compare=False, repr=False)


def clean_part(text: str, fallback: str) -> str:
    """One safe path component: no separators, no control characters, never "." or ".."."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.replace("/", "_").replace("\\", "_").replace(":", "_")
    text = " ".join(text.split()).strip(" .")
    return text[:120] or fallback


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or "stem (2).ext", "stem (3).ext"... not yet in `taken` (ignoring case)."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
    taken.add(candidate.casefold())
    return candidate


def _source(viewer: Viewer, media: dict, size: str) -> tuple[str, str, str, str] | None:
    """(relative path, file name, mime, variant) of the file to pack for this media object, if any.

    The original only at size "original" and with view_original; otherwise the optimized
    copy (which is what people see), or the original when it is the viewing copy
    (gallery.library.media_access.original_is_viewing_copy: not while pending or failed).
    """
    if not can(viewer, "view", media_scope(media)):
        return None
    if media.get("kind") not in (None, "image"):
        return _file_source(viewer, media, size)
    optimized = (media.get("derivatives") or {}).get("optimized")
    name = media.get("file_name") or "file"
    if not optimized and not may_view_original(viewer, media):
        return None
    if not optimized or (size == "original" and may_view_original(viewer, media)):
        original = media.get("original") or {}
        return original.get("path"), name, media.get("mime") or "", (
            "original" if size == "original" else "optimized"
        )
    stem = name.rsplit(".", 1)[0] if "." in name else name
    ext = _EXTENSIONS.get(optimized.get("mime"), "jpg")
    return optimized.get("path"), f"{stem}.{ext}", optimized.get("mime") or "", "optimized"


def _file_source(viewer: Viewer, media: dict, size: str) -> tuple[str, str, str, str] | None:
    """Video, audio, documents: the file itself, or its web copy ("web size", when one was
    made), never the still that stands for it on the page. Without view_original, only
    what plays in the page (a web copy, or an original that plays as it is) is packed."""
    name = media.get("file_name") or "file"
    original = media.get("original") or {}
    web = (media.get("derivatives") or {}).get("web") if media.get("kind") in _PLAYED else None
    plays_as_is = media.get("kind") in _PLAYED and original_is_viewing_copy(media, "web")
    may_original = plays_as_is or may_view_original(viewer, media)
    if web and web.get("path") and (size == "optimized" or not may_original):
        stem = name.rsplit(".", 1)[0] if "." in name else name
        ext = _EXTENSIONS.get(web.get("mime"), "mp4")
        return web["path"], f"{stem}.{ext}", web.get("mime") or "", "web"
    if may_original and original.get("path"):
        return original["path"], name, media.get("mime") or "", "original"
    return None


def _entries_for(ctx, viewer, docs, size, folder: str, taken: set[str]) -> list[Entry]:
    entries = []
    for media in docs:
        found = _source(viewer, media, size)
        if not found or not found[0]:
            continue
        rel, name, mime, variant = found
        try:
            path = str(ctx.storage.resolve(rel))
        except StorageError:  # a path outside the storage root is never packed
            continue
        name = _unique(clean_part(name, "file"), taken)
        entries.append(
            Entry(
                f"{folder}/{name}" if folder else name,
                path,
                mime.startswith(_DEFLATE_MIMES),
                # ZIP times are wall-clock times: the local time the photo was taken.
                _taken_local(media) or media.get("date_added"),
                media=media,
                variant=variant,
                source=rel,
            )
        )
    return entries


def _check(size: str, max_items: int) -> None:
    if size not in SIZES:
        raise Invalid(
            "size must be original or optimized.", field_errors={"size": "original or optimized"}
        )
    if not isinstance(max_items, int) or max_items < 1:
        raise ValueError("max_items must be a positive int")


def _too_many(max_items: int) -> Invalid:
    return Invalid(
        Message("A download may hold at most %(count)s items; choose fewer or a smaller album.", count=max_items),
        field_errors={"ids": Message("at most %(count)s", count=max_items)},
    )


async def plan_album(
    ctx, viewer: Viewer, album_id: str, *, sub: bool, size: str, max_items: int
) -> tuple[str, list[Entry]]:
    """(ZIP file name, entries) of an album, with its visible sub-albums as folders if `sub`."""
    _check(size, max_items)
    album = await viewable_album(ctx, viewer, album_id)
    albums = [album]
    if sub:
        below = await ctx.db.albums.find({"ancestors": {"$in": [album["_id"]]}}).to_list()
        albums += [a for a in below if can(viewer, "view", a)]
    folders = _folders(album, albums)
    entries: list[Entry] = []
    total = 0
    for each in sorted(albums, key=lambda a: folders[a["_id"]]):
        taken: set[str] = set()
        folder = folders[each["_id"]]
        docs = (
            await ctx.db.media.find({"album_id": each["_id"]}, {"search_keys": 0})
            .sort([("position", 1), ("_id", 1)])
            .limit(max_items + 1 - total)
            .to_list()
        )
        total += len(docs)
        if total > max_items:
            raise _too_many(max_items)
        entries += _entries_for(ctx, viewer, docs, size, folder, taken)
    if not entries:
        raise Invalid("There is nothing in this album you may download.")
    return clean_part(album.get("title") or "", "album") + ".zip", entries


def _folders(top: dict, albums: list[dict]) -> dict[str, str]:
    """Folder of each album inside the ZIP: its (clean, unique) names below `top`."""
    by_id = {a["_id"]: a for a in albums}
    names: dict[str, str] = {top["_id"]: ""}
    taken: dict[str, set[str]] = {}
    for a in sorted(albums, key=lambda a: (len(a.get("ancestors", [])), a.get("position", 0))):
        if a["_id"] == top["_id"] or a.get("parent_id") not in by_id:
            continue
        parent = names.get(a["parent_id"])
        if parent is None:
            continue
        # Named as people know the album (its title), not as its folder on disk.
        part = clean_part(a.get("title") or a.get("dirname") or "", "album")
        part = _unique(part, taken.setdefault(a["parent_id"], set()))
        names[a["_id"]] = f"{parent}/{part}" if parent else part
    return {k: v for k, v in names.items() if k in by_id}


async def plan_selection(
    ctx, viewer: Viewer, ids, *, size: str, max_items: int
) -> tuple[str, list[Entry]]:
    """(ZIP file name, entries) of the selected media the viewer may see (others left out)."""
    _check(size, max_items)
    wanted = [i for i in dict.fromkeys(ids or []) if isinstance(i, str) and is_id(i)]
    if not wanted:
        raise Invalid("Select at least one item to download.", field_errors={"ids": "is empty"})
    if len(wanted) > max_items:
        raise _too_many(max_items)
    found = {
        m["_id"]: m
        for m in await ctx.db.media.find({"_id": {"$in": wanted}}, {"search_keys": 0}).to_list()
    }
    docs = [found[i] for i in wanted if i in found and can(viewer, "view", media_scope(found[i]))]
    entries = _entries_for(ctx, viewer, docs, size, "", set())
    if not entries:
        # Ids that name nothing the viewer may see are not found, whoever's they are.
        raise NotFound("None of the selected items can be downloaded.")
    return "selection.zip", entries


# -- streaming ---------------------------------------------------------------------------


class Cancelled(Exception):
    """The client went away: the writer thread stops."""


class _ChunkWriter:
    """A write-only, unseekable file for zipfile that hands out CHUNK-sized pieces."""

    def __init__(self, stream: ZipStream):
        self.stream = stream
        self.buffer = bytearray()

    def write(self, data) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self.stream._put(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.buffer:
            self.stream._put(bytes(self.buffer))
            self.buffer.clear()


class ZipStream:
    """Build a ZIP of `entries` in a thread; `async for chunk in stream.chunks()` reads it."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._ready = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancelled = threading.Event()
        self.skipped: list[str] = []
        self.thread: threading.Thread | None = None

    def _put(self, item) -> None:
        while True:
            if self._cancelled.is_set():
                raise Cancelled()
            try:
                self._queue.put(item, timeout=0.25)
                break
            except queue.Full:
                continue
        self._loop.call_soon_threadsafe(self._ready.set)

    def _write(self) -> None:
        writer = _ChunkWriter(self)
        try:
            with zipfile.ZipFile(writer, "w", allowZip64=True) as archive:
                for entry in self.entries:
                    self._add(archive, entry)
            writer.close()
            self._put(None)
        except Cancelled:
            pass
        except Exception as exc:  # noqa: BLE001  (handed to the reader, which ends the response)
            if not self._cancelled.is_set():
                try:
                    self._put(exc)
                except Cancelled:
                    pass

    def _add(self, archive: zipfile.ZipFile, entry: Entry) -> None:
        try:
            # A watermarked copy is made here, as the archive reaches it (in the pool).
            path = entry.prepare() if entry.prepare is not None else entry.path
            source = open(path, "rb")  # noqa: SIM115  (closed by the `with` below)
        except (OSError, MediaError):
            self.skipped.append(entry.name)  # gone since planning: leave it out
            return
        with source:
            info = zipfile.ZipInfo(entry.name, _zip_time(entry.modified, source))
            info.compress_type = zipfile.ZIP_DEFLATED if entry.compress else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as target:
                while block := source.read(CHUNK):
                    if self._cancelled.is_set():
                        raise Cancelled()
                    target.write(block)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # A thread of its own: a long download must not hold one of the default executor's.
        self.thread = threading.Thread(target=self._write, name="zip-download", daemon=True)
        self.thread.start()

    def cancel(self) -> None:
        self._cancelled.set()

    async def chunks(self):
        if self.thread is None:
            self.start()
        try:
            while True:
                self._ready.clear()
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    await self._ready.wait()
                    continue
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.cancel()


def _taken_local(media: dict) -> datetime | None:
    taken = taken_of(media)
    return taken.local if taken else None


def _zip_time(when: datetime | None, source) -> tuple:
    if when is None:
        when = datetime.fromtimestamp(os.fstat(source.fileno()).st_mtime)
    year = min(max(when.year, 1980), 2107)
    return (year, when.month, when.day, when.hour, when.minute, when.second)
