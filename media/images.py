"""Thumbnails and web-optimized copies of images: paths in, a dataclass out.

Everything here is synchronous and runs in the media process pool (see media.pool).
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from PIL import Image, UnidentifiedImageError

from media.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia, clip
from media.integrity import check_isobmff_complete, decode_jpeg
from media.pixels import apply_transforms, dct_scale, fit, normalize_mode, resize, to_srgb

# Formats Pillow may use to open a user's file. Naming them keeps Pillow's rarer
# decoders (and their attack surface) out, and stops random bytes from "opening" as TGA.
# (A multi-picture JPEG opens through the JPEG plugin and reports itself as "MPO".)
# PSD: the flattened composite a Photoshop file carries (its layers are never read).
OPEN_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "HEIF", "BMP", "AVIF", "PSD")
# What a browser shows as is; anything else always gets an optimized copy.
BROWSER_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP"})

ORIENTATION_TAG = 0x0112
_EXTENSIONS = {"jpeg": "jpg", "webp": "webp"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_EXIF_BYTES = 1 << 20
_MAX_PNG_CHUNKS = 200_000

_open_formats: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DerivativeSpec:
    """How to make one derivative: longest side in pixels, "jpeg" or "webp", quality 1-100."""

    max_side: int
    format: str = "jpeg"
    quality: int = 85

    def __post_init__(self) -> None:
        if self.max_side < 1:
            raise ValueError(f"max_side must be positive, not {self.max_side}")
        if self.format not in _EXTENSIONS:
            raise ValueError(f"format must be 'jpeg' or 'webp', not {self.format!r}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be 1-100, not {self.quality}")

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.format]


@dataclass(frozen=True)
class ImageDerivatives:
    """What make_image_derivatives wrote. width/height: the original, upright (EXIF orientation)."""

    width: int
    height: int
    thumbnail_path: str
    thumbnail_width: int
    thumbnail_height: int
    optimized_path: str | None
    optimized_width: int | None
    optimized_height: int | None

    def to_dict(self) -> dict:
        return asdict(self)


def _formats() -> tuple[str, ...]:
    """OPEN_FORMATS that this Pillow build can open (HEIF registered on first use)."""
    global _open_formats
    if _open_formats is None:
        import pillow_heif

        pillow_heif.register_heif_opener()
        Image.init()
        _open_formats = tuple(f for f in OPEN_FORMATS if f in Image.OPEN)
    return _open_formats


def _why(exc: BaseException) -> str:
    return clip(str(exc), 200) or type(exc).__name__


def _is_filesystem_error(exc: BaseException) -> bool:
    # Pillow reports bad data as OSError without errno; a real I/O failure has one and
    # is worth retrying, so it is not turned into CorruptMedia.
    return isinstance(exc, OSError) and exc.errno is not None


def _not_an_image(path: str) -> MediaError:
    from media.sniff import sniff

    try:
        found = sniff(path)
    except MediaError:
        return CorruptMedia("The file is not an image this gallery can read.")
    if found.kind == "image" and found.mime != "image/svg+xml":
        return CorruptMedia(
            f"The file looks like {found.mime} ({found.summary}) but cannot be decoded."
        )
    return UnsupportedMedia(f"This file is {found.mime} ({found.summary}), not an image.")


def _too_large(exc: Exception) -> MediaTooLarge:
    # Pillow's own check fired inside Image.open: say the same as check_pixels would.
    found = re.search(r"\((\d+) pixels\)", str(exc))
    limit = Image.MAX_IMAGE_PIXELS or 0
    if not found:
        return MediaTooLarge(f"The image is too large to process ({_why(exc)}).")
    return MediaTooLarge(
        f"The image has {int(found[1]) / 1e6:.0f} megapixels; "
        f"the limit is {limit / 1e6:.0f} megapixels."
    )


def check_pixels(size: tuple[int, int]) -> None:
    """Raise MediaTooLarge when width x height exceeds the bomb limit in effect."""
    width, height = size
    if width < 1 or height < 1:
        raise CorruptMedia(f"The image declares an impossible size of {width}×{height} pixels.")
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise MediaTooLarge(
            f"The image is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {limit / 1e6:.0f} megapixels."
        )


@contextlib.contextmanager
def open_image(path: str | os.PathLike) -> Iterator[Image.Image]:
    """Open an image without decoding its pixels, with the size checked against the bomb limit.

    Raises CorruptMedia / UnsupportedMedia / MediaTooLarge, never a Pillow error.
    """
    formats = _formats()
    path = os.fspath(path)
    if os.path.getsize(path) == 0:
        raise CorruptMedia("The file is empty.")
    try:
        with quiet_pillow():
            im = Image.open(path, formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(exc) from exc
    except UnidentifiedImageError as exc:
        raise _not_an_image(path) from exc
    except Exception as exc:
        if _is_filesystem_error(exc):
            raise
        raise CorruptMedia(f"The image cannot be read ({_why(exc)}).") from exc
    with im:
        check_pixels(im.size)
        yield im


@contextlib.contextmanager
def quiet_pillow() -> Iterator[None]:
    """Pillow warns (UserWarning) about damaged EXIF; we read what we can instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _png_exif_chunk(path: str) -> bytes | None:
    # Pillow's PNG getexif() decodes the whole image to find an eXIf chunk written
    # after the pixel data; walking the chunk headers finds it without inflating anything.
    with open(path, "rb") as f:
        if f.read(8) != _PNG_SIGNATURE:
            return None
        for _ in range(_MAX_PNG_CHUNKS):
            header = f.read(8)
            if len(header) < 8:
                return None
            length, kind = struct.unpack(">I4s", header)
            if kind == b"eXIf":
                if length > _MAX_EXIF_BYTES:
                    return None
                data = f.read(length)
                return data if len(data) == length else None
            if kind == b"IEND":
                return None
            f.seek(length + 4, os.SEEK_CUR)
    return None


