"""Decide what a file is by its content (libmagic), never by its name."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace

import magic

from media.errors import CorruptMedia, UnsupportedMedia, clip

KINDS = ("image", "video", "audio", "document", "other")

# MIME type (as libmagic 5.4x answers) -> (kind, canonical extension without dot).
# Several MIME types share an extension where libmagic's answer varies with the
# container's brand (MP4 family, HEIC/HEIF, Ogg) but the file is handled the same way.
MIME_TYPES: dict[str, tuple[str, str]] = {
    # images
    "image/jpeg": ("image", "jpg"),
    "image/pjpeg": ("image", "jpg"),
    "image/png": ("image", "png"),
    "image/gif": ("image", "gif"),
    "image/webp": ("image", "webp"),
    "image/heic": ("image", "heic"),
    "image/heif": ("image", "heic"),
    "image/heic-sequence": ("image", "heic"),
    "image/heif-sequence": ("image", "heic"),
    "image/tiff": ("image", "tif"),
    "image/bmp": ("image", "bmp"),
    "image/x-ms-bmp": ("image", "bmp"),
    "image/avif": ("image", "avif"),
    # Photoshop: the flattened composite the file carries (Pillow reads it)
    "image/vnd.adobe.photoshop": ("image", "psd"),
    # camera RAW (media/raw.py: the embedded preview or a LibRaw decode)
    "image/x-canon-cr2": ("image", "cr2"),
    "image/x-olympus-orf": ("image", "orf"),
    "image/x-fuji-raf": ("image", "raf"),
    # TIFF-based RAW: libmagic says image/tiff; the name's ending picks one (`refine`)
    "image/x-adobe-dng": ("image", "dng"),
    "image/x-nikon-nef": ("image", "nef"),
    "image/x-sony-arw": ("image", "arw"),
    "image/x-pentax-pef": ("image", "pef"),
    # video
    "video/mp4": ("video", "mp4"),
    "video/quicktime": ("video", "mov"),
    "video/x-m4v": ("video", "m4v"),
    "video/webm": ("video", "webm"),
    "video/x-matroska": ("video", "mkv"),
    "video/x-msvideo": ("video", "avi"),
    "video/avi": ("video", "avi"),
    "video/ogg": ("video", "ogg"),
    "video/3gpp": ("video", "3gp"),
    "video/mpeg": ("video", "mpg"),
    # Windows Media and Flash video: browsers play neither, so they always get a web copy
    "video/x-ms-asf": ("video", "wmv"),
    "video/x-ms-wmv": ("video", "wmv"),
    "video/x-flv": ("video", "flv"),
    # audio
    "audio/mpeg": ("audio", "mp3"),
    "audio/x-m4a": ("audio", "m4a"),
    "audio/mp4": ("audio", "m4a"),
    "audio/aac": ("audio", "aac"),
    "audio/x-aac": ("audio", "aac"),
    "audio/x-hx-aac-adts": ("audio", "aac"),
    "audio/x-wav": ("audio", "wav"),
    "audio/wav": ("audio", "wav"),
    "audio/vnd.wave": ("audio", "wav"),
    "audio/ogg": ("audio", "ogg"),
    "application/ogg": ("audio", "ogg"),
    "audio/flac": ("audio", "flac"),
    "audio/x-flac": ("audio", "flac"),
    # documents: stored and offered for download, no derivatives made from them here.
    # SVG counts as a document, not an image: it is never rasterized or shown inline.
    "application/pdf": ("document", "pdf"),
    "text/plain": ("document", "txt"),
    "text/html": ("document", "html"),
    "image/svg+xml": ("document", "svg"),
    "text/xml": ("document", "xml"),
    "application/xml": ("document", "xml"),
    # Office and OpenDocument: an icon, or page 1 where LibreOffice is installed (media/office.py)
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", "docx"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", "xlsx"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", "pptx"),
    "application/vnd.oasis.opendocument.text": ("document", "odt"),
    "application/vnd.oasis.opendocument.spreadsheet": ("document", "ods"),
    "application/vnd.oasis.opendocument.presentation": ("document", "odp"),
    # archives (ZIP import is its own feature)
    "application/zip": ("other", "zip"),
}

RAW_EXTENSIONS = frozenset({"cr2", "orf", "raf", "dng", "nef", "arw", "pef"})
RAW_MIMES = frozenset(m for m, (_k, e) in MIME_TYPES.items() if e in RAW_EXTENSIONS)
OFFICE_EXTENSIONS = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp"})
OFFICE_MIMES = frozenset(m for m, (_k, e) in MIME_TYPES.items() if e in OFFICE_EXTENSIONS)
_TIFF_RAWS = {e: m for m, (_k, e) in MIME_TYPES.items() if e in ("dng", "nef", "arw", "pef")}
# A name ending in one of these must be that type by content: a "photo.nef" that is HTML,
# or a "report.docx" that is not a ZIP, is refused rather than quietly renamed.
STRICT_EXTENSIONS = RAW_EXTENSIONS | OFFICE_EXTENSIONS | {"psd", "wmv", "flv"}
# Stored and offered for download only: never shown in a browser, whatever the content.
DOWNLOAD_ONLY_MIME = "application/octet-stream"
_DOWNLOAD_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")

DEFAULT_ALLOWED_EXTENSIONS = (
    "jpg",
    "png",
    "gif",
    "webp",
    "heic",
    "tif",
    "mp4",
    "mov",
    "m4v",
    "webm",
    "mkv",
    "avi",
    "mp3",
    "m4a",
    "aac",
    "wav",
    "ogg",
    "flac",
    "pdf",
    "txt",
)

# Types a browser renders without running anything the file brings along. Everything
# else (HTML, SVG, XML, JavaScript, unknown) is served only as an attachment.
_INLINE_SAFE_KINDS = ("image", "video", "audio")
_INLINE_SAFE_EXTRA = frozenset({"application/pdf", "text/plain"})
# Raw camera files, Photoshop and Office files and Windows Media/Flash video: no browser
# shows them, so their originals are downloads (pages show the derivatives).
_NEVER_INLINE = frozenset(
    {"image/svg+xml", "image/vnd.adobe.photoshop", "video/x-ms-asf", "video/x-ms-wmv", "video/x-flv"}
    | RAW_MIMES | OFFICE_MIMES
)

_MAX_DESCRIPTION = 200
_MAX_SUMMARY = 60


@dataclass(frozen=True)
class Sniffed:
    """What libmagic says a file is."""

    mime: str
    kind: str  # one of KINDS
    extension: str  # canonical, without dot; "" when the type is not in MIME_TYPES
    description: str  # libmagic's human text, e.g. "HTML document, ASCII text"

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def summary(self) -> str:
        """What a person needs of libmagic's text in a reason: its first clause, whole
        words only ("TIFF image data" of "TIFF image data, big-endian, direntries=17, …")."""
        first = self.description.split(",", 1)[0]
        return clip(first, _MAX_SUMMARY) or self.mime


def _normalize(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


def classify(mime: str) -> tuple[str, str]:
    """(kind, canonical extension) for a MIME type; unknown types get ("<kind>", "")."""
    mime = _normalize(mime)
    if mime in MIME_TYPES:
        return MIME_TYPES[mime]
    major = mime.split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return major, ""
    if major == "text":
        return "document", ""
    return "other", ""


def sniff(path: str | os.PathLike) -> Sniffed:
    """Read the start of the file with libmagic and say what it is."""
    path = os.fspath(path)
    try:
        mime = _normalize(magic.from_file(path, mime=True))
        description = magic.from_file(path)
    except magic.MagicException as exc:
        raise CorruptMedia(f"The file's type could not be determined ({clip(exc, 200)}).") from exc
    return _sniffed(mime, description)


def sniff_descriptor(fd: int) -> Sniffed:
    """`sniff` of an open file (a file opened without following links stays that file;
    directory synchronization, gallery/sync_scan.py). Reads from the start whatever the
    descriptor's offset."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        mime = _normalize(magic.from_descriptor(fd, mime=True))
        os.lseek(fd, 0, os.SEEK_SET)
        description = magic.from_descriptor(fd)
    except magic.MagicException as exc:
        raise CorruptMedia(f"The file's type could not be determined ({clip(exc, 200)}).") from exc
    return _sniffed(mime, description)


