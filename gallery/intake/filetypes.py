"""What a file coming in is taken as, decided before anything is stored: its type by
content, made exact by its name (media.sniff.accept: a DNG is a TIFF to libmagic, a
"photo.nef" that is HTML is refused), the download-only endings the admin listed, and for
Office/OpenDocument packages the ZIP container checked for bombs (media.office)."""

from __future__ import annotations

import asyncio

from gallery import i18n
from gallery.errors import TooLarge, Unsupported
from media.errors import MediaError, MediaTooLarge
from media.office import check_package
from media.sniff import OFFICE_MIMES, Sniffed, accept

MB = 1024 * 1024


async def accepted_type(sniffed: Sniffed, path, name: str | None, settings: dict) -> Sniffed:
    """The type to store the file at `path` (named `name`) as; raises Unsupported (type not
    accepted, or not what its name says) or TooLarge (a ZIP bomb in an Office file)."""
    try:
        sniffed = accept(
            sniffed,
            name,
            settings.get("allowed_extensions") or (),
            settings.get("download_only_extensions") or (),
        )
        if sniffed.mime in OFFICE_MIMES:
            # The ZIP import's limits: an Office file is a ZIP that LibreOffice and every
            # person downloading it will unpack.
            await asyncio.to_thread(
                check_package,
                path,
                sniffed.extension,
                max_entries=int(settings.get("zip_max_entries", 10_000)),
                max_total=int(settings.get("zip_max_total_mb", 10_240)) * MB,
                max_ratio=int(settings.get("zip_max_ratio", 100)),
            )
    except MediaTooLarge as exc:
        raise TooLarge(i18n.reason(exc)) from None
    except MediaError as exc:
        raise Unsupported(i18n.reason(exc)) from None
    return sniffed
