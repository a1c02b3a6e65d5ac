"""Documents: a PDF's first page as a JPEG, and a text file's opening for a preview."""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path

from PIL import Image

from media.errors import CorruptMedia
from media.tools import Preview, partial_output, run_tool

__all__ = ["Preview", "read_text_preview", "render_pdf_first_page"]


async def render_pdf_first_page(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    dpi: int = 100,
    max_dimension: int = 2000,
    timeout: float = 30.0,
) -> Preview:
    """Render page 1 of a PDF to a JPEG with pdftoppm.

    `dpi` sets the resolution, but the long side is capped at `max_dimension`
    pixels: a hostile PDF can declare a page of 200 × 200 inches, which at 100 dpi
    would be a 400-megapixel bitmap. Raises ToolFailed (damaged or encrypted PDF),
    ToolTimedOut, or CorruptMedia if pdftoppm wrote nothing.
    """
    src = os.path.abspath(src)  # never starts with "-", so never read as an option
    info = await run_tool(["pdfinfo", "-f", "1", "-l", "1", src], timeout=timeout)
    args = ["pdftoppm", "-jpeg", "-jpegopt", "quality=85", "-f", "1", "-l", "1", "-singlefile"]
    args += _resolution(info.decode("utf-8", "replace"), dpi, max_dimension)
    with partial_output(dest, ".part.jpg") as tmp:
        # pdftoppm appends ".jpg" to the root it is given.
        root = tmp.with_name(tmp.name.removesuffix(".jpg"))
        await run_tool([*args, src, str(root)], timeout=timeout)
        try:
            with Image.open(tmp) as im:  # header only
                width, height = im.size
        except OSError as exc:
            raise CorruptMedia(f"pdftoppm wrote no readable page image: {exc}") from exc
    return Preview(Path(dest), width, height, "pdf_page")


_PAGE_SIZE = re.compile(r"^Page\s+1 size:\s+([\d.]+) x ([\d.]+) pts", re.MULTILINE)


def _resolution(pdfinfo: str, dpi: int, max_dimension: int) -> list[str]:
    """`-r dpi`, or `-scale-to` when page 1 at `dpi` would exceed `max_dimension`.

    The crop (-W/-H) is a hard cap on the bitmap in case pdfinfo's answer misleads
    (the last match is used: a title with a line break comes before the real one).
    """
    cap = ["-x", "0", "-y", "0", "-W", str(max_dimension), "-H", str(max_dimension)]
    matches = _PAGE_SIZE.findall(pdfinfo)
    if matches:
        w_pt, h_pt = matches[-1]
        if max(float(w_pt), float(h_pt)) * dpi / 72 <= max_dimension:  # points: 1/72 inch
            return ["-r", str(dpi), *cap]
    return ["-scale-to", str(max_dimension), *cap]


def read_text_preview(path: str | os.PathLike[str], max_bytes: int = 64 * 1024) -> str:
    """The first `max_bytes` of a text file as str: UTF-8, invalid bytes as U+FFFD.

    A character cut in half at the limit is dropped rather than shown as U+FFFD; a
    byte-order mark is removed and line ends become "\\n". NUL bytes become U+FFFD so
    a binary file misnamed .txt cannot truncate the string somewhere downstream.
    """
    with open(path, "rb") as f:
        data = f.read(max_bytes)
    text = codecs.getincrementaldecoder("utf-8-sig")("replace").decode(data, final=False)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
