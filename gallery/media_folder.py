"""A gallery whose originals are in the host's read-only media folder (docs/sync.md).

The host may point a gallery's `originals/` at an existing directory on the server that
Atrium never writes to (tenants/media_folder.py; storage.root.StorageRoot.media_folder).
Synchronization is then the only way in. Every action that would write, move or copy a
file there is refused here, before anything is touched, with one reason the pages and
the API show (409, code `read_only_media`). Deleting media or albums removes their
records and derivatives only: the files stay in the folder, and the next synchronization
brings back whatever is still there.
"""

from __future__ import annotations

from gallery.errors import Conflict
from gallery.i18n import N_, Message


class ReadOnlyMedia(Conflict):
    code = "read_only_media"


# Permissions whose actions write files: what the pages offer leaves them out here.
READ_ONLY_REFUSED = ("add_album", "add_media")
REASON = N_(
    "this gallery's files are in a read-only folder on the server, so files come in only "
    "by synchronization."
)


# The actions callers name (translated where the refusal is shown).
ACTION_WORDS = ("Uploading files", "Replacing a file", "Copying an album", "Creating an album",
                "Moving an album", "Adding files", "Moving media", "Copying media")


def read_only(ctx) -> bool:
    """Are this gallery's originals in a read-only media folder?"""
    return ctx.storage.read_only_originals


def require_writable(ctx, action: str) -> None:
    """Raise ReadOnlyMedia ("<action> is not possible here: …") in a read-only gallery."""
    if ctx.storage.read_only_originals:
        raise ReadOnlyMedia(Message("%(action)s is not possible here: %(reason)s",
                                    action=Message(action), reason=Message(REASON)))
