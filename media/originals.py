"""Changing an original as it comes in, when a gallery's settings ask for it: re-encoding a
JPEG to a quality (GSP's OriginalImageJpegQuality) or keeping the optimized copy in place
of the original (GSP's DiscardOriginalImageDuringImport).

Both write a new file and keep the original's metadata: the APPn and comment segments of a
JPEG (EXIF with its orientation, XMP, IPTC, ICC profile, maker notes) are copied byte for
byte next to the new image data, so nothing the gallery reads from a file is lost. Neither
ever makes a file larger: `Kept` is raised instead, and the caller keeps the original.
Synchronous, for the media process pool (gallery/processing/originals.py calls them).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
from dataclasses import dataclass

from PIL import Image, JpegImagePlugin

from media.errors import CorruptMedia
from media.images import open_image, quiet_pillow
from media.integrity import decode_jpeg

_SOI, _SOS, _COM, _APP0, _APP2, _APP14 = 0xD8, 0xDA, 0xFE, 0xE0, 0xE2, 0xEE
_EXIF = b"Exif\x00\x00"
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_SEGMENT = 65533  # a segment's payload: 65535 less its two length bytes
_MAX_SEGMENTS = 1000
# XMP's own orientation (tiff:Orientation), as an attribute or an element.
_XMP_ORIENTATION = re.compile(rb"(tiff:Orientation\s*=\s*[\"']|<tiff:Orientation>)\s*[1-8]")


class Kept(Exception):
    """The original stays as it is; the message says why (a person reads it in the log)."""


@dataclass(frozen=True)
class NewOriginal:
    """The file written in place of an original."""

    size: int
    sha256: str
    width: int
    height: int


# -- JPEG segments ---------------------------------------------------------------------------


def _header(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The segments before the first scan, as (marker, the whole segment), and the offset of
    that scan's SOS marker. CorruptMedia when the structure is broken."""
    if data[:2] != b"\xff\xd8":
        raise CorruptMedia("The file does not start like a JPEG.")
    at, segments = 2, []
    for _ in range(_MAX_SEGMENTS):
        if at >= len(data) or data[at] != 0xFF:
            break
        start = at
        while at < len(data) and data[at] == 0xFF:  # fill bytes before a marker
            at += 1
        if at >= len(data):
            break
        marker = data[at]
        at += 1
        if marker == _SOS:
            return segments, start
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            continue
        if at + 2 > len(data):
            break
        length = struct.unpack_from(">H", data, at)[0]
        if length < 2 or at + length > len(data):
            break
        segments.append((marker, bytes((0xFF, marker)) + data[at : at + length]))
        at += length
    raise CorruptMedia("The JPEG's header is damaged (no image data where it should be).")


def _is_metadata(marker: int) -> bool:
    return _APP0 <= marker <= 0xEF or marker == _COM


def _carried(marker: int, segment: bytes, *, icc: bool) -> bool:
    """Which of the original's segments ride along with new image data."""
    payload = segment[4:]
    if marker == _APP2:
        if payload.startswith(b"MPF\x00"):
            return False  # offsets of pictures after this one's end: they are not kept
        if payload.startswith(b"ICC_PROFILE\x00"):
            return icc
    # Adobe's APP14 says how *its* encoder stored the colours; the new data is Pillow's.
    return marker != _APP14 and _is_metadata(marker)


def _segment(marker: int, payload: bytes) -> bytes | None:
    if len(payload) > _MAX_SEGMENT:
        return None
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _splice(encoded: bytes, metadata: list[bytes], *, own_app0: bool) -> bytes:
    """Pillow's `encoded` JPEG with `metadata` segments in place of its own (its JFIF APP0
    kept first when `own_app0`)."""
    header, sos = _header(encoded)
    head = [seg for m, seg in header if m == _APP0] if own_app0 else []
    tables = [seg for m, seg in header if not _is_metadata(m)]
    return b"".join([b"\xff\xd8", *head, *metadata, *tables, encoded[sos:]])


# -- orientation -----------------------------------------------------------------------------


