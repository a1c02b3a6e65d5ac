"""Watermarks: pure functions that stamp text and/or a PNG onto an image and write it.

Run in the process pool (gallery.watermarks calls render_watermarked there). The text
font comes from the fonts installed with the product (Debian's fonts-dejavu-core, a
runtime package of `./atrium` and the Dockerfile); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from media.errors import MediaError
from media.images import image_orientation, open_image
from media.pixels import apply_transforms, fit, normalize_mode, resize

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
FONTS = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif.ttf",
    "mono": "DejaVuSansMono.ttf",
}
POSITIONS = (
    "top-left", "top", "top-right", "left", "center", "right",
    "bottom-left", "bottom", "bottom-right", "tiled",
)
MAX_STAMP_SIDE = 2000  # an uploaded watermark PNG may be at most this wide and high


@dataclass(frozen=True)
class WatermarkSpec:
    """What to stamp. Sizes and margin are % of the image's width; opacity 0-100."""

    text: str = ""
    font: str = "sans-bold"
    text_size: int = 5
    color: str = "#ffffff"
    opacity: int = 50
    position: str = "bottom-right"
    margin: int = 2
    image_path: str | None = None  # absolute path of the uploaded PNG
    image_width: int = 20
    image_opacity: int = 60
    image_position: str = "bottom-right"

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.image_path


class WatermarkError(MediaError):
    pass


def font_path(name: str) -> str:
    """The installed font file for a FONTS key; raises WatermarkError if it is not there."""
    file = FONTS.get(name)
    if file is None:
        raise WatermarkError(f"Unknown watermark font {name!r}.")
    for directory in FONT_DIRS:
        path = os.path.join(directory, file)
        if os.path.isfile(path):
            return path
    raise WatermarkError(f"The font {file} is not installed (Debian package fonts-dejavu-core).")


@lru_cache(maxsize=32)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(name), size)


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    try:
        if len(text) != 6:
            raise ValueError
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except ValueError:
        raise WatermarkError(f"The watermark colour {color!r} is not #rrggbb.") from None


