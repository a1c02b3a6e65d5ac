"""The process pool that runs the media functions, away from the event loop."""

from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor

from PIL import Image, ImageFile


def init_worker(max_image_pixels: int) -> None:
    """Set up a worker process: decompression-bomb limit, HEIF support.

    Pillow only warns between MAX_IMAGE_PIXELS and twice that (a 144 MP PNG took
    1.1 GB), so the warning becomes an error. Also callable in-process (tests).
    """
    Image.MAX_IMAGE_PIXELS = max_image_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    # Never decode what is not there: a truncated file is an error, not a grey half.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    import pillow_heif

    pillow_heif.register_heif_opener()


def make_process_pool(
    workers: int, max_image_pixels: int, *, max_tasks_per_child: int | None = None
) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor whose workers run init_worker(max_image_pixels).

    Uses the "forkserver" start method: the parent runs an asyncio loop and threads,
    which fork would copy in whatever state they are in.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=init_worker,
        initargs=(max_image_pixels,),
        max_tasks_per_child=max_tasks_per_child,
    )
