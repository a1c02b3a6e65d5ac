"""What the image routes of a media object show when there is no picture to show.

A failed media object has no thumbnail or web copy; a grid of tiles with broken images
(404s) tells nobody anything, so its thumbnail and optimized routes answer with a small
placeholder picture instead, and never with the original (which a failed image may be
broken in, or a TIFF/HEIC no browser shows). Our own constant SVG, so it is safe inline.
"""

from __future__ import annotations

# Browsers show these as they are; any other original never stands in for a web copy.
BROWSER_IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

MIME = "image/svg+xml"
FAILED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240" '
    b'role="img" aria-label="This file could not be processed">'
    b'<rect width="320" height="240" fill="#eceff1"/>'
    b'<g fill="none" stroke="#90a4ae" stroke-width="8" stroke-linejoin="round">'
    b'<path d="M112 64h96v84h-96z"/><path d="M112 132l28-26 22 20 16-14 30 28"/>'
    b'<path d="M96 176l128-128"/></g>'
    b'<text x="160" y="206" font-family="sans-serif" font-size="18" text-anchor="middle" '
    b'fill="#546e7a">Could not be processed</text></svg>'
)


def original_stands_in(media: dict, variant: str) -> bool:
    """May the original be served for a missing `variant` copy? Only for an image a
    browser shows as it is, never for a failed one; video/audio ("web") as before."""
    if media.get("state") == "failed" and variant != "web":
        return False
    if variant == "optimized" and media.get("kind") == "image":
        return (media.get("mime") or "") in BROWSER_IMAGE_MIMES
    return True


def placeholder_for(media: dict, variant: str) -> bytes | None:
    """The placeholder to send instead of a 404, or None."""
    if media.get("state") == "failed" and variant in ("thumbnail", "optimized"):
        return FAILED_SVG
    return None
