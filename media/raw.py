"""Camera RAW files (CR2, NEF, ARW, DNG, ORF, RAF, PEF): a JPEG to make derivatives from,
and the camera's EXIF.

The picture comes from the JPEG preview the camera embedded when it is large enough (fast,
and the camera's own rendering), else from a LibRaw decode through `rawpy` (half size when
that still covers the optimized copy). Both run in the process pool. EXIF is read from the
file's TIFF directories with Pillow's reader (no pixels), and turned into the fields every
image gets by media.metadata; so are the XMP packet (tag 700: title, caption, keywords,
rating...) and the IPTC-IIM block (tag 33723) that photo managers write into IFD0.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, ImageOps

from media.errors import CorruptMedia, MediaTooLarge, clip
from media.images import check_pixels, quiet_pillow
from media.metadata import (
    CameraInfo,
    ImageMetadata,
    IptcInfo,
    XmpInfo,
    _read_camera,
    _read_gps,
    _safely,
)
from media.metadata_blocks import iptc_from_block, xmp_from_packet

_XMP_TAG = 700
_IPTC_TAG = 33723
from media.tools import Preview

__all__ = ["make_raw_preview", "read_raw_metadata"]

# LibRaw's flip code -> the transpose that shows its embedded preview upright (a decode
# through postprocess() is upright already).
_FLIP = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90, 6: Image.Transpose.ROTATE_270}


def _open(path: str):
    import rawpy

    try:
        raw = rawpy.imread(path)
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise CorruptMedia(f"This is not a camera RAW file LibRaw can read ({clip(exc, 200)}).") from exc
    sizes = raw.sizes
    try:
        check_pixels((sizes.raw_width, sizes.raw_height))
    except MediaTooLarge:
        raw.close()
        raise
    return raw


def _upright(sizes) -> tuple[int, int]:
    return (sizes.height, sizes.width) if sizes.flip in (5, 6) else (sizes.width, sizes.height)


def _embedded(raw, min_side: int) -> Image.Image | None:
    """The camera's own preview, upright, when it has a long side of at least `min_side`."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, ValueError):
        return None  # no preview, or one LibRaw cannot read: decode instead
    try:
        with quiet_pillow():
            if thumb.format == rawpy.ThumbFormat.JPEG:
                im = Image.open(io.BytesIO(thumb.data), formats=("JPEG",))
                check_pixels(im.size)
                im.load()
            else:
                im = Image.fromarray(thumb.data)
    except MediaTooLarge:
        raise
    except Exception:  # noqa: BLE001
        return None  # a damaged preview: the raw data may still decode
    if max(im.size) < min_side:
        return None
    if (im.getexif().get(0x0112) or 1) != 1:
        return ImageOps.exif_transpose(im)
    transpose = _FLIP.get(raw.sizes.flip)
    # The preview is stored as the sensor reads; the RAW's orientation turns it upright.
    return im.transpose(transpose) if transpose is not None else im


def make_raw_preview(src: str | os.PathLike, dest: str | os.PathLike, max_side: int) -> Preview:
    """Write a JPEG of the RAW file at `src` to `dest` (long side at most about `max_side`
    pixels, more when the camera's preview is larger). Raises CorruptMedia, MediaTooLarge."""
    import rawpy

    src, dest = os.fspath(src), Path(dest)
    with _open(src) as raw:
        width, height = _upright(raw.sizes)
        im = _embedded(raw, min(max_side, max(width, height)))
        source = "embedded_preview"
        if im is None:
            source = "raw_decode"
            half = max(width, height) // 2 >= max_side  # each 2×2 Bayer cell as one pixel
            try:
                pixels = raw.postprocess(use_camera_wb=True, half_size=half, output_bps=8)
            except MemoryError as exc:
                raise MediaTooLarge("The RAW file needs more memory than a worker has.") from exc
            except (rawpy.LibRawError, ValueError) as exc:
                raise CorruptMedia(f"The RAW data cannot be decoded ({clip(exc, 200)}).") from exc
            im = Image.fromarray(pixels)
    tmp = dest.with_name(dest.name + ".part")
    try:
        im.convert("RGB").save(tmp, "JPEG", quality=92)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Preview(dest, im.width, im.height, source)


def read_raw_metadata(path: str | os.PathLike) -> ImageMetadata:
    """Camera fields and GPS of a RAW file; its size as LibRaw reports it, shown upright."""
    path = os.fspath(path)
    with _open(path) as raw:
        width, height = _upright(raw.sizes)
    metadata = ImageMetadata(
        format="RAW", camera=CameraInfo(), gps=None, iptc=IptcInfo(), xmp=XmpInfo()
    )
    with open(path, "rb") as f:
        if f.read(4) in (b"II*\0", b"MM\0*"):  # TIFF-based (all but RAF): IFD0 and its Exif IFD
            f.seek(0)
            exif = Image.Exif()
            with quiet_pillow():
                try:
                    exif.load_from_fp(f)
                except Exception:  # noqa: BLE001  damaged directories: the picture still counts
                    exif = None
                if exif is not None:
                    _safely(_read_camera, exif, metadata)
                    metadata.gps = _safely(_read_gps, exif)
                    _read_blocks(exif, metadata)
    metadata.camera.orientation = None  # the derivatives are made upright
    metadata.camera.width, metadata.camera.height = width, height
    return metadata


def _read_blocks(exif: Image.Exif, metadata: ImageMetadata) -> None:
    """IFD0's XMP packet and IPTC block. The IPTC block is read from the directory's raw
    bytes (Pillow's `_tagdata`, as its own getiptcinfo does): writers type it LONG, so its
    decoded value is a list of numbers, not the block."""
    packet = _safely(exif.get, _XMP_TAG)
    if isinstance(packet, bytes):
        metadata.xmp = _safely(xmp_from_packet, packet) or XmpInfo()
    directory = getattr(exif, "_info", None)
    block = getattr(directory, "_tagdata", {}).get(_IPTC_TAG) if directory is not None else None
    if isinstance(block, bytes):
        metadata.iptc = _safely(iptc_from_block, block) or IptcInfo()
