"""Domain errors of the gallery layer, mapped to HTTP statuses in one place (handlers.base)."""

from __future__ import annotations


class GalleryError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class Invalid(GalleryError):
    status = 400
    code = "invalid"


class NotAuthenticated(GalleryError):
    status = 401
    code = "not_authenticated"


class Forbidden(GalleryError):
    status = 403
    code = "forbidden"


class NotFound(GalleryError):
    status = 404
    code = "not_found"


class Conflict(GalleryError):
    status = 409
    code = "conflict"


class Gone(GalleryError):
    status = 410
    code = "gone"


class TooLarge(GalleryError):
    status = 413
    code = "too_large"


class Unsupported(GalleryError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(GalleryError):
    status = 429
    code = "too_many_requests"


class QuotaExceeded(TooLarge):
    """The gallery's storage quota has no room for the file (the upload page says so in
    its own words: it switches on the code, never on the message's language)."""

    code = "quota_exceeded"


class AlreadyInAlbum(Conflict):
    """The same content is already in the album: the upload is skipped, not failed."""

    code = "already_in_album"


class AlreadyInGallery(Conflict):
    """The same content is already somewhere in the gallery (skipped, not failed)."""

    code = "already_in_gallery"
