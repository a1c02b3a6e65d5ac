"""A tenant's settings: one document validated against a typed schema.

The admin settings page is rendered from SETTINGS, so a feature adds a setting by adding
an entry here (key, type, default, range, one-line description, group); nothing else.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from gallery import metadata_fields, richtext
from gallery.errors import Invalid
from gallery.i18n import Message
from keys.sealed import encrypt_secret, is_legacy
from media import sniff

SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Setting:
    key: str
    type: str  # bool, int, str, text, choice, list, labels ({choice: text})
    default: Any
    label: str
    description: str
    group: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 500
    secret: bool = False  # never shown back in the form (e.g. an SMTP password)
    # How the page shows it: words for each choice (same order as `choices`), the unit after
    # a number, and a widget other than the type's plain field ("ordered_checklist",
    # "grouped_checklist", "album", "roles"). A list with choices accepts only those.
    choice_labels: tuple[str, ...] = ()
    unit: str = ""
    widget: str = ""
    choice_groups: tuple[str, ...] = ()  # grouped_checklist: each choice's group heading
    # Shown beside the field in a warning box: what a setting destroys, for settings that do.
    warning: str = ""
    # ordered_checklist: the keys of the settings shown in its rows (widget "in_checklist"):
    # a "labels" setting (a heading per choice) and a list of the choices editors may change.
    labels: str = ""
    editable: str = ""

    def choice_label(self, value: str) -> str:
        if value in self.choices and len(self.choice_labels) == len(self.choices):
            return self.choice_labels[self.choices.index(value)]
        return value


GROUPS = ("General", "Accounts", "Security", "Media", "Downloads", "Watermarks", "Synchronization", "Video and audio", "E-mail")

# The metadata panel's fields, in words (gallery/metadata_fields.py: every field Atrium reads).
METADATA_FIELDS = tuple((f.key, f.name) for f in metadata_fields.FIELDS)
_EDITABLE_FIELDS = tuple((f.key, f.name) for f in metadata_fields.FIELDS if f.editable)

# Album orders (gallery.library.albums.SORT_FIELDS; the settings cannot import that wing).
_SORTS = ("position", "title", "date_taken", "date_added", "file_name", "camera", "lens", "iso", "focal_length", "file_size", "rating")
_SORT_LABELS = ("Custom order", "Title", "Date taken", "Date added", "File name", "Camera model", "Lens", "ISO speed", "Focal length", "File size", "Rating")

# Every file type the content sniffer knows (media.sniff), grouped for the checklist.
_KIND_GROUPS = {"image": "Photos", "raw": "Camera RAW", "video": "Video", "audio": "Audio", "document": "Documents", "office": "Office documents"}
_EXT_NAMES = {"jpg": "JPEG", "tif": "TIFF", "heic": "HEIC/HEIF", "txt": "Plain text", "m4a": "M4A (AAC)",
              "mkv": "Matroska (MKV)", "mov": "QuickTime (MOV)", "ogg": "Ogg (video or audio)", "mpg": "MPEG", "3gp": "3GP", "webp": "WebP", "webm": "WebM",
              "psd": "Photoshop (PSD)", "cr2": "Canon (CR2)", "nef": "Nikon (NEF)", "arw": "Sony (ARW)", "dng": "Adobe DNG", "orf": "Olympus (ORF)",
              "raf": "Fujifilm (RAF)", "pef": "Pentax (PEF)", "wmv": "Windows Media (WMV)", "flv": "Flash video (FLV)",
              "docx": "Word (DOCX)", "xlsx": "Excel (XLSX)", "pptx": "PowerPoint (PPTX)", "odt": "OpenDocument text (ODT)",
              "ods": "OpenDocument spreadsheet (ODS)", "odp": "OpenDocument presentation (ODP)"}
# One entry per extension (Ogg holds video or audio: it is listed once, under Video).
_TYPE_GROUPS: dict[str, str] = {}
for _kind, _ext in sniff.MIME_TYPES.values():
    _family = "raw" if _ext in sniff.RAW_EXTENSIONS else "office" if _ext in sniff.OFFICE_EXTENSIONS else _kind
    if _family in _KIND_GROUPS:
        _TYPE_GROUPS.setdefault(_ext, _KIND_GROUPS[_family])
_FILE_TYPES = tuple(_TYPE_GROUPS.items())
_FILE_TYPES = tuple(sorted(_FILE_TYPES, key=lambda t: list(_KIND_GROUPS.values()).index(t[1])))

SETTINGS: list[Setting] = [
    # General
    Setting("gallery_title", "str", "", "Gallery title", "shown in the header and in e-mails (empty: the tenant's title)", "General", max_length=200),
    Setting("allow_anonymous_browsing", "bool", True, "Anonymous browsing", "visitors who are not signed in may view public albums", "General"),
    Setting("allow_anonymous_original", "bool", False, "Anonymous original download", "visitors who are not signed in may download full-resolution originals", "General"),
    # The header (GSP's GalleryTitleUrl, ShowLogin, ShowSearch) and the gallery's own CSS,
    # served as a separate stylesheet (handlers/custom_css.py).
    Setting("gallery_title_url", "str", "", "Title link", "where the gallery's title in the header leads: an http(s):// address or a path on this site such as /g/name/albums/… (empty: the gallery's home page)", "General", max_length=500),
    Setting("show_login", "bool", True, "Sign in in the header", "the header offers Sign in to visitors (the sign-in page itself stays available)", "General"),
    Setting("show_search", "bool", True, "Search in the header", "the header offers Search", "General"),
    Setting("custom_css", "text", "", "Custom CSS", "style rules applied after Atrium's own on every page of the gallery, served as a separate stylesheet (at most 32 KB)", "General", max_length=32_768),
    Setting("trash_days", "int", 30, "Trash keeps items", "days deleted albums and media wait in the trash before they go for good (0: deleted at once)", "General", minimum=0, maximum=3650, unit="days"),
    Setting("page_size", "int", 60, "Items per page", "media objects per album page", "General", minimum=10, maximum=500, unit="items"),
    Setting("metadata_fields", "list", ["title", "caption", "date_taken", "camera", "lens", "exposure", "iso", "focal_length", "dimensions", "file_size", "gps", "tags"], "Metadata panel", "fields shown beside a media object, in the order listed here", "General", widget="ordered_checklist", choices=tuple(k for k, _ in METADATA_FIELDS), choice_labels=tuple(v for _, v in METADATA_FIELDS), labels="metadata_labels", editable="metadata_editable"),
    # Shown in the panel's checklist, one per row (templates/admin/settings.html).
    Setting("metadata_labels", "labels", {}, "Metadata panel headings", "what each field is called on the media page (empty: its usual English name)", "General", max_length=60, widget="in_checklist", choices=tuple(k for k, _ in METADATA_FIELDS), choice_labels=tuple(f.label for f in metadata_fields.FIELDS)),
    Setting("metadata_editable", "list", [], "Fields editors may correct", "fields editors may correct on the media page; a correction is kept apart from the file's value, which comes back when the correction is removed", "General", widget="in_checklist", choices=tuple(k for k, _ in _EDITABLE_FIELDS), choice_labels=tuple(v for _, v in _EDITABLE_FIELDS)),
    # GSP's EnableSlideShow and SlideShowType: off, the album pages offer no slideshow at all.
    Setting("enable_slideshow", "bool", True, "Slideshow", "album pages offer a full-screen slideshow of their media", "General"),
    Setting("slideshow_transition", "choice", "fade", "Slideshow transition", "how one item gives way to the next in a slideshow (people who ask their system for less motion always get none)", "General", choices=("fade", "slide", "none"), choice_labels=("Fade", "Slide in from the side", "None")),
    # GSP's default SortByMetaName: the order albums made from now on start with (each album
    # can change its own; viewers can pick another for a visit).
    Setting("default_album_sort", "choice", "position", "Order of new albums", "how the media of albums made from now on are ordered (each album can change it)", "General", choices=_SORTS, choice_labels=_SORT_LABELS),
    Setting("default_album_sort_direction", "choice", "ascending", "Direction of that order", "ascending: A to Z, oldest and smallest first", "General", choices=("ascending", "descending"), choice_labels=("Ascending", "Descending")),
    Setting("slideshow_interval", "int", 4, "Slideshow interval", "seconds each image is shown in a slideshow", "General", minimum=1, maximum=120, unit="seconds"),
    Setting("slideshow_loop", "bool", True, "Slideshow loops", "start again after the last item", "General"),
    # Accounts
    Setting("allow_registration", "bool", False, "Self-registration", "visitors may create their own account", "Accounts"),
    Setting("require_email_verification", "bool", True, "Verify e-mail", "new accounts must confirm their e-mail address", "Accounts"),
    Setting("require_approval", "bool", False, "Admin approval", "new accounts must be approved by an administrator", "Accounts"),
    Setting("email_as_username", "bool", False, "E-mail as account name", "people sign in with their e-mail address", "Accounts"),
    Setting("allow_account_deletion", "bool", True, "Delete own account", "users may delete their own account", "Accounts"),
    Setting("user_albums", "bool", False, "User albums", "each user gets a personal album", "Accounts"),
    Setting("user_album_after_login", "bool", False, "Start in my album", "members with a personal album land there after signing in (unless they were on their way to another page)", "Accounts"),
    Setting("unverified_account_days", "int", 7, "Unverified accounts expire", "days after which self-registered accounts whose e-mail was never confirmed are removed", "Accounts", minimum=1, maximum=365, unit="days"),
    # Security
    Setting("password_min_length", "int", 10, "Minimum password length", "shorter passwords are refused", "Security", minimum=8, maximum=128, unit="characters"),
    Setting("lockout_attempts", "int", 5, "Failed logins before lockout", "wrong passwords within the window that lock an account", "Security", minimum=1, maximum=100, unit="attempts"),
    Setting("lockout_window_minutes", "int", 15, "Lockout window", "minutes in which failed logins are counted", "Security", minimum=1, maximum=1440, unit="minutes"),
    Setting("lockout_minutes", "int", 15, "Lockout duration", "minutes an account stays locked", "Security", minimum=1, maximum=10080, unit="minutes"),
    Setting("event_log_size", "int", 2000, "Event log size", "newest entries kept in the event log", "Security", minimum=100, maximum=100000, unit="entries"),
    # User-entered HTML (gallery/richtext.py; GSP's AllowUserEnteredHtml, AllowedHtmlTags).
    Setting("allow_user_html", "bool", False, "HTML in captions and summaries", "captions and album summaries may use the HTML tags below; everything else is removed when shown (stored as typed)", "Security"),
    Setting("allowed_html_tags", "list", list(richtext.DEFAULT_TAGS), "Allowed HTML tags", "formatting tags kept in captions and summaries, comma separated (never script, style, iframe, forms)", "Security"),
    Setting("allowed_html_attributes", "list", list(richtext.DEFAULT_ATTRIBUTES), "Allowed HTML attributes", "tag.attribute pairs kept, comma separated (e.g. a.href, img.src, *.title; links: http, https, mailto)", "Security"),
    # Media
    Setting("thumbnail_size", "int", 320, "Thumbnail size", "longest side of thumbnails", "Media", minimum=64, maximum=1024, unit="pixels"),
    Setting("optimized_size", "int", 1920, "Optimized size", "longest side of web-optimized copies", "Media", minimum=400, maximum=8000, unit="pixels"),
    Setting("derivative_format", "choice", "jpeg", "Derivative format", "file format of thumbnails and optimized copies", "Media", choices=("jpeg", "webp"), choice_labels=("JPEG", "WebP")),
    Setting("thumbnail_quality", "int", 80, "Thumbnail quality", "JPEG/WebP quality of thumbnails", "Media", minimum=30, maximum=100, unit="of 100"),
    Setting("optimized_quality", "int", 85, "Optimized quality", "JPEG/WebP quality of optimized copies", "Media", minimum=30, maximum=100, unit="of 100"),
    # GSP's OriginalImageJpegQuality and DiscardOriginalImageDuringImport: applied once to each
    # photo as it comes in (gallery/processing/originals.py); photos already here stay as they are.
    Setting("original_jpeg_quality", "int", 0, "Re-encode JPEG originals", "JPEG photos that come in from now on are saved again at this quality (30 to 100), keeping their metadata, whenever that makes the file smaller; detail lost this way does not come back, and synchronized files are rewritten in the gallery's folder on the server (0: keep originals exactly as they came)", "Media", minimum=0, maximum=100, unit="of 100"),
    Setting("discard_originals", "bool", False, "Discard originals", "photos that come in from now on keep only their optimized copy (the optimized size, quality and format above), in place of the original file", "Media", warning="This cannot be undone. While it is on, the original file of every photo added (upload, ZIP import, synchronization, file replacement) is deleted as soon as its optimized copy is made: the full resolution, the camera's own file and format (HEIC, TIFF) and its colour profile are lost for good. Downloads, album ZIPs, View original and backups then give the optimized copy. With synchronization, the files in the gallery's folder on the server are replaced too. Turning it off later does not bring any original back."),
    Setting("optimized_trigger_kb", "int", 0, "Optimized copy above", "a photo whose pixels already fit the optimized size still gets a lighter optimized copy when its file is larger than this (0: only photos larger in pixels, or not in a format browsers show)", "Media", minimum=0, maximum=1_000_000, unit="KB"),
    Setting("max_upload_mb", "int", 2048, "Largest upload", "largest file one upload may carry", "Media", minimum=1, maximum=1_000_000, unit="MB"),
    Setting("allowed_extensions", "list", ["jpg", "png", "gif", "webp", "heic", "tif", "mp4", "mov", "m4v", "webm", "mkv", "avi", "mp3", "m4a", "aac", "wav", "ogg", "flac", "pdf", "txt"], "Allowed file types", "file types that may be uploaded (recognised by their content, not by their name)", "Media", widget="grouped_checklist", choices=tuple(e for e, _ in _FILE_TYPES), choice_labels=tuple(_EXT_NAMES.get(e, e.upper()) for e, _ in _FILE_TYPES), choice_groups=tuple(g for _, g in _FILE_TYPES)),
    # Files of other types kept for download only (media.sniff.accept): never shown inline.
    Setting("download_only_extensions", "list", [], "Download-only file types", "other file name endings, comma separated (e.g. stl, gpx, blend), stored and offered only as downloads, with an icon; a file whose content is one of the types above is judged as that type", "Media"),
    Setting("duplicates", "choice", "skip", "Duplicate uploads", "what happens to an uploaded file whose content is already in the gallery", "Media", choices=("skip", "skip_gallery", "keep"), choice_labels=("Skip it if it is already in the album", "Skip it if it is anywhere in the gallery", "Keep both copies")),
    Setting("upload_expire_hours", "int", 24, "Unfinished uploads expire", "hours a resumable upload may sit unfinished before its bytes are removed", "Media", minimum=1, maximum=720, unit="hours"),
    Setting("zip_max_entries", "int", 10000, "ZIP import: entries", "most entries a ZIP may hold to be imported", "Media", minimum=1, maximum=1_000_000, unit="entries"),
    Setting("zip_max_total_mb", "int", 10240, "ZIP import: unpacked size", "largest total unpacked size of a ZIP", "Media", minimum=1, maximum=1_000_000, unit="MB"),
    Setting("zip_max_ratio", "int", 100, "ZIP import: compression ratio", "entries that unpack to more than this many times their packed size are refused (ZIP bombs)", "Media", minimum=2, maximum=100_000, unit="times"),
    Setting("embed_hosts", "list", ["www.youtube.com", "www.youtube-nocookie.com", "player.vimeo.com"], "Embed hosts", "hosts whose https <iframe> embeds may be added as external media (comma separated)", "Media"),
    Setting("sync_dirnames_with_titles", "bool", False, "Directory names follow titles", "renaming an album also renames its directory under originals/", "Synchronization"),
    Setting("sync_missing", "choice", "keep", "Synchronization: files gone", "what a synchronization does with media whose file is gone from originals/: keep the record marked missing, or remove it", "Synchronization", choices=("keep", "remove"), choice_labels=("Keep the record, marked missing", "Remove the record")),
    Setting("sync_min_age_seconds", "int", 5, "Synchronization: settle time", "files modified less than this many seconds ago are left for the next synchronization (still being written)", "Synchronization", minimum=0, maximum=3600, unit="seconds"),
    Setting("sync_interval_minutes", "int", 0, "Synchronization: every", "minutes between scheduled synchronizations of the whole gallery (0: off)", "Synchronization", minimum=0, maximum=525_600, unit="minutes"),
    # Downloads (gallery.downloads.require_download; GSP's EnableMediaObjectDownload,
    # EnableAlbumZipDownload, EnableGalleryObjectZipDownload). Off: the route answers 403
    # and the pages offer no such link.
    Setting("allow_file_download", "bool", True, "Download single files", "people may download a media object's file (the Download buttons and ?download=1; files a browser cannot show are only ever downloaded)", "Downloads"),
    Setting("allow_album_zip", "bool", True, "Download albums as ZIP", "people may download an album (and its sub-albums) as one ZIP file", "Downloads"),
    Setting("allow_selection_zip", "bool", True, "Download selections as ZIP", "people may download the media they select in an album as one ZIP file", "Downloads"),
    Setting("sync_watch", "bool", False, "Synchronization: live", "watch originals/ for changes and synchronize a few seconds after the last one (the host may limit how many galleries are watched)", "Synchronization"),
    Setting("download_max_items", "int", 10000, "ZIP download: items", "most media objects one ZIP download may hold", "Downloads", minimum=1, maximum=1_000_000, unit="items"),
    # Watermark (gallery/watermarks.py, media/watermark.py; docs/watermarks.md)
    Setting("watermark_enabled", "bool", False, "Watermark images", "stamp optimized copies and originals viewed in the browser for visitors whose roles do not let them see images without watermark", "Watermarks"),
    Setting("watermark_thumbnails", "bool", False, "Watermark thumbnails", "stamp thumbnails too", "Watermarks"),
    Setting("watermark_text", "str", "", "Watermark text", "text to stamp (empty: no text)", "Watermarks", max_length=200),
    Setting("watermark_font", "choice", "sans-bold", "Watermark font", "font of the text (installed with Atrium)", "Watermarks", choices=("sans-bold", "sans", "serif", "mono"), choice_labels=("Sans-serif, bold", "Sans-serif", "Serif", "Monospace")),
    Setting("watermark_text_size", "int", 5, "Text size", "height of the text, relative to the image's width", "Watermarks", minimum=1, maximum=50, unit="percent of the width"),
    Setting("watermark_color", "str", "#ffffff", "Text colour", "a colour written as #rrggbb, e.g. #ffffff for white", "Watermarks", max_length=7),
    Setting("watermark_opacity", "int", 50, "Text opacity", "0 (invisible) to 100 (opaque)", "Watermarks", minimum=0, maximum=100, unit="%"),
    Setting("watermark_position", "choice", "bottom-right", "Text position", "one of 9 places, or tiled over the whole image", "Watermarks", choices=("top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right", "tiled"), choice_labels=("Top left", "Top", "Top right", "Left", "Centre", "Right", "Bottom left", "Bottom", "Bottom right", "Tiled over the image")),
    Setting("watermark_margin", "int", 2, "Margin", "distance from the image's edges, relative to its width", "Watermarks", minimum=0, maximum=25, unit="percent of the width"),
    Setting("watermark_image", "str", "", "Watermark image", "the uploaded PNG (set by the upload below; empty: no image)", "Watermarks", max_length=64),
    Setting("watermark_image_width", "int", 20, "Image width", "width of the watermark image, relative to the image's width", "Watermarks", minimum=1, maximum=100, unit="percent of the width"),
    Setting("watermark_image_opacity", "int", 60, "Image opacity", "0 (invisible) to 100 (as uploaded)", "Watermarks", minimum=0, maximum=100, unit="%"),
    Setting("watermark_image_position", "choice", "bottom-right", "Image position", "one of 9 places, or tiled", "Watermarks", choices=("top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right", "tiled"), choice_labels=("Top left", "Top", "Top right", "Left", "Centre", "Right", "Bottom left", "Bottom", "Bottom right", "Tiled over the image")),
    # Video and audio
    Setting("video_max_width", "int", 1280, "Web video width", "largest long side of transcoded video (portrait clips: their height)", "Video and audio", minimum=160, maximum=7680, unit="pixels"),
    Setting("video_max_height", "int", 720, "Web video height", "largest short side of transcoded video (portrait clips: their width)", "Video and audio", minimum=120, maximum=4320, unit="pixels"),
    Setting("video_crf", "int", 23, "Video quality (CRF)", "lower is better quality and larger files", "Video and audio", minimum=10, maximum=40),
    Setting("video_preset", "choice", "veryfast", "Encoder preset", "slower presets make smaller files", "Video and audio", choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"), choice_labels=("Ultra fast (largest files)", "Super fast", "Very fast", "Faster", "Fast", "Medium", "Slow (smallest files)")),
    # A hung ffmpeg is stopped after this; the job fails with ffmpeg's last error lines.
    Setting("transcode_time_limit", "int", 3600, "Transcode time limit", "seconds before a transcode is stopped", "Video and audio", minimum=1, maximum=86400, unit="seconds"),
    Setting("video_autoplay", "bool", False, "Autoplay", "start video and audio when the page opens", "Video and audio"),
    # The poster is the frame at this many seconds or at 10% of the duration, whichever is earlier.
    Setting("video_poster_seconds", "int", 3, "Poster frame time", "seconds into a video where its poster frame is taken (at most a tenth of its length)", "Video and audio", minimum=0, maximum=3600, unit="seconds"),
    Setting("audio_bitrate_kbps", "int", 128, "Web audio bit rate", "AAC bit rate of transcoded audio", "Video and audio", minimum=32, maximum=320, unit="kbit/s"),
    # Browsers play WAV and FLAC, but the files are large: by default they get an AAC copy.
    Setting("audio_lossless_as_is", "bool", False, "Serve WAV/FLAC as they are", "play lossless audio from the original instead of a smaller AAC copy", "Video and audio"),
    # Accounts (personal albums)
    # New accounts (GSP's DefaultRolesForUser, UserAlbumNameTemplate, EnableUserAlbumDefaultForUser;
    # gallery/people/new_accounts.py applies them). Role ids are checked against the gallery's
    # roles when saved (handlers/admin_settings.py) and again when used.
    Setting("default_role_ids", "list", [], "Roles of new accounts", "roles given to accounts people register themselves, and ticked in advance when an administrator creates one (none chosen: Authenticated Users; never an administrators' role)", "Accounts", widget="roles"),
    Setting("user_album_for_new_accounts", "bool", True, "Personal album for new accounts", "new accounts get a personal album when user albums are on (off: an administrator gives one per account on the account's page)", "Accounts"),
    Setting("user_album_title_template", "str", "{username}", "Personal album title", "title of a new personal album; {username} and {date} (the day it is made) are filled in", "Accounts", max_length=200),
    Setting("user_album_summary_template", "text", "", "Personal album summary", "summary of a new personal album, with the same {username} and {date}", "Accounts", max_length=2000),
    Setting("user_album_parent_id", "str", "", "Parent of user albums", "the album under which personal albums are made (none chosen: the gallery's top album)", "Accounts", max_length=24, widget="album"),
    Setting("login_ip_attempts", "int", 20, "Failed sign-ins per address", "failed sign-ins one client address may make in 15 minutes before it must wait", "Security", minimum=3, maximum=1000, unit="attempts"),
    # E-mail (empty values use the host's SMTP configuration)
    Setting("smtp_host", "str", "", "SMTP server", "host name of the outgoing mail server (empty: the host's server)", "E-mail", max_length=253),
    Setting("smtp_port", "int", 0, "SMTP port", "port of the mail server (0: the host's setting)", "E-mail", minimum=0, maximum=65535),
    Setting("smtp_tls", "choice", "default", "SMTP security", "how the connection to the mail server is secured", "E-mail", choices=("default", "none", "starttls", "tls"), choice_labels=("The host's setting", "None", "STARTTLS", "TLS")),
    Setting("smtp_username", "str", "", "SMTP user name", "empty: no authentication (or the host's account when the server is the host's)", "E-mail", max_length=254),
    Setting("smtp_password", "str", "", "SMTP password", "stored encrypted; leave empty to keep the stored one", "E-mail", max_length=500, secret=True),
    Setting("from_name", "str", "", "Sender name", "name shown as the sender of e-mails (empty: the gallery title)", "E-mail", max_length=100),
    Setting("from_address", "str", "", "Sender address", "address e-mails come from (empty: the host's address)", "E-mail", max_length=254),
    Setting("admin_notify_emails", "list", [], "Notify administrators", "addresses told about new accounts, approvals and errors (comma separated)", "E-mail"),
]

BY_KEY = {s.key: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    return {s.key: (type(s.default)(s.default) if isinstance(s.default, list | dict) else s.default) for s in SETTINGS}


def parse_value(setting: Setting, raw: Any) -> Any:
    """Turn a form string or JSON value into the setting's type; raise ValueError with a reason."""
    t = setting.type
    if t == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("1", "true", "on", "yes"):
            return True
        if raw in (None, "") or (isinstance(raw, str) and raw.lower() in ("0", "false", "off", "no")):
            return False
        raise ValueError(Message("must be on or off"))
    if t == "int":
        if isinstance(raw, bool):
            raise ValueError(Message("must be a whole number"))
        try:
            value = int(raw.strip()) if isinstance(raw, str) else int(raw)
        except (TypeError, ValueError):
            raise ValueError(Message("must be a whole number")) from None
        if isinstance(raw, float) and raw != value:
            raise ValueError(Message("must be a whole number"))
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(Message("must be at least %(minimum)s", minimum=setting.minimum))
        if setting.maximum is not None and value > setting.maximum:
            raise ValueError(Message("must be at most %(maximum)s", maximum=setting.maximum))
        return value
    if t in ("str", "text"):
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise ValueError(Message("must be text"))
        value = raw.strip()
        if len(value) > setting.max_length:
            raise ValueError(Message("must be at most %(count)s characters", count=setting.max_length))
        return value
    if t == "choice":
        if raw not in setting.choices:
            raise ValueError(Message("must be one of: %(choices)s", choices=", ".join(setting.choice_labels or setting.choices)))
        return raw
    if t == "list":
        if isinstance(raw, str):
            items = [p.strip() for p in raw.replace("\n", ",").split(",")]
        elif isinstance(raw, list) and all(isinstance(p, str) for p in raw):
            items = [p.strip() for p in raw]
        else:
            raise ValueError(Message("must be a list of words"))
        items = [p for p in items if p]
        if any(len(p) > 100 for p in items) or len(items) > 200:
            raise ValueError(Message("has too many or too long entries"))
        unknown = [p for p in items if setting.choices and p not in setting.choices]
        if unknown:
            raise ValueError(Message("has entries that are not offered: %(entries)s", entries=", ".join(unknown[:5])[:200]))
        return list(dict.fromkeys(items))
    if t == "labels":
        return _parse_labels(setting, raw)
    raise ValueError(f"unknown setting type {t}")