def read_exif(im: Image.Image) -> Image.Exif:
    """The image's EXIF without decoding pixels (also for PNG); empty when unreadable."""
    with quiet_pillow():
        try:
            if im.format == "PNG" and "exif" not in im.info:
                exif = Image.Exif()
                data = _png_exif_chunk(im.filename) if getattr(im, "filename", "") else None
                if data:
                    exif.load(data)
                return exif
            return im.getexif()
        except Exception as exc:
            if _is_filesystem_error(exc):
                raise
            return Image.Exif()


# Decoders that already return upright pixels (and report the upright size at open), so
# the orientation is decided per format, never applied a second time:
# - HEIF: libheif applies the container's irot/imir (pillow-heif resets EXIF to 1);
# - TIFF: Pillow's reader swaps the size in _setup() and runs ImageOps.exif_transpose at
#   the end of load() (tag 274 is gone from getexif() afterwards).
# JPEG/MPO, PNG, WebP, GIF, BMP and AVIF (whose reader writes irot/imir into the EXIF tag)
# return the pixels as stored: the tag is still to be applied.
DECODER_ORIENTS = frozenset({"HEIF", "TIFF"})


def image_orientation(im: Image.Image) -> int:
    """EXIF orientation 1-8 still to be applied to the decoded pixels (1 = upright)."""
    if im.format in DECODER_ORIENTS:
        return 1
    try:
        value = int(read_exif(im).get(ORIENTATION_TAG) or 1)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation >= 5 else size