def _sniffed(mime: str, description: str) -> Sniffed:
    description = " ".join(description.split())[:_MAX_DESCRIPTION]
    kind, extension = classify(mime)
    return Sniffed(mime=mime, kind=kind, extension=extension, description=description)


def check_allowed(sniffed: Sniffed, allowed_extensions) -> None:
    """Raise UnsupportedMedia unless the sniffed type's extension is in the allowed list."""
    allowed = {e.lower().lstrip(".") for e in allowed_extensions}
    if sniffed.extension and sniffed.extension in allowed:
        return
    if sniffed.mime == "inode/x-empty":
        raise UnsupportedMedia("This file is empty.")
    raise UnsupportedMedia(
        "This file is %(type)s (%(summary)s), which this gallery does not accept.",
        type=sniffed.mime, summary=sniffed.summary,
    )


def name_extension(name: str | None) -> str:
    """The ending of a file name, lower case without the dot ("" when it has none)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    return ext.strip().lower() if dot and stem else ""


def refine(sniffed: Sniffed, name: str | None) -> Sniffed:
    """The type by content, made exact by the name where content alone cannot tell (a DNG,
    NEF, ARW or PEF is a TIFF to libmagic). Raises UnsupportedMedia when the name ends in a
    STRICT_EXTENSIONS type the content is not."""
    ext = name_extension(name)
    if ext in _TIFF_RAWS and sniffed.mime == "image/tiff":
        return replace(sniffed, mime=_TIFF_RAWS[ext], extension=ext)
    if ext in STRICT_EXTENSIONS and sniffed.extension != ext:
        if sniffed.mime == "inode/x-empty":
            raise UnsupportedMedia("This file is empty.")
        raise UnsupportedMedia(
            "This file is named .%(ending)s but its content is %(type)s (%(summary)s); "
            "a file's name must agree with what it is.",
            ending=ext, type=sniffed.mime, summary=sniffed.summary,
        )
    return sniffed


def is_download_extension(ext: str) -> bool:
    """Whether an admin may list `ext` for download-only storage: a short ending of
    letters and digits that is not a type recognised by content (those are allowed above)."""
    known = {e for _k, e in MIME_TYPES.values()} | {"jpeg", "tiff", "htm", "svgz", "xhtml"}
    return bool(_DOWNLOAD_EXTENSION.match(ext)) and ext not in known


def accept(sniffed: Sniffed, name: str | None, allowed_extensions, download_only=()) -> Sniffed:
    """The type a file is taken in as, or UnsupportedMedia with the reason.

    Allowed types are decided by content (`refine`, `check_allowed`). A name ending the
    admin listed for download-only storage lets in content libmagic does not recognise as
    a known type, as an opaque download (kind "other", DOWNLOAD_ONLY_MIME): a known type
    the gallery does not accept (HTML named .stl) stays out.
    """
    sniffed = refine(sniffed, name)
    try:
        check_allowed(sniffed, allowed_extensions)
    except UnsupportedMedia:
        ext = name_extension(name)
        listed = {e.lower().lstrip(".") for e in download_only}
        if (
            ext in listed
            and is_download_extension(ext)
            and sniffed.mime not in MIME_TYPES
            and sniffed.mime != "inode/x-empty"
        ):
            return replace(sniffed, mime=DOWNLOAD_ONLY_MIME, kind="other", extension=ext)
        raise
    return sniffed


def is_inline_safe(mime: str) -> bool:
    """True when a browser may show this type inline; False means attachment only."""
    mime = _normalize(mime)
    if mime in _NEVER_INLINE or mime not in MIME_TYPES:
        return mime in _INLINE_SAFE_EXTRA
    kind, _ = MIME_TYPES[mime]
    return kind in _INLINE_SAFE_KINDS or mime in _INLINE_SAFE_EXTRA
