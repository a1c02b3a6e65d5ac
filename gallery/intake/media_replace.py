"""Replacing a media object's file: the same checks as an upload (permission, empty, size,
type by content, quota for the growth), then gallery.library.media.replace_file, which keeps the
record and re-processes it. Also: the one file part of a multipart body, cut out on disk.
"""

from __future__ import annotations

import asyncio
import mmap
import os
import re
from pathlib import Path

from gallery import settings as gallery_settings
from gallery.errors import Invalid
from gallery.intake.filetypes import accepted_type
from gallery.intake.ingest import check_size, sniff_file
from gallery.library import media as gallery_media
from gallery.media_folder import require_writable
from gallery.people.permissions import Viewer
from gallery.usage import add_usage, reserve

_FILENAME = re.compile(rb'filename\*?=(?:"((?:[^"\\]|\\.)*)"|([^;\r\n]*))', re.IGNORECASE)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


async def replace_original(
    ctx, viewer: Viewer, media_id: str, tmp_path, file_name: str, size: int, queue
) -> dict:
    """Put the temp file in place of the media object's original; the temp file is consumed.

    Raises Forbidden/NotFound (no edit_media), Invalid (empty), TooLarge (size or quota),
    Unsupported (type not allowed here, named). Nothing changes when it raises.
    """
    tmp_path = Path(tmp_path)
    reserved = 0
    try:
        media = await gallery_media.viewable_media(ctx, viewer, media_id, "edit_media")
        require_writable(ctx, "Replacing a file")
        if media.get("kind") == "external":
            raise Invalid("External media has no file to replace.")
        settings = await gallery_settings.get_settings(ctx)
        if size == 0:
            raise Invalid("This file is empty.")
        check_size(settings, size)
        sniffed = await sniff_file(tmp_path)
        # The name that must agree with the content: the one given, else the old file's when
        # only it can say which RAW a TIFF is (another type simply takes its own ending).
        typed_name = file_name or (media.get("file_name") if sniffed.mime == "image/tiff" else None)
        sniffed = await accepted_type(sniffed, tmp_path, typed_name, settings)
        old_size = int((media.get("original") or {}).get("size") or 0)
        if size > old_size:
            await reserve(ctx, size - old_size)  # only the growth counts against the quota
            reserved = size - old_size
        name = _with_extension(file_name or media.get("file_name") or "file", sniffed.extension)
        updated = await gallery_media.replace_file(
            ctx, viewer, media_id, tmp_path, name, queue, sniffed=sniffed
        )
    except BaseException:
        await asyncio.to_thread(_unlink, tmp_path)
        if reserved:
            await add_usage(ctx, -reserved)
        raise
    if size < old_size:
        await add_usage(ctx, size - old_size)
    return updated


def _with_extension(name: str, extension: str) -> str:
    """The file name the uploader gave, with the extension its content really has."""
    base = Path(name.replace("\\", "/")).name or "file"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or 'file'}.{extension}" if extension else base


# -- multipart ------------------------------------------------------------------------------


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a multipart/form-data Content-Type, or None for any other body."""
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    match = re.search(r'boundary="?([^";]+)"?', params)
    if not match or len(match.group(1)) > 200:
        raise Invalid("The multipart body has no usable boundary.")
    return match.group(1).encode()


def extract_file_part(body: Path, boundary: bytes, target: Path) -> tuple[str, int]:
    """Copy the first part that carries a file out of a multipart body stored on disk.

    Works through mmap and a block copy, so a large body is never read into memory.
    Returns (file name, size). Raises Invalid when there is no complete file part.
    """
    delimiter = b"--" + boundary
    with open(body, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise Invalid("The request has no file.")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            position = data.find(delimiter)
            while position != -1:
                header_start = position + len(delimiter)
                if data[header_start : header_start + 2] == b"--":
                    break  # the closing delimiter
                header_end = data.find(b"\r\n\r\n", header_start, header_start + 16384)
                if header_end == -1:
                    break
                headers = data[header_start:header_end]
                content_start = header_end + 4
                next_delimiter = data.find(b"\r\n" + delimiter, content_start)
                if next_delimiter == -1:
                    break  # truncated: no end to this part
                match = _FILENAME.search(headers)
                if match:
                    raw = match.group(1) if match.group(1) is not None else match.group(2)
                    name = raw.decode("utf-8", "replace").strip()
                    with open(target, "wb") as out:
                        handle.seek(content_start)
                        _copy_range(handle, out, next_delimiter - content_start)
                    return name, next_delimiter - content_start
                position = next_delimiter + 2
    raise Invalid('The multipart body has no complete file part (send the file in a "file" field).')


def _copy_range(source, out, length: int, block: int = 1 << 20) -> None:
    remaining = length
    while remaining > 0:
        chunk = source.read(min(block, remaining))
        if not chunk:
            break
        out.write(chunk)
        remaining -= len(chunk)