def upright_exif(tiff: bytes) -> bytes | None:
    """EXIF (TIFF bytes, after "Exif\\0\\0") with its orientation set to 1, for pixels already
    turned upright; None when the orientation cannot be found safely (drop the EXIF then,
    or a viewer would turn the picture a second time)."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    ifd = struct.unpack_from(order + "I", tiff, 4)[0]
    if ifd + 2 > len(tiff):
        return None
    count = struct.unpack_from(order + "H", tiff, ifd)[0]
    if ifd + 2 + 12 * count > len(tiff):
        return None
    for n in range(count):
        entry = ifd + 2 + 12 * n
        tag, kind, items = struct.unpack_from(order + "HHI", tiff, entry)
        if tag == 0x0112:
            if kind != 3 or items != 1:  # SHORT, one value: stored in the entry itself
                return None
            patched = bytearray(tiff)
            struct.pack_into(order + "H", patched, entry + 8, 1)
            return bytes(patched)
    return tiff  # no orientation: upright already


def _upright_xmp(xmp: bytes) -> bytes:
    return _XMP_ORIENTATION.sub(lambda m: m.group(1) + b"1", xmp)


def _upright_segment(segment: bytes) -> bytes | None:
    """An APP1 segment with its orientation (EXIF or XMP) set to 1; None to drop it."""
    payload = segment[4:]
    if payload.startswith(_EXIF):
        tiff = upright_exif(payload[len(_EXIF):])
        return None if tiff is None else _segment(0xE1, _EXIF + tiff)
    if payload.startswith(_XMP):
        return _segment(0xE1, _upright_xmp(payload))
    return segment


# -- writing ---------------------------------------------------------------------------------


def _write(out: str, data: bytes) -> str:
    with open(out, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return hashlib.sha256(data).hexdigest()


def _smaller(data: bytes, src: str, what: str) -> None:
    size = os.path.getsize(src)
    if len(data) >= size:
        raise Kept(f"{what} would be {len(data):,} bytes, not smaller than the original's {size:,}")


def reencode_jpeg(src: str | os.PathLike, out: str | os.PathLike, quality: int) -> NewOriginal:
    """Write the JPEG at `src` again at `quality` into `out`: the same pixels (not turned,
    not colour-converted), the same chroma subsampling, every metadata segment of the
    original. Raises Kept when the result would not be smaller, or when the file is not a
    plain RGB or greyscale JPEG (a CMYK JPEG; a multi-picture JPEG, whose other pictures
    would be lost); CorruptMedia when its image data is damaged or incomplete."""
    src, out = os.fspath(src), os.fspath(out)
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be 1-100, not {quality}")
    with open_image(src) as im:
        if im.format != "JPEG":
            raise Kept(f"a {im.format} file is not re-encoded (its other pictures would be lost)")
        if im.mode not in ("RGB", "L"):
            raise Kept(f"a {im.mode} JPEG is not re-encoded")
        sampling = JpegImagePlugin.get_sampling(im)
        progressive = bool(im.info.get("progressive") or im.info.get("progression"))
        # libjpeg-turbo with its warnings heard: lost scan data is an error, never grey pixels.
        pixels = decode_jpeg(src, im.mode, im.size)
        if pixels is None:
            with quiet_pillow():
                im.load()  # LOAD_TRUNCATED_IMAGES is off in the pool: a cut file raises
            pixels = im.copy()
    with open(src, "rb") as f:
        original = f.read()
    header, _sos = _header(original)
    metadata = [seg for m, seg in header if _carried(m, seg, icc=True)]
    buffer = io.BytesIO()
    params = {"quality": int(quality), "optimize": True, "progressive": progressive}
    if sampling >= 0:
        params["subsampling"] = sampling
    pixels.info = {}
    pixels.save(buffer, "JPEG", **params)
    data = _splice(buffer.getvalue(), metadata, own_app0=not any(m == _APP0 for m, _ in header))
    _smaller(data, src, f"re-encoded at quality {quality}, it")
    return NewOriginal(len(data), _write(out, data), pixels.width, pixels.height)


def keep_optimized(
    src: str | os.PathLike, optimized: str | os.PathLike, out: str | os.PathLike, quality: int
) -> NewOriginal:
    """Write the optimized copy at `optimized` into `out` as the image to keep in place of
    the original at `src`, with the original's metadata (EXIF and XMP turned upright like
    the copy's pixels, IPTC, comments; no ICC profile: the copy is sRGB). A JPEG copy is
    kept byte for byte; a WebP copy is written again at `quality` with the metadata.
    Raises Kept for an animated original (the copy is one still), a transparent one whose
    copy is a JPEG (the copy is flattened), or when the copy is not smaller."""
    src, optimized, out = os.fspath(src), os.fspath(optimized), os.fspath(out)
    with open_image(src) as im:
        if getattr(im, "n_frames", 1) > 1 and im.format != "MPO":
            raise Kept("an animated image keeps its original (the optimized copy is one still)")
        transparent = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
        fmt = im.format
        info_exif, info_xmp = im.info.get("exif"), im.info.get("xmp")
    with open(optimized, "rb") as f:
        copy = f.read()
    is_jpeg = copy[:2] == b"\xff\xd8"
    if transparent and is_jpeg:
        raise Kept("a transparent image keeps its original (the JPEG copy has no transparency)")
    if fmt in ("JPEG", "MPO"):
        with open(src, "rb") as f:
            header, _sos = _header(f.read())
        app1 = [seg for m, seg in header if _carried(m, seg, icc=False) and m != _APP0]
        metadata = [s for s in (_upright_segment(seg) if seg[1] == 0xE1 else seg for seg in app1) if s]
    else:
        metadata = []
        exif = info_exif if isinstance(info_exif, bytes) else None
        if exif:
            tiff = upright_exif(exif.removeprefix(_EXIF))
            metadata.append(_segment(0xE1, _EXIF + tiff) if tiff else None)
        xmp = info_xmp.encode() if isinstance(info_xmp, str) else info_xmp
        if isinstance(xmp, bytes) and xmp:
            metadata.append(_segment(0xE1, _XMP + _upright_xmp(xmp)))
        metadata = [s for s in metadata if s]
    if is_jpeg:
        data = _splice(copy, metadata, own_app0=True)
    else:
        data = _webp_with(copy, metadata, quality)
    _smaller(data, src, "the optimized copy")
    with Image.open(io.BytesIO(data)) as kept:
        width, height = kept.size
    return NewOriginal(len(data), _write(out, data), width, height)


def _webp_with(copy: bytes, metadata: list[bytes], quality: int) -> bytes:
    """A WebP copy written again with the EXIF and XMP of `metadata` (Pillow writes them
    as the container's chunks; IPTC and comments have no place in WebP)."""
    exif = next((s[4:] for s in metadata if s[4:].startswith(_EXIF)), b"")
    xmp = next((s[4 + len(_XMP):] for s in metadata if s[4:].startswith(_XMP)), b"")
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(copy)) as im:
        im.load()
        im.save(buffer, "WEBP", quality=int(quality), method=4, exif=exif, xmp=xmp)
    return buffer.getvalue()
