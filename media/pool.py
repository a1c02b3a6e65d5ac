"""The process pool that runs the media functions, away from the event loop."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

from PIL import Image, ImageFile

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux).

    The pool's fork server calls it (media/forkserver_preload.py), so it dies with the
    service; each worker calls it (init_worker), so it dies with the fork server. A
    service killed with SIGKILL therefore leaves no worker decoding for nobody. If the
    parent is already gone (reparented to init), exit now.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return
    if os.getppid() == 1:
        os._exit(1)


def init_worker(max_image_pixels: int) -> None:
    """Set up a worker process: dies with the fork server, decompression-bomb limit, HEIF support.

    Pillow only warns between MAX_IMAGE_PIXELS and twice that (a 144 MP PNG took
    1.1 GB), so the warning becomes an error. Also callable in-process (tests).
    """
    if multiprocessing.parent_process() is not None:  # a pool worker, not a test's own process
        die_with_parent()
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
    which fork would copy in whatever state they are in. The fork server imports
    media.forkserver_preload first, which makes it die with this process.
    """
    context = multiprocessing.get_context("forkserver")
    # Takes effect when the fork server starts (the first pool of the process).
    context.set_forkserver_preload(["media.forkserver_preload"])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=init_worker,
        initargs=(max_image_pixels,),
        max_tasks_per_child=max_tasks_per_child,
    )


def stop_pool(pool: ProcessPoolExecutor, grace: float = 3.0) -> None:
    """Shut a pool down within about `grace` seconds, even with a worker deep in a decode.

    `shutdown(wait=True)` would wait for every running task, and so would the
    interpreter's exit (it joins the pool's manager thread, which joins the workers):
    workers still busy after `grace` are killed. Blocking: call it off the event loop.
    """
    # The worker processes (a private attribute until Python 3.14's kill_workers()).
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join(1.0)
