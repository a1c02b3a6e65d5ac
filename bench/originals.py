"""What the intake settings cost and save on 24-megapixel photos (gallery/processing/originals.py).

    python -m bench.originals [--count 2] [--qualities 85,75,60]

Makes --count 24 MP JPEGs like bench.images (photo-like detail, quality 90, EXIF), then,
in this process with the pool's limits, times per photo:
- re-encode at each quality (media.originals.reencode_jpeg: full decode with libjpeg-turbo's
  checks, encode, metadata spliced back): seconds, peak RSS, size before and after, PSNR
  against the decoded original;
- discard: the 1920 px optimized copy made as processing makes it, then
  media.originals.keep_optimized (the copy's bytes plus the original's metadata).
Prints one table of medians; the machine may be shared, so read seconds as a guide.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import tempfile
import time

from PIL import Image, ImageChops, ImageStat

from bench.images import make_photo
from media.images import DerivativeSpec, make_image_derivatives
from media.originals import Kept, keep_optimized, reencode_jpeg
from media.pool import init_worker


def _psnr(a: Image.Image, path: str) -> float:
    with Image.open(path) as b:
        diff = ImageChops.difference(a, b.convert("RGB"))
    mse = sum(v * v for v in ImageStat.Stat(diff).rms) / 3
    return float("inf") if mse == 0 else 10 * math.log10(255 * 255 / mse)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2)
    parser.add_argument("--qualities", default="85,75,60")
    args = parser.parse_args()
    init_worker(100_000_000)
    qualities = [int(q) for q in args.qualities.split(",")]
    rows: dict[str, list[tuple[float, int, int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.count):
            src = os.path.join(tmp, f"photo-{n}.jpg")
            make_photo(src, n)
            size = os.path.getsize(src)
            with Image.open(src) as im:
                decoded = im.convert("RGB")
            for quality in qualities:
                out = os.path.join(tmp, f"q{quality}.jpg")
                started = time.perf_counter()
                try:
                    new = reencode_jpeg(src, out, quality)
                except Kept:
                    continue
                rows.setdefault(f"re-encode q{quality}", []).append(
                    (time.perf_counter() - started, size, new.size, _psnr(decoded, out)))
            out_dir = os.path.join(tmp, f"d{n}")
            os.mkdir(out_dir)
            started = time.perf_counter()
            made = make_image_derivatives(src, out_dir, DerivativeSpec(320), DerivativeSpec(1920))
            made_at = time.perf_counter()
            new = keep_optimized(src, made.optimized_path, os.path.join(tmp, "kept.jpg"), 85)
            done = time.perf_counter()
            rows.setdefault("derivatives (as processing)", []).append((made_at - started, size, 0, 0.0))
            rows.setdefault("discard: keep the 1920 px copy", []).append((done - made_at, size, new.size, 0.0))
    print(f"{args.count} photos of 24 MP, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
          f"peak RSS {_peak_mb():.0f} MB")
    print(f"{'step':34} {'s/photo':>8} {'MB before':>10} {'MB after':>9} {'saved':>6} {'PSNR dB':>8}")
    for name, found in rows.items():
        seconds = statistics.median(r[0] for r in found)
        before = statistics.median(r[1] for r in found) / 1e6
        after = statistics.median(r[2] for r in found) / 1e6
        psnr = statistics.median(r[3] for r in found)
        saved = f"{100 * (1 - after / before):.0f}%" if after else ""
        after_text = f"{after:.1f}" if after else ""
        psnr_text = f"{psnr:.1f}" if psnr else ""
        print(f"{name:34} {seconds:8.2f} {before:10.1f} {after_text:>9} {saved:>6} {psnr_text:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
