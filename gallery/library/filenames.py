"""Safe file names for originals and directory names for albums, and placing a file under
one without overwriting."""

from __future__ import annotations

import errno
import os
import re
import unicodedata
from pathlib import Path

from gallery.errors import Conflict
from media.sniff import MIME_TYPES

MAX_NAME = 200
MAX_NAME_BYTES = 240
MAX_DIRNAME = 80

# Extensions people use for a type whose canonical extension (media.sniff) differs.
_ALIASES = {
    "jpeg": "jpg",
    "jpe": "jpg",
    "jfif": "jpg",
    "tiff": "tif",
    "heif": "heic",
    "htm": "html",
    "mpeg": "mpg",
    "oga": "ogg",
    "ogv": "ogg",
    "qt": "mov",
    "mpga": "mp3",
    "wma": "wmv",  # ASF with sound only: libmagic cannot tell it from Windows Media video
    "asf": "wmv",
}
# Every extension media.sniff can name, plus the aliases people use for them.
_KNOWN_EXTENSIONS = {ext for _kind, ext in MIME_TYPES.values() if ext} | set(_ALIASES)
# C0/C1 control characters, and characters Windows or shells treat specially.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_RESERVED = re.compile(r'[<>:"|?*]')


def clean_file_name(name: str | None, extension: str = "", max_length: int = MAX_NAME) -> str:
    """A safe file name: no directories, control characters or reserved characters, at most
    200 characters, ending in the sniffed type's extension (`extension`, canonical, no dot)."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _RESERVED.sub("_", _CONTROL.sub("", name))
    name = " ".join(name.split()).strip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext_key = ext.lower()
    if extension and _ALIASES.get(ext_key, ext_key) != extension:
        if ext_key in _KNOWN_EXTENSIONS or not ext:
            ext = extension  # a wrong media extension is replaced
        else:
            stem, ext = name, extension  # "my.holiday" -> "my.holiday.jpg"
    stem = stem.strip(". ") or "file"
    if len(ext) > 16:
        stem, ext = f"{stem}.{ext}", ""
    room = max_length - (len(ext) + 1 if ext else 0)
    stem = stem[:room]
    # File systems count bytes (255 on most): leave room for " (99)" as well.
    suffix = len(ext.encode()) + 1 if ext else 0
    while len(stem.encode()) + suffix > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(". ") or "file"
    return f"{stem}.{ext}" if ext else stem


def _numbered(name: str, n: int) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"


def place_file(src: Path, directory: Path, name: str) -> Path:
    """Move `src` into `directory` under `name`, or "name (2)" etc.; never overwrite.

    A hard link refuses an existing target atomically, so two uploads racing for one name
    both land; where links are not supported, fall back to an existence check + rename.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = directory / (name if n == 1 else _numbered(name, n))
        try:
            os.link(src, candidate)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            if candidate.exists():
                continue
            os.replace(src, candidate)
            return candidate
        os.unlink(src)
        return candidate
    raise Conflict("Too many files with this name in the album.")


def safe_dirname(title: str, siblings=()) -> str:
    """A directory name for an album title: no separators, control characters or dot-only
    names, at most MAX_DIRNAME characters, different (ignoring case) from `siblings`."""
    text = "".join(" " if ch.isspace() else ch for ch in unicodedata.normalize("NFC", title or ""))
    text = "".join(
        "-" if ch in "/\\" else ("_" if ch in '<>:"|?*' else ch)
        for ch in text
        if unicodedata.category(ch)[0] != "C"
    )
    text = " ".join(text.split()).strip(" .")
    base = text[:MAX_DIRNAME].rstrip(" .") or "album"
    # Some filesystems count bytes: keep well under 255.
    while len(base.encode()) > 200:
        base = base[:-1]
    taken = {s.casefold() for s in siblings}
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name = base[: MAX_DIRNAME - len(suffix)].rstrip(" .") + suffix
        n += 1
    return name
