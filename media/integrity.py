"""Incomplete image data, found before it becomes invented pixels.

Decoders are lenient where we must not be: libheif decodes a cut-off HEIC into an image
whose missing part is solid green, and libjpeg finishes a JPEG whose scan data stops at an
early end marker with a grey band, each with at most a warning nobody sees. A gallery would
show those as ready photos. Here:

- HEIF/AVIF: the boxes of the file and the extents of every item in `iloc` must lie
  within the file (`check_isobmff_complete`), read from the headers only;
- JPEG: the pixels are decoded by libjpeg-turbo (simplejpeg) with its warnings raised, at
  the same DCT scale Pillow's draft would use, so the check costs no second decode
  (`decode_jpeg`); warnings that mean missing or damaged scan data fail the image; after
  a harmless one (extraneous bytes before a marker) Pillow decodes the file as before.

Synchronous, for the media process pool.
"""

from __future__ import annotations

import mmap
import os
import struct

from PIL import Image

from media.errors import CorruptMedia, clip

MAX_META_BYTES = 16 << 20  # a HEIF's meta box: item tables, EXIF, XMP; never this big
_MAX_BOXES = 10_000
_MAX_EXTENTS = 100_000  # a phone's HEIC has a few hundred (one per grid tile)

# libjpeg warnings (jerror.h) after which the decoded pixels are partly made up. Others
# (extraneous bytes before a marker, an unknown JFIF revision, odd progression or SOS
# parameters some encoders write) leave a good image and are Pillow's to decode as before.
_DATA_LOST = (
    "premature end",  # JWRN_HIT_MARKER, JWRN_JPEG_EOF: the scan data stops early
    "bad huffman code",  # JWRN_HUFF_BAD_CODE
    "bad arithmetic code",  # JWRN_ARITH_BAD_CODE
    "instead of rst",  # JWRN_MUST_RESYNC: data between restart markers is lost
)


# ---------------------------------------------------------------- HEIF / AVIF


def _boxes(data, start: int, end: int):
    """(type, payload start, box end) of the boxes in data[start:end]; a box that claims
    to reach past `end` is yielded with its claimed end (the caller decides)."""
    at = start
    for _ in range(_MAX_BOXES):
        if at + 8 > end:
            return
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                yield kind, at + 16, at + 16 + 1  # header itself cut off
                return
            size = struct.unpack_from(">Q", data, at + 8)[0]
            header = 16
        elif size == 0:
            size = end - at  # "to the end of the file"
        if size < header:
            raise CorruptMedia(f"The image file is damaged (a {_name(kind)} box of {size} bytes).")
        yield kind, at + header, at + size
        at += size


def _name(kind: bytes) -> str:
    return repr(kind.decode("latin-1"))


def _uint(data, at: int, size: int) -> int:
    if size == 0:
        return 0
    return int.from_bytes(data[at : at + size], "big")


def _iloc_extents(data, start: int, end: int):
    """(item id, file offset, length) of every extent stored in the file itself."""
    version = data[start]
    at = start + 4
    sizes = data[at] >> 4, data[at] & 0x0F, data[at + 1] >> 4, data[at + 1] & 0x0F
    offset_size, length_size, base_size, index_size = sizes
    if version == 0:
        index_size = 0
    at += 2
    count_size = 4 if version == 2 else 2
    items = _uint(data, at, count_size)
    at += count_size
    seen = 0
    for _ in range(items):
        if at > end:
            break
        item = _uint(data, at, count_size)
        at += count_size
        method = 0
        if version in (1, 2):
            method = _uint(data, at, 2) & 0x0F
            at += 2
        at += 2  # data_reference_index
        base = _uint(data, at, base_size)
        at += base_size
        extents = _uint(data, at, 2)
        at += 2
        seen += extents
        if seen > _MAX_EXTENTS:  # with zero-sized fields nothing else would stop the loop
            raise CorruptMedia("The image file is damaged (its item table is implausibly long).")
        for _ in range(extents):
            at += index_size
            offset = _uint(data, at, offset_size)
            at += offset_size
            length = _uint(data, at, length_size)
            at += length_size
            if method == 0:  # 1: inside the meta box's idat, 2: another item's data
                yield item, base + offset, length
    if at > end:
        raise CorruptMedia("The image file is damaged (its item locations are cut off).")


def check_isobmff_complete(path: str | os.PathLike) -> None:
    """Raise CorruptMedia unless every box and every item's data of a HEIF/AVIF file lie
    within the file. Reads the box headers and the meta box only."""
    with open(path, "rb") as f:
        total = os.fstat(f.fileno()).st_size
        if total == 0:
            raise CorruptMedia("The file is empty.")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            meta = None
            for kind, payload, box_end in _boxes(data, 0, total):
                if box_end > total:
                    raise CorruptMedia(_cut(total, box_end))
                if kind == b"meta":
                    meta = (payload, box_end)
            if meta is None:
                return  # not ours to judge: the decoder says what is missing
            start, end = meta
            if end - start > MAX_META_BYTES:
                raise CorruptMedia("The image file is damaged (its metadata box is too large).")
            for kind, payload, box_end in _boxes(data, start + 4, end):  # meta is a FullBox
                if box_end > end:
                    raise CorruptMedia("The image file is damaged (a box overruns its metadata).")
                if kind == b"iloc":
                    try:
                        extents = list(_iloc_extents(data, payload, box_end))
                    except IndexError as exc:
                        raise CorruptMedia(
                            "The image file is damaged (its item locations are cut off)."
                        ) from exc
                    for _item, offset, length in extents:
                        if offset + length > total or (length == 0 and offset > total):
                            raise CorruptMedia(_cut(total, offset + length))


def _cut(total: int, needed: int) -> str:
    return (
        f"The image data is incomplete: the file ends after {total:,} bytes but its "
        f"image data reaches {needed:,} bytes (an interrupted upload or copy?)."
    )


# ---------------------------------------------------------------- JPEG


def decode_jpeg(path: str | os.PathLike, mode: str, size: tuple[int, int]) -> Image.Image | None:
    """The pixels of an RGB or greyscale JPEG, decoded at the smallest DCT scale that is
    at least `size`; CorruptMedia when libjpeg reports lost scan data. None when Pillow
    is to decode the file as before: CMYK (Adobe's inverted CMYK is Pillow's to read;
    its scan data is checked here first, at 1/8 scale), or an error that is not about
    lost data (a harmless warning, or one Pillow will report itself)."""
    colorspace = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK"}.get(mode)
    if colorspace is None:
        return None
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if colorspace == "CMYK":
            _strict_decode(data, colorspace, (1, 1))
            return None
        pixels = _strict_decode(data, colorspace, size)
    if pixels is None:
        return None
    if colorspace == "GRAY":
        pixels = pixels[:, :, 0]
    return Image.fromarray(pixels)


def _strict_decode(data, colorspace: str, size: tuple[int, int]):
    import simplejpeg

    try:
        return simplejpeg.decode_jpeg(
            data, colorspace=colorspace, min_width=size[0], min_height=size[1], strict=True
        )
    except ValueError as exc:
        message = clip(str(exc), 200)
        if any(sign in message.lower() for sign in _DATA_LOST):
            raise CorruptMedia(
                f"The image is damaged or incomplete: its compressed data ends early or "
                f"is broken ({message})."
            ) from exc
        return None  # a harmless warning or an error: Pillow decodes (and judges) it
