"""Export: a gallery as one ZIP64 archive, written as a stream (docs/backup-format.md).

The database is read first (a snapshot of every document the format carries); then the
originals are streamed into the archive one chunk at a time, each hashed as it goes; then
backup.xml is written last, from the snapshot, leaving out every media object whose file
vanished or changed in between (reported, never half-written) and every reference to it.
Nothing of the gallery is copied to a temporary place and no whole file is held in memory.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from gallery.archive.document import Snapshot, write_backup
from storage.root import StorageError

CHUNK = 1024 * 1024
DOCUMENT_NAME = "backup.xml"
GENERATOR = "Atrium 0.1.0"


class Cancelled(Exception):
    """The backup was cancelled; the partial archive is to be thrown away."""


@dataclass
class Progress:
    """Counters shared between the writing thread and whoever reports them (a job, a CLI)."""
    total_files: int = 0
    total_bytes: int = 0
    files: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    # Seconds of rest per second of work while the originals are copied (0: none): the
    # backup job's child rests (background.PACE), so that visitors keep the cores.
    pace: float = 0.0
    _owed: float = field(default=0.0, repr=False)

    def rest(self, worked: float) -> None:
        """Rest `pace` times `worked` seconds, in rests of at least 10 ms (shorter sleeps
        cost more wake-ups than they give back); a cancel ends a rest."""
        self._owed += worked * self.pace
        if self._owed >= 0.01:
            self.cancel.wait(self._owed)
            self._owed = 0.0

    def eta_seconds(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.bytes <= 0 or elapsed <= 0:
            return None
        return max(0.0, (self.total_bytes - self.bytes) * elapsed / self.bytes)

    def as_dict(self) -> dict:
        eta = self.eta_seconds()
        return {"files": self.files, "total_files": self.total_files, "bytes": self.bytes,
                "total_bytes": self.total_bytes, "eta_seconds": None if eta is None else round(eta, 1)}


@dataclass
class ExportReport:
    media: int = 0
    albums: int = 0
    users: int = 0
    roles: int = 0
    files: int = 0
    bytes: int = 0
    left_out: list = field(default_factory=list)   # [{"media_id", "path", "reason"}]
    omitted_settings: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


SYNC_KEY = "sync_key"  # the sync key's stored hash travels with the secrets


async def clear_secrets(ctx) -> dict[str, str]:
    """The gallery's secrets in the clear (sealed settings opened with this host's key, and
    the sync key's record as JSON): only ever sealed again under a passphrase."""
    from gallery.archive.document import to_json
    from gallery.settings import BY_KEY
    from keys.sealed import decrypt_secret

    settings_doc = await ctx.db.settings.find_one({"_id": "gallery"}) or {}
    out = {}
    for key, value in (settings_doc.get("values") or {}).items():
        if key in BY_KEY and BY_KEY[key].secret and value:
            clear = decrypt_secret(ctx, value)
            if clear:
                out[key] = clear
    sync = await ctx.db.meta.find_one({"_id": SYNC_KEY})
    if sync is not None:
        out[SYNC_KEY] = to_json({k: v for k, v in sync.items() if k != "_id"})
    return out


async def seal_secrets(ctx, passphrase: str) -> dict:
    """The gallery's secrets sealed under `passphrase` (gallery/archive/secrets.py): what a
    backup job carries in its payload, so that neither the passphrase nor a clear secret is
    ever stored."""
    import asyncio

    from gallery.archive import secrets as backup_secrets

    backup_secrets.check_passphrase(passphrase)
    clear = await clear_secrets(ctx)
    return await asyncio.to_thread(backup_secrets.seal, clear, passphrase)


async def take_snapshot(ctx, *, passphrase: str | None = None, sealed: dict | None = None) -> Snapshot:
    """Every document the format carries, read before any file is (see the module doc).
    With a passphrase (or a block `seal_secrets` made), the secrets travel sealed under it;
    without, they are left out and named."""
    from gallery.settings import BY_KEY

    if passphrase and sealed is None:
        sealed = await seal_secrets(ctx, passphrase)
    settings_doc = await ctx.db.settings.find_one({"_id": "gallery"}) or {}
    values, omitted = {}, []
    for key, value in (settings_doc.get("values") or {}).items():
        if key not in BY_KEY:
            continue
        if BY_KEY[key].secret:
            # Encrypted under this host's key and this tenant's salt: useless elsewhere and
            # never to be written in the clear. Restore says it must be set again.
            if value and sealed is None:
                omitted.append(key)
            continue
        values[key] = value
    if sealed is None and await ctx.db.meta.find_one({"_id": SYNC_KEY}, {"_id": 1}) is not None:
        omitted.append(SYNC_KEY)
    title = values.get("gallery_title") or (ctx.record or {}).get("title") or ctx.slug
    from gallery.schema import schema_version

    snap = Snapshot(slug=ctx.slug, title=str(title)[:200], settings=values, omitted=sorted(omitted),
                    database_schema=max(1, await schema_version(ctx.db)), secrets=sealed)
    digest = values.get("watermark_image") or ""
    if digest:  # the uploaded watermark PNG (gallery/processing/watermarks.py), checked on copy
        snap.watermark = {"path": f"watermarks/{digest}.png", "size": None, "sha256": digest}
    snap.albums = await ctx.db.albums.find({}).sort([("ancestors", 1), ("position", 1)]).to_list()
    snap.albums.sort(key=lambda a: (len(a.get("ancestors") or []), a.get("position") or 0))
    snap.media = await _media(ctx.db)
    snap.roles = await ctx.db.roles.find({}).sort("_id", 1).to_list()
    snap.users = await ctx.db.users.find({}).sort("_id", 1).to_list()
    return snap


