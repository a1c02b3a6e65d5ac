"""The pixel steps shared by derivatives (media/images.py) and watermarks (media/watermark.py):
upright by EXIF orientation and the user's rotation and flip, any decoded mode brought to
one that resizes well, colours to sRGB through the embedded ICC profile, fitting and
resizing (Lanczos-3, media/resample.py), the JPEG DCT scale to decode at.
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms

from media import resample

# EXIF orientation -> the transpose that shows the image upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# The user's extra rotation is clockwise; Pillow's ROTATE_n is counter-clockwise.
_ROTATE_CLOCKWISE = {
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}
_FLIP = {"horizontal": Image.Transpose.FLIP_LEFT_RIGHT, "vertical": Image.Transpose.FLIP_TOP_BOTTOM}


def fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if longest <= max_side:
        return size
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def normalize_mode(im: Image.Image) -> Image.Image:
    """Bring any decoded mode to one that resizes well: RGB, RGBA, L, LA or CMYK."""
    mode = im.mode
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        if mode in ("RGB", "L") and "transparency" in im.info:
            return im.convert("RGBA")
        return im
    if mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if transparent else "RGB")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grey: scale 0-65535 to 0-255 (a plain convert would clip at 255).
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "F":
        low, high = im.getextrema()
        span = (high - low) or 1
        return im.point(lambda v: (v - low) * (255 / span)).convert("L")
    if mode == "1":
        return im.convert("L")
    if mode == "RGBa":
        return im.convert("RGBA")
    if mode == "La":
        return im.convert("LA")
    if mode == "LAB":
        lab = ImageCms.createProfile("LAB")
        srgb = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(im, lab, srgb, outputMode="RGB")
    return im.convert("RGB")


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    description = ImageCms.getProfileDescription(profile) or ""
    return description.strip().lower().startswith("srgb")


def to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to sRGB RGB or RGBA, through the embedded ICC profile when there is one."""
    alpha = im.getchannel("A") if im.mode in ("RGBA", "LA") else None
    color = im.convert({"RGBA": "RGB", "LA": "L"}[im.mode]) if alpha is not None else im
    converted = None
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if not (color.mode == "RGB" and _is_srgb(profile)):
                converted = ImageCms.profileToProfile(
                    color,
                    profile,
                    ImageCms.createProfile("sRGB"),
                    renderingIntent=ImageCms.Intent.PERCEPTUAL,
                    outputMode="RGB",
                )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken or mismatched profile: show the numbers as they are
    if converted is None:
        converted = color if color.mode == "RGB" else color.convert("RGB")
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def apply_transforms(
    im: Image.Image, orientation: int, rotate: int, flip: str | None
) -> Image.Image:
    if orientation in _ORIENTATION_TRANSPOSE:
        im = im.transpose(_ORIENTATION_TRANSPOSE[orientation])
    if rotate:
        im = im.transpose(_ROTATE_CLOCKWISE[rotate])
    if flip:
        im = im.transpose(_FLIP[flip])
    return im


def resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    # Lanczos-3 with SIMD (media.resample): 5x faster than Pillow's bicubic and closer to a
    # full-decode Lanczos reference (docs/media-images.md).
    return resample.resize(im, size)


def dct_scale(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The JPEG DCT reduction (8, 4, 2 or 1) to decode at: the largest that still gives at
    least `target`, the rule Pillow's draft() follows. libjpeg-turbo also offers M/8 scales
    (3/8, 5/8, ...) closer to the target, but they decode more slowly (no SIMD: 143 ms at
    3/8 against 126 ms at 1/2 for a 24 MP photo) and leave the resize less to work with."""
    fits = min(size[0] // target[0], size[1] // target[1])
    return next(scale for scale in (8, 4, 2, 1) if scale <= max(fits, 1))
