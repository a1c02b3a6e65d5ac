"""Shrinking and enlarging images: Lanczos-3 through fast_image_resize (cykooz-resizer).

Pillow's resampling has no SIMD: on this project's 2-core machine a 3000×2000 → 1920×1280
antialiased bicubic took ~65 ms, and Lanczos ~90 ms, of a ~200 ms derivative job.
fast_image_resize (Rust, AVX2/SSE4.1, chosen at run time) does the same separable
convolution with a Lanczos-3 kernel in ~12 ms, single-threaded, so each pool worker still
uses one core. Alpha is premultiplied while filtering (as Pillow does), so transparent
pixels do not bleed their colour into the edges. Measurements: docs/media-images.md.

Synchronous, for the media process pool.
"""

from __future__ import annotations

from cykooz_resizer import FilterType, ResizeAlg, ResizeOptions, Resizer
from PIL import Image

# Modes fast_image_resize takes as they are; anything else (LA, P, 1, I;16, …) goes through
# Pillow's own Lanczos. media.images brings every decoded image to RGB, RGBA, L, LA or CMYK.
FAST_MODES = frozenset({"RGB", "RGBA", "L", "CMYK"})
REDUCING_GAP = 3

_resizer: Resizer | None = None
_LANCZOS3 = ResizeOptions(resize_alg=ResizeAlg.convolution(FilterType.lanczos3))


def resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A new image of `size` (width, height) filtered with Lanczos-3; `im` itself when it
    already has that size. Shrinks and enlarges; the aspect ratio is the caller's."""
    global _resizer
    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"cannot resize to {width}×{height}")
    if im.size == size:
        return im
    if im.mode not in FAST_MODES:
        return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    # The convolution's cost grows with the reduction (the kernel spans it): 8000x6000 to
    # 320 px took 245 ms. A box reduce() by a whole factor first, leaving at least
    # REDUCING_GAP for the filter (what Pillow's reducing_gap does), brings it to ~50 ms
    # with no visible difference: the box's aliasing lies beyond what Lanczos keeps.
    factors = (im.width // width // REDUCING_GAP, im.height // height // REDUCING_GAP)
    if max(factors) > 1:
        # Pillow's reduce() averages RGBA in premultiplied alpha, like the filter below.
        im = im.reduce((max(factors[0], 1), max(factors[1], 1)))
    if _resizer is None:
        _resizer = Resizer()  # one per process: it only holds the CPU-extension choice
    out = Image.new(im.mode, size)
    _resizer.resize_pil(im, out, _LANCZOS3)
    return out