def _with_opacity(stamp: Image.Image, opacity: int) -> Image.Image:
    alpha = stamp.getchannel("A").point(lambda a: a * max(0, min(opacity, 100)) // 100)
    stamp.putalpha(alpha)
    return stamp


@lru_cache(maxsize=16)  # a worker stamps image after image of the same width
def text_stamp(spec: WatermarkSpec, image_width: int) -> Image.Image:
    """The text as an RGBA image, sized to text_size % of image_width (cap height)."""
    size = max(6, image_width * spec.text_size // 100)
    room = image_width - 2 * (image_width * spec.margin // 100)
    for _ in range(2):
        font = _font(spec.font, size)
        # A thin dark outline keeps light text readable on light photos (and the reverse).
        stroke = max(1, size // 24)
        left, top, right, bottom = font.getbbox(spec.text, stroke_width=stroke)
        if right - left <= room or size <= 6:
            break
        # Too wide for the image: smaller, so all of it shows (none cropped off the edge).
        size = max(6, size * room // (right - left))
    stamp = Image.new("RGBA", (max(1, right - left), max(1, bottom - top)), (0, 0, 0, 0))
    rgb = _rgb(spec.color)
    outline = (0, 0, 0) if sum(rgb) > 384 else (255, 255, 255)
    ImageDraw.Draw(stamp).text(
        (-left, -top), spec.text, font=font, fill=rgb + (255,),
        stroke_width=stroke, stroke_fill=outline + (160,),
    )
    return _with_opacity(stamp, spec.opacity)


def load_stamp_image(path: str) -> Image.Image:
    """The uploaded watermark PNG as RGBA (checked small, so it cannot be a bomb)."""
    with open_image(path) as im:
        if im.format != "PNG":
            raise WatermarkError("The watermark image must be a PNG.")
        if max(im.size) > MAX_STAMP_SIDE:
            raise WatermarkError(f"The watermark image may be at most {MAX_STAMP_SIDE} pixels a side.")
        return im.convert("RGBA")


@lru_cache(maxsize=16)  # the PNG is named by its hash: the same path is the same image
def image_stamp(spec: WatermarkSpec, image_width: int) -> Image.Image:
    png = load_stamp_image(spec.image_path)
    width = max(1, image_width * spec.image_width // 100)
    height = max(1, round(png.height * width / png.width))
    stamp = png.resize((width, height), Image.Resampling.LANCZOS)
    return _with_opacity(stamp, spec.image_opacity)


def placements(
    size: tuple[int, int], stamp: tuple[int, int], position: str, margin: int
) -> list[tuple[int, int]]:
    """Top-left corners where the stamp goes: one for the 9 positions, a grid for tiled."""
    width, height = size
    sw, sh = stamp
    if position == "tiled":
        step_x, step_y = sw + max(margin, sw // 2), sh + max(margin, sh * 2)
        spots = []
        for row, y in enumerate(range(margin, height, step_y)):
            offset = -(step_x // 2) if row % 2 else 0  # brick pattern: no clear column
            spots.extend((x, y) for x in range(margin + offset, width, step_x))
        return spots
    if position not in POSITIONS:
        raise WatermarkError(f"Unknown watermark position {position!r}.")
    vertical, _, horizontal = position.partition("-") if "-" in position else (position, "", position)
    x = {"left": margin, "right": width - sw - margin}.get(horizontal, (width - sw) // 2)
    y = {"top": margin, "bottom": height - sh - margin}.get(vertical, (height - sh) // 2)
    return [(x, y)]


def apply_watermark(im: Image.Image, spec: WatermarkSpec) -> Image.Image:
    """Stamp `spec` onto `im` (RGB or RGBA) in place, only where the stamps fall."""
    margin = im.width * spec.margin // 100
    layers = []
    if spec.text.strip():
        layers.append((text_stamp(spec, im.width), spec.position))
    if spec.image_path:
        layers.append((image_stamp(spec, im.width), spec.image_position))
    for stamp, position in layers:
        alpha = stamp.getchannel("A")
        colour = stamp.convert(im.mode) if im.mode != "RGBA" else stamp
        for spot in placements(im.size, stamp.size, position, margin):
            # paste with a mask blends only the stamp's box: no full-image RGBA copy.
            im.paste(colour, spot, mask=alpha)
    return im


def render_watermarked(
    src_path: str,
    out_path: str,
    spec: WatermarkSpec,
    *,
    max_side: int | None,
    fmt: str = "jpeg",
    quality: int = 85,
    upright: bool = False,
    rotate: int = 0,
    flip: str | None = None,
) -> dict:
    """Decode src_path, fit it into max_side (None: full size), stamp it, write out_path
    atomically (a temporary file renamed into place). `upright`: apply the EXIF orientation
    and rotate/flip (an original as source; derivatives are upright already).
    Returns {"width", "height", "size"}."""
    if spec.empty:
        raise WatermarkError("The watermark has neither text nor an image.")
    with open_image(src_path) as im:
        orientation = image_orientation(im) if upright else 1
        if max_side and im.format == "JPEG":
            im.draft("RGB", fit(im.size, max_side))  # decode at DCT scale when it suffices
        im = normalize_mode(im)
        if im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.mode else "RGB")
        if upright:
            im = apply_transforms(im, orientation, rotate % 360, flip)
        if max_side:
            im = resize(im, fit(im.size, max_side))
        im = im.copy() if im.readonly else im
        apply_watermark(im, spec)
        if fmt == "jpeg" and im.mode == "RGBA":
            flat = Image.new("RGB", im.size, (255, 255, 255))
            flat.paste(im, mask=im.getchannel("A"))
            im = flat
        params = (
            {"format": "JPEG", "quality": quality}
            if fmt == "jpeg"
            else {"format": "WEBP", "quality": quality, "method": 4}
        )
        im.info = {}
        directory = os.path.dirname(out_path)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".wm-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                im.save(f, **params)
            os.replace(tmp, out_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return {"width": im.width, "height": im.height, "size": os.path.getsize(out_path)}


def preview(src_path: str, spec: WatermarkSpec, max_side: int = 960) -> bytes:
    """A JPEG of the sample image with the watermark, for the settings page's preview."""
    import io

    with open_image(src_path) as im:
        im = normalize_mode(im).convert("RGB")
        im = resize(im, fit(im.size, max_side))
        im = im.copy() if im.readonly else im
        if not spec.empty:
            apply_watermark(im, spec)
        buffer = io.BytesIO()
        im.save(buffer, "JPEG", quality=85)
        return buffer.getvalue()