def _parse_labels(setting: Setting, raw: Any) -> dict[str, str]:
    """{choice: heading}: one line each, empty headings dropped (the usual name is shown)."""
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(Message("must give a text for each field"))
    unknown = [k for k in raw if k not in setting.choices]
    if unknown:
        raise ValueError(Message("names fields that are not offered: %(fields)s", fields=", ".join(map(str, unknown[:5]))[:200]))
    clean = {}
    for key, value in raw.items():
        try:
            text = metadata_fields.clean_edit(key, value)
        except ValueError as exc:
            raise ValueError(Message("of %(field)s %(reason)s", field=setting.choice_label(key), reason=_reason(exc))) from None
        if len(text) > setting.max_length:
            raise ValueError(Message("of %(field)s must be at most %(count)s characters", field=setting.choice_label(key), count=setting.max_length))
        if text:
            clean[key] = text
    return clean


_HEX = frozenset("0123456789abcdef")
USER_ALBUM_PLACEHOLDERS = ("username", "date")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _is_link(value: str) -> bool:
    """An absolute http(s) URL with a host, or a path on this site (never //host, never a
    javascript: or data: URL, no spaces or control characters)."""
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in value):
        return False
    if value.startswith("/"):
        return not value.startswith("//")
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_format(key: str, value: Any) -> None:
    """Settings whose text has a shape: a colour, the sha256 name of an uploaded PNG."""
    if key == "watermark_color" and not (
        len(value) == 7 and value[0] == "#" and set(value[1:].lower()) <= _HEX
    ):
        raise ValueError(Message("must be a colour like #ffffff"))
    if key == "watermark_image" and value and not (len(value) == 64 and set(value) <= _HEX):
        raise ValueError(Message("must name an uploaded image"))
    if key == "original_jpeg_quality" and 0 < value < 30:
        raise ValueError(Message("must be 0 (keep originals as they came) or from 30 to 100"))
    if key == "gallery_title_url" and value and not _is_link(value):
        raise ValueError(Message("must be an http(s):// address or a path starting with /"))
    if key in ("user_album_title_template", "user_album_summary_template"):
        unknown = sorted(set(_PLACEHOLDER.findall(value)) - set(USER_ALBUM_PLACEHOLDERS))
        if unknown:
            raise ValueError(Message("may use only {username} and {date}, not %(placeholder)s", placeholder="{" + unknown[0][:40] + "}"))
        if key == "user_album_title_template" and not value:
            raise ValueError(Message("must not be empty"))
    if key == "download_only_extensions":
        bad = [e for e in value if not sniff.is_download_extension(e.lower())]
        if bad:
            raise ValueError(Message(
                "must be name endings of letters and digits that are not listed under allowed file types, not %(endings)s",
                endings=", ".join(bad[:5])[:200],
            ))
    if key == "allowed_html_tags":
        richtext.check_tags(value)
    if key == "allowed_html_attributes":
        richtext.check_attributes(value)


