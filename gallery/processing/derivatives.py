"""Derivative images of media objects: the process pool that makes them and the records
that describe them, shared by gallery.processing.process (images) and gallery.processing.av
(previews of video, audio and documents)."""

from __future__ import annotations

import asyncio
from concurrent.futures.process import BrokenProcessPool
from functools import partial

_MIME = {"jpeg": "image/jpeg", "webp": "image/webp", "png": "image/png"}


def get_pool(services):
    """The media process pool, made on first use and shut down when services close."""
    if services.pool is None:
        from media.pool import make_process_pool

        limits = services.config.limits
        services.pool = make_process_pool(limits.image_workers, limits.max_image_pixels)

        def close() -> None:
            from media.pool import stop_pool

            pool, services.pool = services.pool, None
            if pool is not None:
                stop_pool(pool)  # bounded: a busy worker is killed after a grace

        services.on_close(close)
    return services.pool


async def _in_pool(services, fn, *args, **kwargs):
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(get_pool(services), partial(fn, *args, **kwargs))
    except BrokenProcessPool:
        # A worker died (out of memory, killed): start a fresh pool; the job retries.
        broken, services.pool = services.pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)
        get_pool(services)
        raise


def image_specs(settings: dict):
    """(thumbnail, optimized) DerivativeSpecs from the tenant's settings."""
    from media.images import DerivativeSpec

    fmt = settings.get("derivative_format", "jpeg")
    thumb = DerivativeSpec(int(settings["thumbnail_size"]), fmt, int(settings["thumbnail_quality"]))
    optimized = DerivativeSpec(
        int(settings["optimized_size"]), fmt, int(settings["optimized_quality"])
    )
    return thumb, optimized


def _derivative(media_id: str, path: str | None, width, height, fmt: str) -> dict | None:
    if not path:
        return None
    from pathlib import Path

    p = Path(path)
    return {
        "path": f"derivatives/{media_id}/{p.name}",
        "width": width,
        "height": height,
        "mime": _MIME.get(fmt, "image/jpeg"),
        "size": p.stat().st_size,
    }
