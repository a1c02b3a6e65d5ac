"""Typed errors raised by the pure media functions.

Every error carries a reason a person can read; the job that ran the function stores
it on the media object as its `failed` state.
"""


class MediaError(Exception):
    """Base class: processing a media file failed for a reason worth showing."""

    def __init__(self, reason: str, **values):
        # With values, `reason` has `%(name)s` placeholders: the English reason is filled in,
        # and the template and values are kept so the gallery can show it translated
        # (gallery.i18n.Message).
        text = reason % values if values else reason
        super().__init__(text)
        self.reason = text
        self.template, self.values = reason, values


class UnsupportedMedia(MediaError):
    """The file's content is not a type this function can process."""


class CorruptMedia(MediaError):
    """The file claims a type but cannot be decoded (truncated, damaged, hostile)."""


class MediaTooLarge(MediaError):
    """The file's dimensions or size exceed the configured limits (decompression bombs)."""


class ToolFailed(MediaError):
    """An external tool (ffmpeg, ffprobe, pdftoppm) failed; reason holds its last error lines."""


class ToolTimedOut(MediaError):
    """An external tool ran past its time limit and was killed."""


class Cancelled(MediaError):
    """The work was cancelled by a person (e.g. a transcode stopped from the UI)."""


def clip(text: str, limit: int = 300) -> str:
    """`text` on one line, at most `limit` characters, shortened at a word boundary with
    "…": reasons are read by people, and a word cut in half reads as a different word."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:(-") + "…"
