"""Where Atrium's image derivative time goes, stage by stage (python -m bench.images --stages).

Runs the steps of media.images.make_image_derivatives one at a time in this process, on
the benchmark's 24 MP photos, and prints the median CPU ms of each, next to the
alternatives that were measured for that stage ("*" marks what the pipeline uses). Then
the PSNR of the unencoded web copy made by each decode + resize pairing against a full
decode resized with Pillow's Lanczos, the reference of the main table.
"""

from __future__ import annotations

import io
import math
import os
import statistics
import tempfile
import time

import numpy
import simplejpeg
from PIL import Image, ImageChops, ImageOps, ImageStat

from media import resample
from media.images import (
    DerivativeSpec,
    _fsync,
    _write_temp,
    image_orientation,
    make_image_derivatives,
    open_image,
)
from media.pixels import apply_transforms, dct_scale, fit, to_srgb
from media.pool import init_worker

ROUNDS = 3


def _cpu_ms(fn, inputs, rounds: int = ROUNDS) -> tuple[float, list]:
    """Median CPU ms of fn(x) over inputs x rounds, and the results of the last round."""
    times, results = [], []
    for _ in range(rounds):
        results = []
        for x in inputs:
            started = time.process_time()
            results.append(fn(x))
            times.append(time.process_time() - started)
    return statistics.median(times) * 1000, results


def _psnr(a: Image.Image, b: Image.Image) -> float:
    squares = ImageStat.Stat(ImageChops.difference(a, b)).sum2
    mse = sum(squares) / (3 * a.width * a.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _pillow_bicubic(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    return im.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)  # before resample.py


def print_stages(files: list[str], quality: int, optimized_side: int = 1920) -> None:
    init_worker(100_000_000)
    thumb_spec, opt_spec = DerivativeSpec(320, "jpeg", quality), DerivativeSpec(optimized_side)
    data = {f: open(f, "rb").read() for f in files}  # noqa: SIM115 (bench: read whole)
    with open_image(files[0]) as im:
        raw = im.size
    target = fit(raw, optimized_side)
    scale = dct_scale(raw, target)
    pow2 = (-(-raw[0] // scale), -(-raw[1] // scale))
    rows: list[tuple[str, str, float]] = []

    def stage(name: str, variant: str, fn, inputs):
        ms, results = _cpu_ms(fn, inputs)
        rows.append((name, variant, ms))
        return results

    def open_exif(f):
        with open_image(f) as im:
            return image_orientation(im)

    orientation = stage("open + EXIF", "* open_image, image_orientation", open_exif, files)[0]

    def decoder(**kwargs):
        return lambda f: simplejpeg.decode_jpeg(data[f], colorspace="RGB", **kwargs)

    half = stage(
        "decode",
        f"* libjpeg-turbo at 1/{scale} ({pow2[0]}x{pow2[1]})",
        decoder(min_width=pow2[0], min_height=pow2[1]),
        files,
    )
    closest = stage(
        "decode",
        "  closest M/8 scale (before)",
        decoder(min_width=target[0], min_height=target[1]),
        files,
    )
    rows[-1] = (
        rows[-1][0],
        f"{rows[-1][1]} {closest[0].shape[1]}x{closest[0].shape[0]}",
        rows[-1][2],
    )
    full = stage("decode", "  full size", decoder(), files[:1])
    stage(
        "decode",
        "  same scale, fastupsample",
        decoder(min_width=pow2[0], min_height=pow2[1], fastupsample=True),
        files,
    )

    pixels = stage("to Pillow", "* Image.fromarray", Image.fromarray, half)
    closest_im = [Image.fromarray(a) for a in closest]
    full_im = Image.fromarray(full[0])
    del half, closest, full

    big = stage(
        "resize to web copy",
        "* SIMD Lanczos-3 (media.resample)",
        lambda im: resample.resize(im, target),
        pixels,
    )
    stage(
        "resize to web copy",
        "  Pillow bicubic from M/8 (before)",
        lambda im: _pillow_bicubic(im, target),
        closest_im,
    )
    stage("resize to web copy", "  Pillow bicubic", lambda im: _pillow_bicubic(im, target), pixels)
    stage(
        "resize to web copy",
        "  Pillow Lanczos",
        lambda im: im.resize(target, Image.Resampling.LANCZOS),
        pixels,
    )

    stage(
        "colour to sRGB",
        "* to_srgb (no ICC profile: nothing to do)",
        lambda im: to_srgb(im, None),
        big,
    )
    upright = stage(
        "EXIF orientation",
        "* transpose",
        lambda im: apply_transforms(im, orientation, 0, None),
        big,
    )
    small_size = fit(upright[0].size, 320)
    small = stage(
        "thumbnail from web copy",
        "* SIMD Lanczos-3",
        lambda im: resample.resize(im, small_size),
        upright,
    )
    stage(
        "thumbnail from web copy",
        "  Pillow bicubic (before)",
        lambda im: _pillow_bicubic(im, small_size),
        upright,
    )

    def pillow_jpeg(im):
        buffer = io.BytesIO()
        im.save(buffer, "JPEG", quality=quality)
        return buffer

    stage("encode web copy", "* Pillow (libjpeg-turbo)", pillow_jpeg, upright)
    arrays = [numpy.asarray(im) for im in upright]
    stage(
        "encode web copy",
        "  simplejpeg (from an array)",
        lambda a: simplejpeg.encode_jpeg(a, quality=quality, colorsubsampling="420"),
        arrays,
    )
    stage("encode thumbnail", "* Pillow", pillow_jpeg, small)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(files[0])) as out:

        def write(im):
            path = _write_temp(im, opt_spec, out, "optimized")
            _fsync(path)
            os.unlink(path)

        stage("encode + write + fsync", "* _write_temp, web copy", write, upright)
        whole, _ = _cpu_ms(lambda f: make_image_derivatives(f, out, thumb_spec, opt_spec), files)
    rows.append(("whole job", "* make_image_derivatives", whole))

    width = max(len(v) for _, v, _ in rows)
    print(f"Atrium's stages, median CPU ms over {len(files)} files x {ROUNDS} rounds ('*': used)")
    print(f"{'stage':<24}| {'variant':<{width}} | {'CPU ms':>6}")
    print("-" * (width + 36))
    for name, variant, ms in rows:
        print(f"{name:<24}| {variant:<{width}} | {ms:>6.1f}")

    with Image.open(files[0]) as original:
        reference = ImageOps.exif_transpose(original).resize(
            fit(_upright(raw, orientation), optimized_side), Image.Resampling.LANCZOS
        )
    pairings = {
        f"1/{scale} + SIMD Lanczos-3 (now)": resample.resize(pixels[0], target),
        "closest M/8 + Pillow bicubic (before)": _pillow_bicubic(closest_im[0], target),
        "full decode + SIMD Lanczos-3": resample.resize(full_im, target),
    }
    print("\nweb copy before encoding, PSNR vs full decode + Pillow Lanczos (first file)")
    for label, im in pairings.items():
        print(
            f"  {label:<40} {_psnr(reference, apply_transforms(im, orientation, 0, None)):.2f} dB"
        )


def _upright(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation >= 5 else size
