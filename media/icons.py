"""Icon thumbnails for media without a picture: documents, archives, audio without art.

A rounded "paper" card with a folded corner, a coloured band per kind with the file's
extension on it ("PDF", "MP3", "TXT") and a simple glyph for the kind above it. Drawn
with Pillow at 4× and downsampled, which is how the edges get antialiased.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["KIND_COLOURS", "kind_of", "make_icon"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_SUPERSAMPLE = 4

KIND_COLOURS: dict[str, str] = {
    "pdf": "#d93025",
    "document": "#1a73e8",
    "spreadsheet": "#188038",
    "presentation": "#e8710a",
    "text": "#5f6368",
    "code": "#3c4043",
    "archive": "#b06000",
    "audio": "#9334e6",
    "video": "#c5221f",
    "image": "#12854a",
    "file": "#607d8b",
}

_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "pdf": ("pdf",),
    "document": ("doc", "docx", "odt", "rtf", "pages", "epub"),
    "spreadsheet": ("xls", "xlsx", "ods", "csv", "tsv", "numbers"),
    "presentation": ("ppt", "pptx", "odp", "key"),
    "text": ("txt", "md", "log", "nfo", "srt", "vtt"),
    "code": ("html", "htm", "xml", "json", "js", "css", "py", "svg", "yaml", "yml", "sh"),
    "archive": ("zip", "7z", "rar", "tar", "gz", "tgz", "bz2", "xz", "zst", "iso"),
    "audio": ("mp3", "m4a", "aac", "wav", "flac", "ogg", "oga", "opus", "wma", "aiff", "mid"),
    "video": ("mp4", "m4v", "mov", "mkv", "webm", "avi", "wmv", "flv", "mpg", "mpeg", "3gp"),
    "image": ("jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "tif", "tiff", "bmp", "raw"),
}
_KIND_BY_EXTENSION = {ext: kind for kind, exts in _EXTENSIONS.items() for ext in exts}


def kind_of(kind_or_extension: str) -> tuple[str, str]:
    """("pdf", "PDF") for "pdf", ".PDF" or "report.pdf"; ("audio", "AUDIO") for "audio"."""
    name = kind_or_extension.strip().lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else name
    if ext in KIND_COLOURS:
        return ext, ext.upper()
    return _KIND_BY_EXTENSION.get(ext, "file"), (ext.upper() or "FILE")


@lru_cache(maxsize=32)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / "DejaVuSans-Bold.ttf"
    if path.exists():
        return ImageFont.truetype(str(path), px)
    return ImageFont.load_default(px)  # Pillow ≥ 10.1 scales its built-in font


def _fitting_font(draw: ImageDraw.ImageDraw, text: str, max_w: int, max_h: int):
    px = max_h
    while px > 6:
        font = _font(px)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= max_w and bottom - top <= max_h:
            return font
        px = int(px * 0.9)
    return _font(6)


def _glyph(draw: ImageDraw.ImageDraw, kind: str, box: tuple[int, int, int, int], colour: str):
    """A small line drawing for the kind inside `box` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = x0 + w / 2, y0 + h / 2
    s = min(w, h)
    line = max(2, int(s * 0.06))
    if kind == "video":
        r = s * 0.32
        draw.polygon([(cx - r * 0.6, cy - r), (cx - r * 0.6, cy + r), (cx + r, cy)], fill=colour)
    elif kind == "audio":  # a quaver: note head and flagged stem
        head = s * 0.14
        hx, hy = cx - s * 0.12, cy + s * 0.22
        draw.ellipse([hx - head * 1.3, hy - head, hx + head * 1.3, hy + head], fill=colour)
        stem_x = hx + head * 1.15
        draw.line([(stem_x, hy), (stem_x, cy - s * 0.32)], fill=colour, width=line)
        draw.line(
            [(stem_x, cy - s * 0.32), (stem_x + s * 0.22, cy - s * 0.12)], fill=colour, width=line
        )
    elif kind == "image":
        draw.rectangle(
            [x0 + w * 0.1, y0 + h * 0.2, x1 - w * 0.1, y1 - h * 0.2], outline=colour, width=line
        )
        draw.polygon(
            [
                (x0 + w * 0.18, y1 - h * 0.26),
                (cx - w * 0.05, cy - h * 0.02),
                (cx + w * 0.12, y1 - h * 0.26),
            ],
            fill=colour,
        )
        draw.ellipse([cx + w * 0.12, y0 + h * 0.28, cx + w * 0.26, y0 + h * 0.42], fill=colour)
    elif kind == "archive":  # a zipper down the middle
        for i in range(6):
            y = y0 + h * 0.1 + i * h * 0.13
            dx = w * 0.08 if i % 2 else -w * 0.08
            draw.rectangle([cx + dx - w * 0.07, y, cx + dx + w * 0.07, y + h * 0.08], fill=colour)
    elif kind == "spreadsheet":
        for i in range(4):
            y = y0 + h * (0.15 + i * 0.2)
            draw.line([(x0 + w * 0.1, y), (x1 - w * 0.1, y)], fill=colour, width=line)
        for fx in (0.1, 0.4, 0.9):
            x = x0 + w * fx
            draw.line([(x, y0 + h * 0.15), (x, y0 + h * 0.75)], fill=colour, width=line)
    else:  # text lines, the last one shorter
        for i, length in enumerate((0.8, 0.8, 0.8, 0.8, 0.5)):
            y = y0 + h * (0.12 + i * 0.17)
            draw.line([(x0 + w * 0.1, y), (x0 + w * (0.1 + length), y)], fill=colour, width=line)


