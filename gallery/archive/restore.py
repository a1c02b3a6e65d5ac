"""Restore, the gallery side: open an archive and check all of it before anything is written
(members, sizes, bounds, backup.xml parsed safely, validated under the version it declares
and upgraded to the newest), then write its documents and files into an EMPTY database and
storage root. Making that database and root, and switching a tenant to them in one step,
is tenants/restore.py's (docs/backup-format.md)."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import zipfile
from dataclasses import dataclass, field

from gallery.archive import chunked, formats, media_source
from gallery.archive.document import Snapshot
from gallery.archive.export import DOCUMENT_NAME
from gallery.archive.progress import CHUNK

#: backup.xml larger than this is refused before it is read (10,000 media take ~20 MB).
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
#: A member that inflates more than this many times is a ZIP bomb (originals are stored).
MAX_RATIO = 200
MAX_MEMBERS = 1_000_000


class RestoreError(Exception):
    """The archive cannot be restored; nothing was written. `errors` lists each problem
    (at most formats.MAX_ERRORS) with its location."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []

    def full_text(self) -> str:
        return "\n".join([str(self), *("  " + e for e in self.errors)])


@dataclass
class Prepared:
    """A checked archive: the skeleton's documents (its media read again part by part, see
    media_source.MediaSource) and, for each listed original, what its member must hold."""
    path: str
    snapshot: Snapshot
    originals: dict = field(default_factory=dict)   # member name -> (sha256, media id)
    metadata_only: bool = False
    declared_version: int = 0
    total_bytes: int = 0
    pending: bool = False                          # some media object comes back pending
    watermark: str | None = None                   # the watermark PNG's member (format 3)


def member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"member {name!r} is a symbolic link"
    if "\\" in name or "\x00" in name:
        return f"member {name!r} has a backslash or NUL in its name"
    # Plain string tests, not a PurePosixPath per member (a sixth of checking 10,000 members).
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"member {name!r} has an absolute name"
    if ".." in name.split("/"):
        return f"member {name!r} leaves the archive's directory (..)"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"member {name!r} uses an unsupported compression"
    if info.compress_size and info.file_size / max(info.compress_size, 1) > MAX_RATIO:
        return f"member {name!r} inflates {info.file_size // info.compress_size}x (a ZIP bomb?)"
    return None