#: Media documents per query of a snapshot. One query for all of them held the embedded
#: database (one command at a time per gallery) for 250-330 ms of a 10,000-object gallery,
#: and every visitor's query waited behind it; a page of 250 takes ~30 ms, and is decoded on
#: the event loop in as little.
SNAPSHOT_PAGE = 250


async def _media(db) -> list[dict]:
    """Every media document (media_pages; ids are strings, gallery.ids: if a count says some
    were not reached that way, all are read again in one query)."""
    media = [doc async for page in media_pages(db) for doc in page]
    if len(media) < await db.media.count_documents({}):  # an id of another type: not in the range
        media = await db.media.find({}, _FIELDS).sort("_id", 1).batch_size(SNAPSHOT_PAGE).to_list()
    return media


_FIELDS = {"search_keys": 0, "derivatives": 0}  # remade on restore


async def media_pages(db):
    """The media documents in pages of SNAPSHOT_PAGE by _id (keyset: each page a short
    indexed query, the database free for others between them)."""
    last = None
    while True:
        query = {} if last is None else {"_id": {"$gt": last}}
        page = await db.media.find(query, _FIELDS).sort("_id", 1).limit(SNAPSHOT_PAGE).batch_size(
            SNAPSHOT_PAGE).to_list()
        if page:
            yield page
            last = page[-1]["_id"]
        if len(page) < SNAPSHOT_PAGE:
            return


def _prune(snap: Snapshot, gone: set[str]) -> None:
    """Leave out media whose file did not make it, and every reference that would dangle
    (a cover, a grant, a role of a user): the document must validate and restore."""
    snap.media = [m for m in snap.media if m["_id"] not in gone]
    album_ids = {a["_id"] for a in snap.albums}
    role_ids = {r["_id"] for r in snap.roles}
    snap.media = [m for m in snap.media if m.get("album_id") in album_ids]
    # A cover must be a media object of the album or of an album below it (format 4's
    # rule); the library keeps it so when media move, but an album moved away from under
    # its ancestor, or an older release's data, may not be.
    album_of = {m["_id"]: m.get("album_id") for m in snap.media}
    ancestors = {a["_id"]: set(a.get("ancestors") or []) for a in snap.albums}
    for a in snap.albums:
        cover_album = album_of.get(a.get("cover_id"))
        if a.get("cover_id") and (cover_album is None or (
                cover_album != a["_id"] and a["_id"] not in ancestors.get(cover_album, ()))):
            a["cover_id"] = None
    for r in snap.roles:
        r["album_ids"] = [x for x in r.get("album_ids") or [] if x in album_ids]
    for u in snap.users:
        u["role_ids"] = [x for x in u.get("role_ids") or [] if x in role_ids]


def _zip_time(ts: float) -> tuple:
    t = time.gmtime(max(ts, 315532800))  # ZIP cannot say a time before 1980
    return t[:6]


class SafePaths:
    """Stored relative paths resolved inside a storage root, each directory once: resolving
    every file (a realpath of each component) took half of a 10,000-file backup. The last
    component is opened with O_NOFOLLOW, so a symlink there cannot lead out either."""

    def __init__(self, storage):
        self.storage = storage
        self.dirs: dict[str, Path] = {}

    def path(self, rel: str) -> Path:
        parent, _, name = str(rel).rpartition("/")
        if name in ("", ".", ".."):
            raise StorageError(f"path {rel!r} names no file")
        folder = self.dirs.get(parent)
        if folder is None:
            folder = self.dirs[parent] = self.storage.resolve(parent)
        return folder / name

    def open_read(self, rel: str):
        fd = os.open(self.path(rel), os.O_RDONLY | os.O_NOFOLLOW)
        return os.fdopen(fd, "rb")


