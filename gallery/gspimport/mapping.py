"""GSP's names for things → Atrium's: role permission columns, MetadataItemName codes, album
sort fields and gallery settings (the tables in docs/gsp-import.md say the same)."""

from __future__ import annotations

#: Role column -> Atrium permission. AllowAdministerSite (the whole GSP installation) becomes
#: administer_gallery: a tenant is the whole site an imported gallery knows.
PERMISSIONS = {
    "AllowViewAlbumsAndObjects": "view",
    "AllowViewOriginalImage": "view_original",
    "AllowAddChildAlbum": "add_album",
    "AllowAddMediaObject": "add_media",
    "AllowEditAlbum": "edit_album",
    "AllowEditMediaObject": "edit_media",
    "AllowDeleteChildAlbum": "delete_album",
    "AllowDeleteMediaObject": "delete_media",
    "AllowSynchronize": "synchronize",
    "HideWatermark": "hide_watermark",
    "AllowAdministerGallery": "administer_gallery",
    "AllowAdministerSite": "administer_gallery",
}

#: GSP MetadataItemName codes (GSP's enum) -> the key under which the value is kept in the
#: media document's `metadata.gsp` (every value GSP stored is kept, known name or not).
META_NAMES = {
    0: "AudioBitRate", 1: "AudioFormat", 2: "Author", 3: "BitRate", 4: "CameraModel", 5: "Comment",
    6: "ColorRepresentation", 7: "Copyright", 8: "DatePictureTaken", 9: "Description", 10: "Dimensions",
    11: "Duration", 12: "EquipmentManufacturer", 13: "ExposureCompensation", 14: "ExposureProgram",
    15: "ExposureTime", 16: "FlashMode", 17: "FNumber", 18: "FocalLength", 19: "Height",
    20: "HorizontalResolution", 21: "IsoSpeed", 22: "Tags", 23: "LensAperture", 24: "LightSource",
    25: "MeteringMode", 26: "Rating", 27: "SubjectDistance", 28: "Subject", 29: "Title",
    30: "VerticalResolution", 31: "VideoBitRate", 32: "VideoFormat", 33: "Width", 34: "FileName",
    35: "FileNameWithoutExtension", 36: "FileSizeKb", 37: "DateFileCreated", 38: "DateFileCreatedUtc",
    39: "DateFileLastModified", 40: "DateFileLastModifiedUtc", 41: "Caption", 42: "People",
    43: "Orientation",
    101: "GpsLocation", 102: "GpsLocationWithMapLink", 103: "GpsLatitude", 104: "GpsLongitude",
    105: "GpsDestLocation", 106: "GpsDestLocationWithMapLink", 107: "GpsDestLatitude",
    108: "GpsDestLongitude", 109: "GpsAltitude", 110: "GpsVersion", 111: "DateAdded", 112: "HtmlSource",
    113: "RatingCount", 114: "AlbumTitle", 115: "AlbumCaption",
    1001: "IptcByline", 1002: "IptcBylineTitle", 1003: "IptcCaption", 1004: "IptcCity",
    1005: "IptcCopyrightNotice", 1006: "IptcCountryPrimaryLocationName", 1007: "IptcCredit",
    1008: "IptcDateCreated", 1009: "IptcHeadline", 1010: "IptcKeywords", 1011: "IptcObjectName",
    1012: "IptcOriginalTransmissionReference", 1013: "IptcProvinceState", 1014: "IptcRecordVersion",
    1015: "IptcSource", 1016: "IptcSpecialInstructions", 1017: "IptcSublocation", 1018: "IptcWriterEditor",
    **{2000 + n: f"Custom{n + 1}" for n in range(20)},
}
TITLE, CAPTION, TAGS, PEOPLE, RATING, DATE_TAKEN, DATE_ADDED, HTML_SOURCE = 29, 41, 22, 42, 26, 8, 111, 112
#: People become tags with this prefix (Atrium has tags, not a people field): "person:Ann Lee".
PERSON_PREFIX = "person:"

#: Album SortByMetaName -> Atrium sort field; codes without an equivalent keep the custom order.
SORT_FIELDS = {29: "title", 8: "date_taken", 111: "date_added", 34: "file_name", 35: "file_name"}

#: GallerySetting name -> (Atrium setting, converter). Settings not here are listed as unmapped.
def _bool(v: str) -> bool:
    return v.strip().lower() == "true"


def _int(v: str) -> int:
    return int(float(v.strip()))


def _exts(v: str) -> list[str]:
    return [e.strip().lstrip(".*").lower() for e in v.replace(";", ",").split(",") if e.strip().lstrip(".*")]


SETTINGS = {
    "MaxThumbnailLength": ("thumbnail_size", _int),
    "ThumbnailImageJpegQuality": ("thumbnail_quality", _int),
    "MaxOptimizedLength": ("optimized_size", _int),
    "OptimizedImageJpegQuality": ("optimized_quality", _int),
    "EnableSelfRegistration": ("allow_registration", _bool),
    "RequireEmailValidationForSelfRegisteredUser": ("require_email_verification", _bool),
    "RequireApprovalForSelfRegisteredUser": ("require_approval", _bool),
    "EnableUserAlbum": ("user_albums", _bool),
    "AllowAnonymousBrowsing": ("allow_anonymous_browsing", _bool),
    "AllowAnonymousHiResViewing": ("allow_anonymous_original", _bool),
    "SlideshowInterval": ("slideshow_interval", lambda v: max(1, round(_int(v) / 1000))),  # ms -> s
    "SlideShowLoop": ("slideshow_loop", _bool),
    "AllowUserEnteredHtml": ("allow_user_html", _bool),
    "AllowHtmlInTitlesAndCaptions": ("allow_user_html", _bool),
    "AllowedHtmlTags": ("allowed_html_tags", _exts),
    "EnableMediaObjectDownload": ("allow_file_download", _bool),
    "EnableAlbumZipDownload": ("allow_album_zip", _bool),
    "EnableGalleryObjectZipDownload": ("allow_selection_zip", _bool),
    "EnableMediaObjectZipDownload": ("allow_album_zip", _bool),  # 2.x: one switch for ZIPs
    "ShowLogin": ("show_login", _bool),
    "ShowSearch": ("show_search", _bool),
    "GalleryTitle": ("gallery_title", str),
    "GalleryTitleUrl": ("gallery_title_url", str),
    "CustomCss": ("custom_css", str),
    "EmailFromName": ("from_name", str),
    "EmailFromAddress": ("from_address", str),
    "WatermarkText": ("watermark_text", str),
    "ApplyWatermark": ("watermark_enabled", _bool),
    "ApplyWatermarkToThumbnails": ("watermark_thumbnails", _bool),
    "MaxUploadSize": ("max_upload_mb", lambda v: max(1, _int(v) // 1024)),  # KB -> MB
    "AllowedFileExtensions": ("allowed_extensions", _exts),
}


#: Settings naming a GSP album id: the importer gives the Atrium id of that album.
ALBUM_SETTINGS = {"UserAlbumParentAlbumId": "user_album_parent_id"}


def split_list(value: str) -> list[str]:
    """GSP's comma-separated tag or people list."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
