"""What the media page shows for a media object that is not a plain image.

`viewer_context()` gathers, off the event loop, what templates/media/viewer.html needs:
which player (video, audio, pdf, an Office file's first page, text, or a download card), its sources, the state of a
web copy being made (gallery.processing.transcoding) and, for a text file, its opening (escaped by
the template, never marked safe). The media page handler passes the result to the
template as `viewer`.
"""

from __future__ import annotations

import asyncio

from gallery.settings import BY_KEY
from media.sniff import OFFICE_MIMES
from storage.root import StorageError

#: How much of a text file the page shows.
TEXT_PREVIEW_BYTES = 64 * 1024
#: Text types shown as text. Anything else textual (HTML, SVG, XML) is a download card:
#: escaped source is safe, but people expect those to be opened, not read.
TEXT_MIMES = ("text/plain", "text/csv", "text/markdown")
PREPARING = ("pending", "running")


async def _text_preview(ctx, media: dict) -> tuple[str | None, bool]:
    """(the file's opening, whether there is more) or (None, False) if it cannot be read."""
    from media.documents import read_text_preview

    relative = (media.get("original") or {}).get("path")
    if not relative:
        return None, False
    try:
        path = ctx.storage.resolve(relative)
        text = await asyncio.to_thread(read_text_preview, path, TEXT_PREVIEW_BYTES)
        size = (await asyncio.to_thread(path.stat)).st_size
    except (OSError, StorageError):
        return None, False
    return text, size > TEXT_PREVIEW_BYTES


def type_name(media: dict) -> str:
    """The file's type in words for the download card ("Word (DOCX)", "STL"): a MIME type
    such as application/vnd.openxmlformats-officedocument.wordprocessingml.document means
    nothing to a visitor (and does not fit a phone's width)."""
    ext = (media.get("extension") or "").lower()
    types = BY_KEY["allowed_extensions"]
    return types.choice_label(ext) if ext in types.choices else ext.upper()


def _player_kind(media: dict) -> str:
    kind, mime = media.get("kind"), (media.get("mime") or "").split(";")[0]
    if kind in ("video", "audio") and media.get("state") != "failed":
        return kind
    if mime == "application/pdf":
        return "pdf"
    if mime in TEXT_MIMES:
        return "text"
    if mime in OFFICE_MIMES and (media.get("derivatives") or {}).get("optimized"):
        return "page"  # page 1 drawn by LibreOffice (gallery/processing/av.py)
    return "file"


async def viewer_context(
    ctx, media: dict, settings: dict, *, may_view_original: bool | None = None
) -> dict:
    """The player or preview of a non-image media object, for templates/media/viewer.html.

    `may_view_original` (when the caller knows it) decides between a PDF shown inline
    and its first page as an image; when None the template's `may_original` decides.
    """
    derivatives = media.get("derivatives") or {}
    web = derivatives.get("web") or {}
    transcode = media.get("transcode") or {}
    state = transcode.get("state") or "none"
    kind = _player_kind(media)
    context = {
        "kind": kind,
        "has_web_copy": bool(web),
        # The copy replaces the original at the same URL: a query that changes with it
        # keeps a cached response of the original from being played instead.
        "web_version": str(web.get("size") or "original"),
        "web_mime": web.get("mime") or media.get("mime") or "",
        "has_poster": bool(derivatives.get("optimized")) and kind == "video",
        "cover": derivatives.get("optimized") if kind == "audio" else None,
        "page_image": bool(derivatives.get("optimized")) and kind in ("pdf", "page"),
        "autoplay": bool(settings.get("video_autoplay")),
        "transcode_state": state,
        "preparing": state in PREPARING,
        "progress": round(float(transcode.get("progress") or 0.0) * 100),
        "transcode_error": transcode.get("error") if state == "failed" else None,
        "may_original": may_view_original,
        "failure": media.get("failure") if media.get("state") == "failed" else None,
        "text": None,
        "text_truncated": False,
        "size": (media.get("original") or {}).get("size"),
        "type_name": type_name(media),
    }
    if kind == "text":
        context["text"], context["text_truncated"] = await _text_preview(ctx, media)
    return context