def _stream_file(zf: zipfile.ZipFile, paths: SafePaths, media: dict, progress: Progress) -> str | None:
    """Copy one original into the archive; the reason it was left out, or None."""
    original = media.get("original") or {}
    rel = original.get("path")
    try:
        fh = paths.open_read(rel)
    except FileNotFoundError:
        return "the file vanished while the backup ran"
    except (OSError, StorageError) as exc:  # a path leaving the root, permissions
        return f"the file cannot be read: {exc}"
    with fh:
        st = os.fstat(fh.fileno())
        if st.st_size != original.get("size"):
            return "the file changed while the backup ran (size differs from the record)"
        info = zipfile.ZipInfo(rel, date_time=_zip_time(st.st_mtime))
        info.compress_type = zipfile.ZIP_STORED  # photos and video are compressed already
        info.external_attr = 0o644 << 16
        digest = hashlib.sha256()
        with zf.open(info, "w", force_zip64=True) as out:
            while True:
                if progress.cancel.is_set():
                    raise Cancelled()
                work = time.perf_counter()
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                progress.bytes += len(chunk)
                if progress.pace:
                    progress.rest(time.perf_counter() - work)
        if digest.hexdigest() != original.get("sha256"):
            # The bytes are in the archive already (a ZIP cannot take a member back); the
            # document will not list them, and restore ignores members nothing lists.
            return "the file changed while the backup ran (sha256 differs from the record)"
    return None


def _stream_watermark(zf, paths: SafePaths, mark: dict, progress: Progress) -> str | None:
    """Copy the watermark PNG into the archive, sizing it; the reason it was left out, or None."""
    try:
        size = os.stat(paths.path(mark["path"]), follow_symlinks=False).st_size
    except (OSError, StorageError) as exc:
        return f"the watermark image cannot be read: {exc}"
    record = {"_id": None, "original": {"path": mark["path"], "size": size, "sha256": mark["sha256"]}}
    reason = _stream_file(zf, paths, record, progress)
    if reason is None:
        mark["size"] = size
    return reason


def write_archive(snap: Snapshot, storage, out, *, metadata_only: bool = False,
                  progress: Progress | None = None) -> ExportReport:
    """Write the archive to the binary stream `out` (a file or anything with write()); run
    off the event loop. Raises Cancelled when progress.cancel is set."""
    progress = progress or Progress()
    report = ExportReport(omitted_settings=list(snap.omitted))
    with_files = [m for m in snap.media if (m.get("original") or {}).get("path")]
    if not metadata_only:
        progress.total_files = len(with_files)
        progress.total_bytes = sum(int(m["original"].get("size") or 0) for m in with_files)
    gone: set[str] = set()
    paths = SafePaths(storage)
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        if snap.watermark:  # small, and part of the settings: carried even without originals
            reason = _stream_watermark(zf, paths, snap.watermark, progress)
            if reason:
                report.left_out.append({"media_id": None, "path": snap.watermark["path"], "reason": reason})
                snap.watermark = None
        if not metadata_only:
            for media in with_files:
                reason = _stream_file(zf, paths, media, progress)
                if reason is None:
                    report.files += 1
                    report.bytes += int(media["original"]["size"])
                else:
                    gone.add(media["_id"])
                    report.left_out.append({"media_id": media["_id"], "path": media["original"]["path"],
                                            "reason": reason})
                progress.files += 1
        _prune(snap, gone)
        info = zipfile.ZipInfo(DOCUMENT_NAME, date_time=_zip_time(time.time()))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with zf.open(info, "w", force_zip64=True) as raw, etree.xmlfile(raw, encoding="utf-8") as xf:
            xf.write_declaration()
            write_backup(xf, snap, created=datetime.now(UTC), generator=GENERATOR,
                         metadata_only=metadata_only)
    report.media, report.albums = len(snap.media), len(snap.albums)
    report.users, report.roles = len(snap.users), len(snap.roles)
    return report


async def export_to_file(ctx, path, *, metadata_only: bool = False, progress: Progress | None = None,
                         passphrase: str | None = None, sealed: dict | None = None) -> ExportReport:
    """Back the gallery up into the file `path` (written beside it, renamed when complete,
    so a failed or cancelled backup leaves no archive that looks whole)."""
    import asyncio

    snap = await take_snapshot(ctx, passphrase=passphrase, sealed=sealed)
    return await asyncio.to_thread(write_file, snap, ctx.storage, path, metadata_only=metadata_only,
                                   progress=progress)


def partial_path(path) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.partial")


def write_file(snap: Snapshot, storage, path, *, metadata_only: bool = False,
               progress: Progress | None = None) -> ExportReport:
    """write_archive into the file `path`, through its partial name (blocking)."""
    path = Path(path)
    partial = partial_path(path)
    try:
        with open(partial, "wb") as fh:
            report = write_archive(snap, storage, fh, metadata_only=metadata_only, progress=progress)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
        return report
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