def image_dimensions(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) as the image is shown upright, without decoding pixels."""
    with open_image(path) as im:
        return _upright_size(im.size, image_orientation(im))


def _write_temp(im: Image.Image, spec: DerivativeSpec, out_dir: str, stem: str) -> str:
    """Encode to a hidden temporary file in out_dir; the caller fsyncs it (_fsync) and
    renames it into place."""
    if spec.format == "jpeg":
        if im.mode == "RGBA":
            flat = Image.new("RGB", im.size, (255, 255, 255))
            flat.paste(im, mask=im.getchannel("A"))
            im = flat
        params = {"format": "JPEG", "quality": spec.quality}
    else:
        params = {"format": "WEBP", "quality": spec.quality, "method": 4}
    im.info = {}  # nothing from the original (comment, EXIF, XMP, ICC) rides along
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            im.save(f, **params)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _fsync(path: str) -> None:
    # Both derivatives are written first and then fsynced one after the other: the
    # second fsync finds the journal already committed by the first (wall time for the
    # pair measured 11.9 instead of 14.7 ms, median; a worker waiting here is idle).
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(out_dir: str, stem: str, keep: str | None) -> None:
    for ext in _EXTENSIONS.values():
        name = f"{stem}.{ext}"
        if name != keep:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(out_dir, name))


def make_image_derivatives(
    src_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    thumbnail: DerivativeSpec,
    optimized: DerivativeSpec,
    *,
    always_optimize: bool = False,
    rotate: int = 0,
    flip: str | None = None,
) -> ImageDerivatives:
    """Write thumbnail.<ext> (and optimized.<ext> when needed) into out_dir.

    Decodes once, at JPEG DCT scale when that suffices. The optimized copy is made when
    the original is larger than optimized.max_side, is not a browser format, or a
    rotation/flip/always_optimize asks for it; otherwise optimized_path is None.
    rotate is clockwise degrees (0/90/180/270), flip "horizontal" or "vertical".
    """
    rotate = rotate % 360
    if rotate not in (0, 90, 180, 270):
        raise ValueError(f"rotate must be a multiple of 90 degrees, not {rotate}")
    if flip not in (None, "horizontal", "vertical"):
        raise ValueError(f"flip must be 'horizontal' or 'vertical', not {flip!r}")
    src_path = os.fspath(src_path)
    out_dir = os.fspath(out_dir)

    with open_image(src_path) as im:
        orientation = image_orientation(im)
        raw_size = im.size
        width, height = _upright_size(raw_size, orientation)
        make_optimized = bool(
            always_optimize
            or rotate
            or flip
            or im.format not in BROWSER_FORMATS
            or im.mode == "CMYK"  # browsers disagree on CMYK JPEG colours
            or max(width, height) > optimized.max_side
        )
        largest = optimized.max_side if make_optimized else thumbnail.max_side
        # The longest side does not change under rotation, so the target can be computed
        # on the stored (unrotated) pixels that the decoder sees.
        target = fit(raw_size, largest)
        try:
            with quiet_pillow():
                icc = im.info.get("icc_profile")
                decoded = None
                if im.format in ("HEIF", "AVIF"):
                    check_isobmff_complete(src_path)  # libheif would invent what is missing
                elif im.format in ("JPEG", "MPO"):
                    # libjpeg-turbo at DCT scale with its warnings heard (media.integrity).
                    scale = dct_scale(raw_size, target)
                    scaled = (-(-raw_size[0] // scale), -(-raw_size[1] // scale))
                    decoded = decode_jpeg(src_path, im.mode, scaled)
                if decoded is None:
                    if target != raw_size:
                        # JPEG: decode at 1/2, 1/4 or 1/8 scale, never below target; HEIF:
                        # an embedded thumbnail if one is large enough; others: no-op.
                        im.draft("RGB", target)
                    im.load()
                    decoded = im
                # Resize first, then colour-convert and turn the (smaller) result upright.
                big = resize(normalize_mode(decoded), target)
                if big is im:
                    big = im.copy()  # closing the file below would discard im's pixels
            big = apply_transforms(to_srgb(big, icc), orientation, rotate, flip)
            small = resize(big, fit(big.size, thumbnail.max_side))
        except MediaError:
            raise
        except MemoryError as exc:
            raise MediaTooLarge("The image needs more memory than a worker has.") from exc
        except Exception as exc:
            if _is_filesystem_error(exc):
                raise
            raise CorruptMedia(f"The image is damaged or incomplete ({_why(exc)}).") from exc

    temps: list[str] = []
    try:
        opt_tmp = _write_temp(big, optimized, out_dir, "optimized") if make_optimized else None
        if opt_tmp:
            temps.append(opt_tmp)
        thumb_tmp = _write_temp(small, thumbnail, out_dir, "thumbnail")
        temps.append(thumb_tmp)
        for tmp in temps:
            _fsync(tmp)  # on disk before the rename makes it the derivative
        thumb_name = f"thumbnail.{thumbnail.extension}"
        opt_name = f"optimized.{optimized.extension}" if make_optimized else None
        if opt_tmp:
            os.replace(opt_tmp, os.path.join(out_dir, opt_name))
        os.replace(thumb_tmp, os.path.join(out_dir, thumb_name))
        temps.clear()
    except Exception as exc:
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if _is_filesystem_error(exc) or isinstance(exc, MediaError):
            raise
        raise CorruptMedia(f"The derivative could not be encoded ({_why(exc)}).") from exc

    _remove_stale(out_dir, "thumbnail", thumb_name)
    _remove_stale(out_dir, "optimized", opt_name)
    return ImageDerivatives(
        width=width,
        height=height,
        thumbnail_path=os.path.join(out_dir, thumb_name),
        thumbnail_width=small.width,
        thumbnail_height=small.height,
        optimized_path=os.path.join(out_dir, opt_name) if opt_name else None,
        optimized_width=big.width if opt_name else None,
        optimized_height=big.height if opt_name else None,
    )
