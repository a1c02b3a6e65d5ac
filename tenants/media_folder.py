"""A gallery's read-only media folder: the host points its `originals/` at an existing
directory on the server that Atrium only ever reads (docs/sync.md).

The tenant record's optional `media_folder` holds the folder's resolved path (absent: the
gallery's own `originals/`, as before, so no host migration step). Set by the host only
(`python -m server tenant set SLUG --media-folder DIR --read-only`, or the host console's
tenant page), after these checks: an absolute path; symbolic links resolved; an existing,
readable directory; outside the service's data directory (every gallery's storage, the
embedded database) and not containing it; not inside or around another gallery's media
folder; and the gallery's own `originals/` empty, so no file it holds is left behind.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from tenants.provision import ProvisioningError
from tenants.registry import TenantRegistry


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _resolved_folder(raw: str) -> Path:
    """The folder with every link resolved; raises ProvisioningError saying what is wrong."""
    if not raw or "\x00" in raw or not os.path.isabs(raw):
        raise ProvisioningError("the media folder must be given as an absolute path")
    real = Path(os.path.realpath(raw))
    try:
        info = os.stat(real)
    except FileNotFoundError:
        raise ProvisioningError(f"the media folder {raw} does not exist") from None
    except OSError as exc:
        raise ProvisioningError(f"the media folder {raw} cannot be read ({exc.strerror})") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ProvisioningError(f"the media folder {raw} is not a directory")
    try:  # root may read anything: list it for real as well as asking access()
        with os.scandir(real) as entries:
            next(entries, None)
        if not os.access(real, os.R_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise ProvisioningError(f"the media folder {raw} cannot be read ({exc.strerror})") from None
    return real


def _check_place(registry: TenantRegistry, slug: str, raw: str, real: Path,
                 others: list[dict]) -> None:
    data_dir = Path(os.path.realpath(registry.config.data_dir))
    if _overlap(real, data_dir):
        raise ProvisioningError(
            f"the media folder {raw} overlaps the service's data directory {data_dir} "
            "(every gallery's storage is there); choose a folder outside it")
    for other in others:
        folder = other.get("media_folder")
        if folder and _overlap(real, Path(folder)):
            raise ProvisioningError(
                f"the media folder {raw} overlaps gallery {other['_id']}'s media folder {folder}")
    own = registry.storage(slug).path / "originals"
    try:
        with os.scandir(own) as entries:
            holds_files = next(entries, None) is not None
    except FileNotFoundError:
        holds_files = False
    if holds_files:
        raise ProvisioningError(
            f"gallery {slug} has files of its own in {own}; a media folder replaces that "
            "directory, so move its files into the folder first")


async def set_media_folder(registry: TenantRegistry, slug: str, folder: str | None) -> dict:
    """Point the gallery's originals at `folder` (read-only), or back at its own
    `originals/` with None or ""; returns the record. Raises ProvisioningError, TenantNotFound."""
    await registry.get_record(slug)  # raises TenantNotFound
    if not (folder or "").strip():
        await registry.host_db.tenants.update_one({"_id": slug}, {"$unset": {"media_folder": ""}})
    else:
        raw = folder.strip()
        real = await asyncio.to_thread(_resolved_folder, raw)
        others = await registry.host_db.tenants.find(
            {"_id": {"$ne": slug}}, {"media_folder": 1}).to_list()
        await asyncio.to_thread(_check_place, registry, slug, raw, real, others)
        await registry.host_db.tenants.update_one(
            {"_id": slug}, {"$set": {"media_folder": str(real)}})
    registry.forget(slug)
    return await registry.get_record(slug)