def _reason(exc: ValueError) -> Message:
    """Why a value was refused, as a Message (shown in the admin's language)."""
    said = exc.args[0] if exc.args else ""
    return said if isinstance(said, Message) else Message(str(said))


def validate(values: dict[str, Any]) -> dict[str, Any]:
    """Validate a partial update; raise Invalid with one error per bad field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, raw in values.items():
        setting = BY_KEY.get(key)
        if setting is None:
            errors[key] = Message("is not a setting")
            continue
        try:
            clean[key] = parse_value(setting, raw)
            _check_format(key, clean[key])
        except ValueError as exc:
            errors[key] = Message("%(setting)s %(reason)s", setting=Message(setting.label), reason=_reason(exc))
    if errors:
        raise Invalid("Some settings are not valid.", field_errors=errors)
    return clean


async def get_settings(ctx) -> dict[str, Any]:
    """The tenant's settings merged over the defaults, cached on the context until the
    tenant's database is written to (tenants.context: generations and CACHE_SECONDS)."""
    now = time.monotonic()
    if (
        ctx.settings_cache is not None
        and ctx.settings_generation == ctx.generation
        and now - ctx.settings_fetched_at < ctx.cache_seconds
    ):
        return ctx.settings_cache
    generation = ctx.generation
    doc = await ctx.db.settings.find_one({"_id": "gallery"}) or {}
    merged = defaults()
    for key, value in (doc.get("values") or {}).items():
        if key in BY_KEY:
            merged[key] = value
    ctx.settings_cache, ctx.settings_fetched_at = merged, now
    ctx.settings_generation = generation
    return merged