def make_icon(
    kind_or_extension: str,
    out_path: str | os.PathLike[str],
    size: int | tuple[int, int] = 256,
) -> Path:
    """Draw an icon thumbnail for a file kind or extension; the format follows out_path's suffix.

    Transparent around the card for PNG/WebP, a light grey background for JPEG.
    Written next to out_path and renamed into place.
    """
    width, height = (size, size) if isinstance(size, int) else size
    kind, label = kind_of(kind_or_extension)
    colour = KIND_COLOURS[kind]
    out_path = Path(out_path)
    opaque = out_path.suffix.lower() in (".jpg", ".jpeg")

    W, H = width * _SUPERSAMPLE, height * _SUPERSAMPLE
    background = (241, 243, 244, 255) if opaque else (0, 0, 0, 0)
    im = Image.new("RGBA", (W, H), background)
    draw = ImageDraw.Draw(im)

    card_h = H * 0.84
    card_w = min(W * 0.78, card_h * 0.78)
    x0, y0 = (W - card_w) / 2, (H - card_h) / 2
    x1, y1 = x0 + card_w, y0 + card_h
    radius = card_w * 0.08
    fold = card_w * 0.24
    shadow = max(2, H * 0.012)

    draw.rounded_rectangle([x0, y0 + shadow, x1, y1 + shadow], radius, fill=(0, 0, 0, 40))
    draw.rounded_rectangle(
        [x0, y0, x1, y1], radius, fill="white", outline="#dadce0", width=max(2, int(W * 0.006))
    )
    # the folded top-right corner: cut it away, then draw the flap
    draw.polygon([(x1 - fold, y0 - 1), (x1 + 1, y0 - 1), (x1 + 1, y0 + fold)], fill=background)
    draw.polygon([(x1 - fold, y0), (x1 - fold, y0 + fold), (x1, y0 + fold)], fill="#dadce0")

    band_h = card_h * 0.26
    band_y0 = y1 - band_h - card_h * 0.1
    draw.rectangle([x0, band_y0, x1, band_y0 + band_h], fill=colour)
    font = _fitting_font(draw, label[:5], int(card_w * 0.8), int(band_h * 0.6))
    draw.text(
        ((x0 + x1) / 2, band_y0 + band_h / 2), label[:5], font=font, fill="white", anchor="mm"
    )

    pad = card_w * 0.2
    _glyph(
        draw,
        kind,
        (int(x0 + pad), int(y0 + fold * 0.9), int(x1 - pad), int(band_y0 - pad * 0.4)),
        colour,
    )

    icon = im.resize((width, height), Image.Resampling.LANCZOS)
    tmp = out_path.with_name(out_path.name + ".part")
    try:
        if opaque:
            icon.convert("RGB").save(tmp, "JPEG", quality=90)
        else:
            icon.save(tmp, Image.registered_extensions().get(out_path.suffix.lower(), "PNG"))
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out_path
