"""Image derivative throughput: Atrium's pipeline vs libvips 8.18 and 8.14 vs naive Pillow.

    python -m bench.images [--count 12] [--workers 2] [--repeat 3] [--quality 85] [--stages]

Generates --count 24-megapixel JPEGs (6000x4000, photo-like detail, quality 90, EXIF
orientation 6), then makes a 1920 px web copy and a 320 px thumbnail of each with every
method in process pools of --workers workers, and prints one table:
method | workers | img/s | ratio vs libvips 8.18 | CPU ms/img | peak MB/worker | PSNR.

- atrium: media.images.make_image_derivatives, as the service runs it (files fsynced).
- libvips-8.18: pyvips through pyvips-binary (the `bench` extra), thumbnail() with
  shrink-on-load, the thumbnail made from the web copy.
- libvips-8.14: the same code on Debian's libvips42 (`./atrium bench` installs it),
  kept for reference. Both cannot live in one process (the two libvips and their GLibs
  would clash), so each contender's pool is started with "spawn" and its workers pick
  their libvips before anything else loads one: pyvips uses pyvips-binary's `_libvips`
  module when it can import it, and dlopens the system's libvips.so.42 when not.
- naive-pillow: full decode, exif_transpose, Lanczos thumbnail() per size.

The machine may be shared: runs are interleaved (every method once, then again, --repeat
times) and the table shows medians and the best run; CPU ms per image (all threads of
the worker) is less disturbed by other load than the wall clock. The load average is printed before and
after. PSNR compares each method's web copies of the first three images with references
made by a full decode and a Lanczos resize (higher is closer; JPEG quality bounds it).

--stages adds where Atrium's time goes, stage by stage, with the alternatives that were
measured for each (bench/images_stages.py).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

from PIL import Image, ImageChops, ImageOps, ImageStat, features

from media.images import DerivativeSpec, make_image_derivatives
from media.pool import make_process_pool

WIDTH, HEIGHT = 6000, 4000
OPTIMIZED_SIDE, THUMBNAIL_SIDE = 1920, 320
MAX_PIXELS = 100_000_000
PSNR_IMAGES = 3


# ------------------------------------------------------------------ test images


def make_photo(path: str, seed: int) -> None:
    """A 24 MP JPEG that compresses like a photo: smooth shapes, texture and grain."""
    channels = []
    for c in range(3):
        gradient = Image.linear_gradient("L").rotate(seed * 37 + c * 120).resize((WIDTH, HEIGHT))
        blobs = Image.effect_noise((WIDTH // 40, HEIGHT // 40), 70).resize(
            (WIDTH, HEIGHT), Image.Resampling.BICUBIC
        )
        texture = Image.effect_noise((WIDTH // 4, HEIGHT // 4), 40).resize(
            (WIDTH, HEIGHT), Image.Resampling.BILINEAR
        )
        channel = Image.blend(Image.blend(gradient, blobs, 0.6), texture, 0.25)
        channels.append(channel)
    grain = Image.effect_noise((WIDTH, HEIGHT), 6)
    rgb = Image.merge("RGB", [ImageChops.add(ch, grain, scale=1.0, offset=-128) for ch in channels])
    exif = Image.Exif()
    exif[Image.ExifTags.Base.Orientation] = 6
    exif[Image.ExifTags.Base.Make] = "Bench"
    rgb.save(path, "JPEG", quality=90, exif=exif)


# ------------------------------------------------------------------ the methods
# Each runs in a worker through _measured(), which returns (pid, peak RSS in KiB, CPU
# seconds of the task, all threads) so the parent can report every worker's high-water
# mark and the CPU cost per image.


def _measured(task, path: str, out: str, quality: int) -> tuple[int, int, float]:
    before = resource.getrusage(resource.RUSAGE_SELF)
    task(path, out, quality)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return os.getpid(), after.ru_maxrss, cpu


def atrium_task(path: str, out: str, quality: int) -> None:
    make_image_derivatives(
        path,
        out,
        DerivativeSpec(THUMBNAIL_SIDE, "jpeg", quality),
        DerivativeSpec(OPTIMIZED_SIDE, "jpeg", quality),
    )


def naive_pillow_task(path: str, out: str, quality: int) -> None:
    with Image.open(path) as original:
        im = ImageOps.exif_transpose(original)  # full decode
    for side, name in ((OPTIMIZED_SIDE, "optimized"), (THUMBNAIL_SIDE, "thumbnail")):
        copy = im.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        copy.save(os.path.join(out, f"{name}.jpg"), "JPEG", quality=quality)


def init_vips(system_libvips: bool, concurrency: int) -> None:
    """Load one libvips in this (spawned) worker: pyvips-binary's, or the system's."""
    if system_libvips:
        sys.modules["_libvips"] = None  # pyvips falls back to dlopen("libvips.so.42")
    if concurrency:
        os.environ["VIPS_CONCURRENCY"] = str(concurrency)
    import pyvips

    pyvips.cache_set_max(0)  # every file is new; the operation cache only costs memory


def pyvips_task(path: str, out: str, quality: int) -> None:
    import pyvips

    # thumbnail() shrinks on load and turns the image upright; decode once into memory,
    # then make the small one from the web copy.
    # No metadata in the output, as Atrium's ("strip" became "keep" in libvips 8.15).
    bare = {"keep": "none"} if pyvips.at_least_libvips(8, 15) else {"strip": True}
    optimized = pyvips.Image.thumbnail(path, OPTIMIZED_SIDE).copy_memory()
    optimized.jpegsave(os.path.join(out, "optimized.jpg"), Q=quality, **bare)
    thumb = optimized.thumbnail_image(THUMBNAIL_SIDE)
    thumb.jpegsave(os.path.join(out, "thumbnail.jpg"), Q=quality, **bare)


def _peak() -> tuple[int, int, float]:
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 0.0


def _warm(seconds: float) -> tuple[int, int, float]:
    time.sleep(seconds)  # long enough that every worker gets one
    return _peak()


def libvips_version(system_libvips: bool) -> str | None:
    """The libvips version pyvips loads in a fresh interpreter, or None when it cannot."""
    block = "import sys; sys.modules['_libvips'] = None; " if system_libvips else ""
    code = block + "import pyvips; print('%d.%d.%d' % tuple(pyvips.version(i) for i in range(3)))"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _pool(method: dict, workers: int) -> ProcessPoolExecutor:
    if method["vips"] is None:
        return make_process_pool(workers, MAX_PIXELS)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_vips,
        initargs=(method["vips"], method["concurrency"]),
    )


def run(method: dict, workers: int, files: list[str], out_root: str, quality: int) -> dict:
    with _pool(method, workers) as pool:
        list(pool.map(_warm, [0.3] * workers))
        outs = []
        for i in range(len(files)):
            out = os.path.join(out_root, f"{method['name']}-{workers}-{i}")
            os.makedirs(out, exist_ok=True)
            outs.append(out)
        started = time.perf_counter()
        futures = [
            pool.submit(_measured, method["task"], f, o, quality)
            for f, o in zip(files, outs, strict=True)
        ]
        peaks: dict[int, int] = {}
        cpu = 0.0
        for future in futures:
            pid, peak, seconds = future.result()
            peaks[pid] = max(peak, peaks.get(pid, 0))
            cpu += seconds
        elapsed = time.perf_counter() - started
    return {
        "rate": len(files) / elapsed,
        "peak_mb": max(peaks.values()) / 1024,
        "cpu_ms": cpu / len(files) * 1000,
        "optimized": [os.path.join(out, "optimized.jpg") for out in outs[:PSNR_IMAGES]],
    }


# ------------------------------------------------------------------ quality


def reference_copy(path: str) -> Image.Image:
    with Image.open(path) as original:
        im = ImageOps.exif_transpose(original)
    scale = OPTIMIZED_SIDE / max(im.size)
    size = (round(im.width * scale), round(im.height * scale))
    return im.resize(size, Image.Resampling.LANCZOS)


def psnr(reference: Image.Image, path: str) -> float | None:
    with Image.open(path) as im:
        candidate = im.convert("RGB")
    if candidate.size != reference.size:
        return None
    squares = ImageStat.Stat(ImageChops.difference(reference, candidate)).sum2
    mse = sum(squares) / (3 * reference.width * reference.height)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def mean_psnr(references: list[Image.Image], paths: list[str]) -> float | None:
    values = [psnr(ref, path) for ref, path in zip(references, paths, strict=False)]
    return None if None in values else statistics.fmean(values)


# ------------------------------------------------------------------ main


def contenders(vips_concurrency: int) -> tuple[list[dict], list[str]]:
    """The methods to run, and notes on any left out."""
    methods = [{"name": "atrium", "task": atrium_task, "vips": None, "concurrency": 0}]
    notes = []
    for system, label in ((False, "pyvips-binary"), (True, "Debian libvips42")):
        version = libvips_version(system)
        if version is None:
            notes.append(f"{label}: pyvips cannot load it here; its row is left out")
            continue
        name = f"libvips-{'.'.join(version.split('.')[:2])}"
        notes.append(f"{name}: {label}, libvips {version}")
        methods.append(
            {"name": name, "task": pyvips_task, "vips": system, "concurrency": vips_concurrency}
        )
    methods.append(
        {"name": "naive-pillow", "task": naive_pillow_task, "vips": None, "concurrency": 0}
    )
    return methods, notes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12, help="number of 24 MP JPEGs")
    parser.add_argument("--workers", default="2", help="pool sizes, comma-separated")
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality of derivatives")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs; medians shown")
    parser.add_argument(
        "--vips-concurrency",
        type=int,
        default=1,
        help="libvips threads per worker (0: its default, one per CPU)",
    )
    parser.add_argument("--no-naive", action="store_true", help="leave out naive Pillow (slow)")
    parser.add_argument("--stages", action="store_true", help="also time Atrium's stages")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    worker_counts = [int(w) for w in args.workers.split(",")]
    methods, notes = contenders(args.vips_concurrency)
    if args.no_naive:
        methods = [m for m in methods if m["name"] != "naive-pillow"]

    print(
        f"Python {platform.python_version()}, Pillow {Image.__version__} "
        f"(libjpeg-turbo {features.version('jpg')}), {os.cpu_count()} CPUs"
    )
    for note in notes:
        print(note)
    print(f"libvips threads per worker: {args.vips_concurrency or 'default'}")
    print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    root = tempfile.mkdtemp(prefix="bench-images-")
    try:
        files = [os.path.join(root, f"photo{i:02d}.jpg") for i in range(args.count)]
        started = time.perf_counter()
        with make_process_pool(os.cpu_count() or 1, MAX_PIXELS) as pool:
            list(pool.map(make_photo, files, range(args.count)))
        os.sync()  # flush the new files now, not during the first measured run
        mean_mb = sum(os.path.getsize(f) for f in files) / len(files) / 1e6
        print(
            f"{args.count} JPEGs of {WIDTH}x{HEIGHT}, q90, orientation 6, "
            f"{mean_mb:.1f} MB each on average (made in {time.perf_counter() - started:.0f} s)"
        )
        print(
            f"each: {OPTIMIZED_SIDE} px web copy + {THUMBNAIL_SIDE} px thumbnail, "
            f"JPEG q{args.quality}; {args.repeat} interleaved runs, medians\n"
        )
        runs: dict[tuple[str, int], list[dict]] = {}
        for workers in worker_counts:
            for i in range(args.repeat):
                for method in methods:
                    out_root = os.path.join(root, f"run{i}")
                    result = run(method, workers, files, out_root, args.quality)
                    runs.setdefault((method["name"], workers), []).append(result)
        references = [reference_copy(f) for f in files[:PSNR_IMAGES]]
        print_table(runs, references)
        print("\nload average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        if args.stages:
            from bench.images_stages import print_stages

            print()
            print_stages(files[: min(3, len(files))], args.quality)
    finally:
        if args.keep:
            print(f"\nfiles kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def print_table(runs: dict[tuple[str, int], list[dict]], references: list[Image.Image]) -> None:
    """Medians of the interleaved runs, and the best run: other load only ever slows a run
    down, so the best is the closest to an idle machine."""
    stats = {
        key: {
            "rate": statistics.median(r["rate"] for r in results),
            "best": max(r["rate"] for r in results),
            "cpu_ms": statistics.median(r["cpu_ms"] for r in results),
        }
        for key, results in runs.items()
    }
    header = (
        f"{'method':<13}| {'workers':>7} | {'img/s':>6} | {'vs libvips 8.18':>15} | "
        f"{'best img/s':>10} | {'best vs 8.18':>12} | {'CPU ms/img':>10} | "
        f"{'peak MB/worker':>14} | {'PSNR dB':>7} | {'img/s of each run':<18}"
    )
    print(header)
    print("-" * len(header))
    for (name, workers), results in runs.items():
        mine, base = stats[(name, workers)], stats.get(("libvips-8.18", workers))
        versus = f"{mine['rate'] / base['rate']:.2f}x" if base else "-"
        best_versus = f"{mine['best'] / base['best']:.2f}x" if base else "-"
        quality = mean_psnr(references, results[0]["optimized"])
        each = " ".join(f"{r['rate']:.2f}" for r in results)
        print(
            f"{name:<13}| {workers:>7} | {mine['rate']:>6.2f} | {versus:>15} | "
            f"{mine['best']:>10.2f} | {best_versus:>12} | {mine['cpu_ms']:>10.0f} | "
            f"{max(r['peak_mb'] for r in results):>14.0f} | "
            f"{'-' if quality is None else format(quality, '.2f'):>7} | {each}"
        )


if __name__ == "__main__":
    # Run through the imported module so pool tasks pickle as bench.images.*, not __main__.*
    import importlib

    importlib.import_module("bench.images").main()