def _open(path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise RestoreError(f"{os.path.basename(str(path))} is not a backup archive (not a readable ZIP file: {exc})") from None


def zlib_error():
    import zlib

    return zlib.error


def prepare(path, *, max_document_bytes: int = MAX_DOCUMENT_BYTES) -> Prepared:
    """Check the whole archive (run off the event loop); raise RestoreError listing why not."""
    try:
        return _prepare(path, max_document_bytes)
    finally:
        release_memory()


def release_memory() -> None:
    """Give the freed heap back to the system. backup.xml's tree (~5 KB per media object) is
    freed when prepare returns, but glibc keeps the pages, and the restore's peak was that
    heap plus what extracting and inserting allocate after it (10,000 objects: 144 MB kept,
    88 MB after a trim). Nothing to do on a libc without malloc_trim."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def _prepare(path, max_document_bytes: int) -> Prepared:
    zf = _open(path)
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise RestoreError(f"the archive has {len(infos)} members; at most {MAX_MEMBERS}")
        sizes: dict[str, int] = {}   # member name -> size: all that the checks below need
        problems = []
        for info in infos:
            problem = member_problem(info)
            if problem:
                problems.append(problem)
            if info.filename in sizes:
                problems.append(f"member {info.filename!r} appears twice")
            sizes[info.filename] = info.file_size
        if problems:
            raise RestoreError("the archive's members are not safe to restore", problems[:formats.MAX_ERRORS])
        document = zf.getinfo(DOCUMENT_NAME) if DOCUMENT_NAME in sizes else None
        if document is None:
            raise RestoreError("the archive holds no backup.xml: it is not an Atrium backup")
        if document.file_size > max_document_bytes:
            raise RestoreError(f"backup.xml is {document.file_size} bytes; at most {max_document_bytes} are read")
        del infos
        originals: dict[str, tuple] = {}
        missing: list[str] = []
        total = 0

        def listed(media: dict) -> None:
            # Every listed original a member of that size, each listed once (checked as the
            # parts are read; reported only when backup.xml itself is valid).
            nonlocal total
            original = media.get("original")
            if not original or len(missing) >= formats.MAX_ERRORS:
                return
            size = sizes.get(original["path"])
            if size is None:
                missing.append(f"media {media['_id']}: its file {original['path']!r} is not in the archive")
            elif size != original["size"]:
                missing.append(f"media {media['_id']}: member {original['path']!r} is {size} "
                               f"bytes, backup.xml says {original['size']}")
            elif original["path"] in originals:
                missing.append(f"media {media['_id']}: file {original['path']!r} is listed twice")
            else:
                originals[original["path"]] = (original["sha256"], media["_id"])
                total += size

        try:
            checked = chunked.check(lambda: zf.open(document), max_document_bytes, on_media=listed)
        except chunked.Refused as exc:
            raise RestoreError(str(exc), exc.errors) from None
        except formats.FormatError as exc:
            raise RestoreError(str(exc), exc.errors) from None
        snapshot = checked.snapshot
        snapshot.media = media_source.MediaSource(path, DOCUMENT_NAME, max_document_bytes, checked,
                                             refuse=RestoreError)
        prepared = Prepared(str(path), snapshot, metadata_only=checked.metadata_only,
                            declared_version=checked.version, pending=checked.pending)
        if snapshot.watermark:
            prepared.watermark = _watermark_member(snapshot, sizes)
        if not prepared.metadata_only:
            if missing:
                raise RestoreError("the archive's files do not match backup.xml", missing)
            prepared.originals = originals
            prepared.total_bytes = total
        return prepared


def _watermark_member(snapshot: Snapshot, sizes: dict) -> str:
    """The watermark PNG's member, checked against what the document says of it (rules the
    format's Schematron leaves to the code, so that version 3 stays compatible with 2)."""
    mark = snapshot.watermark
    if mark["path"] != f"watermarks/{mark['sha256']}.png":
        raise RestoreError(f"the watermark's path {mark['path']!r} does not name its sha256")
    if snapshot.settings.get("watermark_image") != mark["sha256"]:
        raise RestoreError("the watermark is not the image the watermark_image setting names")
    if sizes.get(mark["path"]) != mark["size"]:
        raise RestoreError(f"the watermark image {mark['path']!r} is not in the archive with "
                           f"{mark['size']} bytes")
    return mark["path"]


def unlock(prepared: Prepared, passphrase: str | None) -> None:
    """Open the backup's secrets with `passphrase` (before anything is written; blocking:
    scrypt). Without one they are left out (restore reports them); a wrong one, or a
    secret altered, raises RestoreError."""
    from gallery.archive import secrets as backup_secrets

    snap = prepared.snapshot
    if not snap.secrets or not passphrase:
        return
    try:
        snap.clear_secrets = backup_secrets.open_block(snap.secrets, passphrase)
    except backup_secrets.PassphraseError as exc:
        raise RestoreError(str(exc)) from None


def _copy_member(zf, info: zipfile.ZipInfo, target, sha256: str, storage, progress=None) -> int:
    """One member written straight to `target`, its sha256 checked as it streams; a member
    that differs is removed. Straight, not through tmp/ and a rename: the root is a staging
    root nobody reads before the switch (and a failed restore removes it whole), so the
    temporary file and the rename per file would only cost metadata writes. A stored member
    (every original an Atrium backup writes) is read with pread at its offset (_copy_stored);
    a deflated one through zipfile."""
    if info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1:
        return _copy_stored(zf, info, target, sha256, progress)
    name = info.filename
    tmp = target  # (named so below: it is only the file's final name once checked)
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(info) as src, open(tmp, "xb") as dst:
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > info.file_size:
                    raise RestoreError(f"member {name!r} holds more bytes than declared")
                digest.update(chunk)
                dst.write(chunk)
                if progress is not None:
                    progress.bytes += len(chunk)
    except (zipfile.BadZipFile, EOFError, zlib_error()) as exc:
        tmp.unlink(missing_ok=True)
        raise RestoreError(f"member {name!r} cannot be read (truncated or damaged archive: {exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != sha256:
        tmp.unlink(missing_ok=True)
        raise RestoreError(f"member {name!r}: its sha256 is not the one backup.xml lists")
    return size


def _data_offset(fd: int, info: zipfile.ZipInfo) -> int:
    """Where a member's bytes start: after its local header, which must name the member the
    central directory names (as zipfile checks)."""
    import struct

    name = info.filename
    header = os.pread(fd, zipfile.sizeFileHeader, info.header_offset)
    if len(header) != zipfile.sizeFileHeader:
        raise RestoreError(f"member {name!r} cannot be read (truncated archive: its header is cut off)")
    fields = struct.unpack(zipfile.structFileHeader, header)
    if fields[0] != zipfile.stringFileHeader:
        raise RestoreError(f"member {name!r} cannot be read (damaged archive: no header at its offset)")
    name_len, extra_len = fields[zipfile._FH_FILENAME_LENGTH], fields[zipfile._FH_EXTRA_FIELD_LENGTH]
    raw = os.pread(fd, name_len, info.header_offset + zipfile.sizeFileHeader)
    try:
        local = raw.decode("utf-8" if fields[zipfile._FH_GENERAL_PURPOSE_FLAG_BITS] & 0x800 else "cp437")
    except UnicodeDecodeError:
        local = None
    if local != info.orig_filename:
        raise RestoreError(f"member {name!r} cannot be read (damaged archive: its header names {raw!r})")
    return info.header_offset + zipfile.sizeFileHeader + name_len + extra_len


#: One read buffer per extracting thread (an original of up to this size is one read).
_BUFFERS = threading.local()


def _copy_stored(zf, info: zipfile.ZipInfo, target, sha256: str, progress=None) -> int:
    """A stored member copied with os.pread at its offset and os.write, sha256 checked:
    no lock shared by the extracting threads (zipfile's reads seek and read one shared file
    object under one lock, half of a 10,000-file restore's time), every call releasing the
    interpreter lock, so the threads use both cores. The member's CRC-32 is not computed:
    the sha256 from the validated backup.xml is the stronger check of the same bytes."""
    name = info.filename
    fd = zf.fp.fileno()
    buf = getattr(_BUFFERS, "view", None)
    if buf is None:
        buf = _BUFFERS.view = memoryview(bytearray(CHUNK))
    start = _data_offset(fd, info)
    digest = hashlib.sha256()
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        left, pos = info.file_size, start
        while left:
            n = os.preadv(fd, [buf[:min(left, CHUNK)]], pos)
            if n <= 0:
                raise RestoreError(f"member {name!r} cannot be read (truncated archive: "
                                   f"{info.file_size - left} of {info.file_size} bytes)")
            chunk = buf[:n]
            digest.update(chunk)
            while chunk:
                chunk = chunk[os.write(out, chunk):]
            left -= n
            pos += n
            if progress is not None:
                progress.bytes += n
    except BaseException:
        os.close(out)
        os.unlink(target)
        raise
    os.close(out)
    if digest.hexdigest() != sha256:
        os.unlink(target)
        raise RestoreError(f"member {name!r}: its sha256 is not the one backup.xml lists")
    return info.file_size


#: Files extracted at once, so that one file's reads, hashing and writes overlap another's
#: (each stored member is copied with pread/write and hashlib, all of which release the
#: interpreter lock: both cores work); one 1 MB buffer per worker.
EXTRACT_WORKERS = 4


class Stopped(Exception):
    """extract_files was told to stop (the restore failed elsewhere)."""


def extract_files(prepared: Prepared, storage, progress=None, stop=None) -> int:
    """Copy every listed original into `storage` (an empty root), checking its sha256 as it
    streams; run off the event loop. EXTRACT_WORKERS threads share one ZipFile (one per
    thread held the 10,000-entry directory four times) and read its stored members with
    pread at their offsets (no shared file position, no lock), in 1 MB chunks.
    Raises RestoreError for the first file that differs, after every worker stopped; and
    Stopped, once every worker stopped, when the threading.Event `stop` is set."""
    from gallery.archive.originals import SafePaths

    paths = SafePaths(storage)
    failed = stop if stop is not None else threading.Event()
    zf = _open(prepared.path)
    made: set = set()  # folders made already: one mkdir per folder, not per file

    def target_of(rel: str):
        target = paths.path(rel)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        return target

    def one(name: str, sha256: str, media_id: str) -> int:
        if failed.is_set():  # another file failed: the restore is over
            return 0
        try:
            size = _copy_member(zf, zf.getinfo(name), target_of(name), sha256, storage, progress)
        except RestoreError as exc:
            failed.set()
            raise RestoreError(f"{exc} (media {media_id})") from None
        except BaseException:
            failed.set()
            raise
        if progress is not None:
            progress.files += 1
        return size

    written = 0
    try:
        if prepared.watermark is not None:  # not counted as originals (usage, quota)
            mark = prepared.snapshot.watermark
            _copy_member(zf, zf.getinfo(mark["path"]), target_of(mark["path"]), mark["sha256"], storage)
        # Each worker takes the next original from one shared iterator (a future per file
        # held 10,000 futures at once: memory growing with the gallery).
        items = iter(prepared.originals.items())
        lock = threading.Lock()
        errors: list = []
        sizes: list = []

        def worker() -> None:
            done = 0
            try:
                while not failed.is_set():
                    with lock:
                        item = next(items, None)
                    if item is None:
                        break
                    name, (sha256, media_id) = item
                    done += one(name, sha256, media_id)
            except BaseException as exc:  # noqa: BLE001 (re-raised below, once all are done)
                errors.append(exc)
            sizes.append(done)

        threads = [threading.Thread(target=worker, name=f"restore-extract-{i}", daemon=True)
                   for i in range(EXTRACT_WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:  # all of them: none may still write when this returns
            thread.join()
        written = sum(sizes)
        if errors:
            raise errors[0]
        if stop is not None and stop.is_set():
            raise Stopped()
    finally:
        zf.close()
    return written