async def reseal_legacy_secrets(ctx) -> int:
    """Re-encrypt stored "enc1:" settings as "enc2:" (called whenever settings are saved)."""
    doc = await ctx.db.settings.find_one({"_id": "gallery"}) or {}
    values = doc.get("values") or {}
    stale = {
        f"values.{k}": encrypt_secret(ctx, v)
        for k, v in values.items()
        if k in BY_KEY and BY_KEY[k].secret and is_legacy(v)
    }
    if stale:
        await ctx.db.settings.update_one({"_id": "gallery"}, {"$set": stale})
    return len(stale)


async def update_settings(ctx, values: dict[str, Any]) -> dict[str, Any]:
    """Validate and store changed settings; return the full, new settings."""
    clean = validate(values)
    for key in [k for k in clean if BY_KEY[k].secret and clean[k]]:
        clean[key] = encrypt_secret(ctx, clean[key])  # secrets are stored encrypted
    if clean:
        await ctx.db.settings.update_one(
            {"_id": "gallery"},
            {
                "$set": {**{f"values.{k}": v for k, v in clean.items()}, "version": SETTINGS_VERSION, "updated": datetime.now(UTC)},
            },
            upsert=True,
        )
    await reseal_legacy_secrets(ctx)  # old "enc1:" secrets become AES-GCM on save
    ctx.settings_cache = None
    return await get_settings(ctx)
