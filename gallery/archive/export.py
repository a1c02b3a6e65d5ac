"""Export: a gallery as one ZIP64 archive, written as a stream (docs/backup-format.md).

The database is read first (a snapshot of every document the format carries); then the
originals are streamed into the archive one chunk at a time, each hashed as it goes; then
backup.xml is written last, from the snapshot, leaving out every media object whose file
vanished or changed in between (reported, never half-written) and every reference to it.
Nothing of the gallery is copied to a temporary place and no whole file is held in memory.
"""

from __future__ import annotations

import asyncio
import os
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from lxml import etree

from gallery.archive.document import Snapshot, write_backup
from gallery.archive.originals import SafePaths, WriteBehind, copy_originals, zip_time
from gallery.archive.progress import Progress
from storage.root import StorageError

DOCUMENT_NAME = "backup.xml"
GENERATOR = "Atrium 0.1.0"


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
    from gallery.archive import secrets as backup_secrets

    backup_secrets.check_passphrase(passphrase)
    clear = await clear_secrets(ctx)
    return await asyncio.to_thread(backup_secrets.seal, clear, passphrase)


async def take_snapshot(ctx, *, passphrase: str | None = None, sealed: dict | None = None,
                        background: bool = False) -> Snapshot:
    """Every document the format carries, read before any file is (see the module doc).
    With a passphrase (or a block `seal_secrets` made), the secrets travel sealed under it;
    without, they are left out and named. `background` (the backup job, which hands the
    snapshot to its child): the media are read in BACKGROUND_PAGEs with rests between them
    and left as raw BSON (RawBSONDocument) for the child to decode."""
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
    snap.media = await _media(ctx.db, background)
    snap.roles = await ctx.db.roles.find({}).sort("_id", 1).to_list()
    snap.users = await ctx.db.users.find({}).sort("_id", 1).to_list()
    return snap


#: Media documents per query of a snapshot. One query for all of them held the embedded
#: database (one command at a time per gallery) for 250-330 ms of a 10,000-object gallery,
#: and every visitor's query waited behind it; a page of 250 takes ~30 ms.
SNAPSHOT_PAGE = 250
#: The backup job's pages: a visitor's query waits behind one for ~7 ms, and the job rests
#: as long as each page took before it asks for the next (the database serves visitors
#: meanwhile). Left raw, a page costs the event loop no decoding (a page of 250 decoded took
#: 3-6 ms of it, 150-230 ms in all) and its pickling for the child next to nothing.
BACKGROUND_PAGE = 64
_RAW = CodecOptions(document_class=RawBSONDocument)


async def _media(db, background: bool = False) -> list:
    """Every media document (media_pages; ids are strings, gallery.ids: if a count says some
    were not reached that way, all are read again in one query)."""
    media = [doc async for page in media_pages(db, background=background) for doc in page]
    if len(media) < await db.media.count_documents({}):  # an id of another type: not in the range
        media = await _media_collection(db, background).find({}, _FIELDS).sort("_id", 1).batch_size(
            SNAPSHOT_PAGE).to_list()
    return media


def _media_collection(db, background: bool):
    """The media collection, handing out raw BSON for the background snapshot."""
    return db.get_collection("media", codec_options=_RAW) if background else db.media


_FIELDS = {"search_keys": 0, "derivatives": 0}  # remade on restore


async def media_pages(db, *, background: bool = False):
    """The media documents in pages by _id (keyset: each page a short indexed query, the
    database free for others between them); `background`: see take_snapshot."""
    size = BACKGROUND_PAGE if background else SNAPSHOT_PAGE
    collection = _media_collection(db, background)
    last = None
    while True:
        query = {} if last is None else {"_id": {"$gt": last}}
        asked = time.monotonic()
        page = await collection.find(query, _FIELDS).sort("_id", 1).limit(size).batch_size(size).to_list()
        if page:
            yield page
            last = page[-1]["_id"]
        if len(page) < size:
            return
        if background:
            await asyncio.sleep(time.monotonic() - asked)  # the database serves others meanwhile


def decode_media(raw: bytes) -> dict:
    """A media document the background snapshot left raw, as the service's client reads it."""
    return bson.decode(raw, codec_options=_DECODED)


_DECODED = CodecOptions(tz_aware=True)  # as server/database.py's client


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


def _copy_watermark(zf, paths: SafePaths, mark: dict, progress: Progress) -> str | None:
    """Copy the watermark PNG into the archive, sizing it; the reason it was left out, or None."""
    try:
        size = os.stat(paths.path(mark["path"]), follow_symlinks=False).st_size
    except (OSError, StorageError) as exc:
        return f"the watermark image cannot be read: {exc}"
    record = {"_id": None, "original": {"path": mark["path"], "size": size, "sha256": mark["sha256"]}}
    left_out = copy_originals(zf, paths, [record], progress, ahead=False, counted=False)
    if left_out:
        return left_out[0][1]
    mark["size"] = size
    return None


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
            reason = _copy_watermark(zf, paths, snap.watermark, progress)
            if reason:
                report.left_out.append({"media_id": None, "path": snap.watermark["path"], "reason": reason})
                snap.watermark = None
        if not metadata_only:
            for media, reason in copy_originals(zf, paths, with_files, progress, ahead=not progress.pace):
                gone.add(media["_id"])
                report.left_out.append({"media_id": media["_id"], "path": media["original"]["path"],
                                        "reason": reason})
            report.files = len(with_files) - len(gone)
            report.bytes = sum(int(m["original"]["size"]) for m in with_files if m["_id"] not in gone)
        _prune(snap, gone)
        info = zipfile.ZipInfo(DOCUMENT_NAME, date_time=zip_time(time.time()))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with zf.open(info, "w", force_zip64=True) as raw, etree.xmlfile(raw, encoding="utf-8") as xf:
            xf.write_declaration()
            write_backup(xf, snap, created=datetime.now(UTC), generator=GENERATOR,
                         metadata_only=metadata_only, each=progress.step_done if progress.pace else None)
    report.media, report.albums = len(snap.media), len(snap.albums)
    report.users, report.roles = len(snap.users), len(snap.roles)
    return report


async def export_to_file(ctx, path, *, metadata_only: bool = False, progress: Progress | None = None,
                         passphrase: str | None = None, sealed: dict | None = None) -> ExportReport:
    """Back the gallery up into the file `path` (written beside it, renamed when complete,
    so a failed or cancelled backup leaves no archive that looks whole)."""
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
            report = write_archive(snap, storage, WriteBehind(fh), metadata_only=metadata_only,
                                   progress=progress)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
        return report
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
