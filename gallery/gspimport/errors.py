"""The importer's refusals, as gallery errors so the page answers them with their status."""

from __future__ import annotations

from gallery.errors import Conflict, Invalid


class GspRefused(Invalid):
    """The backup (or the media folder) cannot be imported; nothing was written."""


class GalleryNotEmpty(Conflict):
    """The target gallery already holds albums or media; an import only goes into an empty one."""


class ImportRunning(Conflict):
    """Another import into this gallery is running."""
