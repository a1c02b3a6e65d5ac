"""A GSP backup's rows, normalised across generations: 2.5/2.6 `gs_`/`aspnet_` tables with
album and media titles in columns, and 3.x/4.x unprefixed tables with titles, captions and
tags in Metadata rows, become one shape (GspData). Only what the import uses is kept, each
row compacted as it streams past (templates, errors and UI templates are counted, not kept).
What grows with the media count (media rows, their Metadata rows and tag links) goes to a
temporary SQLite file (workfile.py); what grows with albums, roles and users stays here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gallery.gspimport import generation, reader
from gallery.gspimport.errors import GspRefused
from gallery.gspimport.workfile import WorkFile

#: 2.x table -> the 3.x/4.x name it became
RENAMED = {
    "gs_Album": "Album", "gs_MediaObject": "MediaObject", "gs_MediaObjectMetadata": "Metadata",
    "gs_Role": "Role", "gs_Role_Album": "RoleAlbum", "gs_Gallery": "Gallery",
    "gs_GallerySetting": "GallerySetting", "gs_AppSetting": "AppSetting",
    "gs_UserGalleryProfile": "UserGalleryProfile", "gs_SchemaVersion": "SchemaVersion",
    "gs_MimeType": "MimeType", "gs_MimeTypeGallery": "MimeTypeGallery",
    "aspnet_Users": "Users", "aspnet_Membership": "Memberships", "aspnet_Roles": "Roles",
    "aspnet_UsersInRoles": "UsersInRoles", "aspnet_Applications": "Applications",
}
ROLE_COLUMNS = (
    "AllowViewAlbumsAndObjects", "AllowViewOriginalImage", "AllowAddChildAlbum", "AllowAddMediaObject",
    "AllowEditAlbum", "AllowEditMediaObject", "AllowDeleteChildAlbum", "AllowDeleteMediaObject",
    "AllowSynchronize", "HideWatermark", "AllowAdministerGallery", "AllowAdministerSite",
)
TAGS, PEOPLE = 22, 42


#: GSP's ids and codes are 32-bit; a number beyond 64 bits fits neither SQLite nor BSON.
_INT_LIMIT = 1 << 63


def to_int(text, default=None):
    if text is None or text == "":  # the common empty column, without an exception
        return default
    try:
        value = int(text)  # int() strips whitespace itself
    except (TypeError, ValueError):
        return default
    return value if -_INT_LIMIT <= value < _INT_LIMIT else default


def to_bool(text) -> bool:
    return str(text).strip().lower() in ("true", "1")


def to_time(text) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class GspData:
    schema: bytes | None = None
    prefixed: bool = False
    tables: Counter = field(default_factory=Counter)         # rows read per (original) table
    galleries: dict = field(default_factory=dict)            # id -> {description, template}
    albums: dict = field(default_factory=dict)               # id -> album
    album_meta: dict = field(default_factory=dict)           # album id -> {code: value}
    work: WorkFile | None = None                             # media, their metadata and tags
    roles: dict = field(default_factory=dict)                # name -> {column: bool}
    grants: list = field(default_factory=list)               # (role name, album id)
    users: dict = field(default_factory=dict)                # user id -> user
    members: dict = field(default_factory=dict)              # user id -> membership
    role_ids: dict = field(default_factory=dict)             # membership role id -> name
    user_roles: list = field(default_factory=list)           # (user id, role id)
    profiles: dict = field(default_factory=dict)             # (user name, gallery id) -> {name: value}
    settings: dict = field(default_factory=dict)             # gallery id -> {name: value}
    mime_enabled: dict = field(default_factory=dict)         # gallery id -> set of extensions
    mime_types: dict = field(default_factory=dict)           # mime type id -> extension
    app_settings: dict = field(default_factory=dict)
    marker_table: str | None = None
    schema_version_row: str | None = None
    duplicates: list = field(default_factory=list)           # (table, id)
    gen: generation.Generation | None = None

    def media_rows(self):
        """(row, {code: value}, {code: [exact tag names from MetadataTag]}) per media object, by id."""
        return self.work.media_rows()

    def close(self) -> None:
        if self.work is not None:
            self.work.close()


def _put(data: GspData, table: str, store: dict, key, value) -> None:
    if key in store:
        data.duplicates.append((table, key))
        return
    store[key] = value


def _add(data: GspData, table: str, row: dict) -> None:
    if table == "Album":
        album_id = to_int(row.get("AlbumId"))
        if album_id is None:
            return
        parent = to_int(row.get("FKAlbumParentId", row.get("AlbumParentId")))
        if "AlbumParentId" in row and parent == 0:
            parent = None  # 2.x: 0 is the root's parent
        _put(data, table, data.albums, album_id, {
            "id": album_id, "gallery_id": to_int(row.get("FKGalleryId"), 1), "parent_id": parent,
            "dirname": row.get("DirectoryName", ""), "title": row.get("Title"), "summary": row.get("Summary"),
            "thumb_id": to_int(row.get("ThumbnailMediaObjectId"), 0),
            "sort_meta": to_int(row.get("SortByMetaName")), "sort_asc": to_bool(row.get("SortAscending", "true")),
            "seq": to_int(row.get("Seq"), 0), "date_added": to_time(row.get("DateAdded")),
            "modified": to_time(row.get("DateLastModified")), "owner": row.get("OwnedBy") or "",
            "created_by": row.get("CreatedBy") or "", "private": to_bool(row.get("IsPrivate")),
        })
    elif table == "MediaObject":
        media_id = to_int(row.get("MediaObjectId"))
        if media_id is None:
            return
        # Duplicated ids are found once the stream ends (WorkFile.finish_reading).
        album_id = to_int(row.get("FKAlbumId"))
        data.work.add_media(media_id, album_id, {
            "id": media_id, "album_id": album_id, "title": row.get("Title"),
            "file": row.get("OriginalFilename") or "", "width": to_int(row.get("OriginalWidth")),
            "height": to_int(row.get("OriginalHeight")), "size_kb": to_int(row.get("OriginalSizeKB")),
            "external_html": row.get("ExternalHtmlSource") or "", "external_type": row.get("ExternalType") or "",
            "seq": to_int(row.get("Seq"), 0), "date_added": to_time(row.get("DateAdded")),
            "created_by": row.get("CreatedBy") or "", "private": to_bool(row.get("IsPrivate")),
        })
    elif table == "Metadata":
        code = to_int(row.get("MetaName", row.get("MetadataNameIdentifier")))
        value = row.get("Value", "")
        if code is None:
            return
        media_id, album_id = to_int(row.get("FKMediaObjectId")), to_int(row.get("FKAlbumId"))
        kind, obj = ("m", media_id) if media_id is not None else ("a", album_id)
        if obj is None:
            return
        if kind == "a":
            data.album_meta.setdefault(obj, {})[code] = value
            return
        data.work.add_meta(obj, code, value)
        metadata_id = to_int(row.get("MetadataId"))
        if code in (TAGS, PEOPLE) and metadata_id is not None:
            data.work.add_tag_owner(metadata_id, obj, code)
    elif table == "MetadataTag":
        metadata_id = to_int(row.get("FKMetadataId"))
        if metadata_id is not None:
            data.work.add_tag(metadata_id, row.get("FKTagName", ""))
    elif table == "Role":
        name = row.get("RoleName", "")
        _put(data, table, data.roles, name, {c: to_bool(row.get(c)) for c in ROLE_COLUMNS})
    elif table == "RoleAlbum":
        data.grants.append((row.get("FKRoleName", ""), to_int(row.get("FKAlbumId"))))
    elif table == "Gallery":
        gallery_id = to_int(row.get("GalleryId"))
        _put(data, table, data.galleries, gallery_id, {
            "id": gallery_id, "description": row.get("Description", ""),
            "template": to_bool(row.get("IsTemplate"))})
    elif table == "GallerySetting":
        if to_bool(row.get("IsTemplate")):  # 2.x: the template gallery's defaults
            return
        data.settings.setdefault(to_int(row.get("FKGalleryId"), 1), {})[row.get("SettingName", "")] = \
            row.get("SettingValue", "")
    elif table == "AppSetting":
        data.app_settings[row.get("SettingName", "")] = row.get("SettingValue", "")
        if row.get("SettingName") == "DataSchemaVersion":
            data.marker_table = "gs_AppSetting" if data.prefixed else "AppSetting"
    elif table == "SchemaVersion":
        data.schema_version_row = row.get("SchemaVersion") or None
    elif table == "Users":
        if to_bool(row.get("IsAnonymous")):
            return
        user_id = row.get("UserId", "").lower()
        _put(data, table, data.users, user_id, {"id": user_id, "username": row.get("UserName", "")})
    elif table == "Memberships":
        data.members[row.get("UserId", "").lower()] = {
            "email": (row.get("Email") or "").strip(), "approved": to_bool(row.get("IsApproved", "true")),
            "locked": to_bool(row.get("IsLockedOut")), "password_format": to_int(row.get("PasswordFormat")),
            "created": to_time(row.get("CreateDate")),
        }
    elif table == "Roles":
        data.role_ids[row.get("RoleId", "").lower()] = row.get("RoleName", "")
    elif table == "UsersInRoles":
        data.user_roles.append((row.get("UserId", "").lower(), row.get("RoleId", "").lower()))
    elif table == "UserGalleryProfile":
        key = (row.get("UserName", ""), to_int(row.get("FKGalleryId"), 1))
        data.profiles.setdefault(key, {})[row.get("SettingName", "")] = row.get("SettingValue", "")
    elif table == "MimeType":
        data.mime_types[to_int(row.get("MimeTypeId"))] = row.get("FileExtension", "").lstrip(".").lower()
    elif table == "MimeTypeGallery" and to_bool(row.get("IsEnabled")):
        data.mime_enabled.setdefault(to_int(row.get("FKGalleryId"), 1), set()).add(to_int(row.get("FKMimeTypeId")))


def load(path, *, on_progress=None, work_path=None) -> GspData:
    """Read the whole backup once into a GspData (generation decided at the end, where the
    AppSetting rows are), its media part into a WorkFile at `work_path` (a temporary file when
    None). The caller closes it (GspData.close). Raises GspRefused."""
    data = GspData(work=WorkFile(work_path))
    try:
        _load(data, path, on_progress)
    except BaseException:
        data.close()
        raise
    return data


def _load(data: GspData, path, on_progress) -> None:
    def keep_schema(blob: bytes) -> None:
        data.schema = blob

    for table, row in reader.read_rows(path, on_schema=keep_schema, on_progress=on_progress):
        data.tables[table] += 1
        if table.startswith(("gs_", "aspnet_")):
            data.prefixed = True
        _add(data, RENAMED.get(table, table), row)
    if not (data.tables.get("Album") or data.tables.get("gs_Album")) and not data.schema:
        raise GspRefused("This is not a Gallery Server Pro backup: it has neither albums nor a GSP schema.")
    data.gen = generation.decide(
        marker=data.app_settings.get("DataSchemaVersion"), marker_table=data.marker_table,
        schema_version_row=data.schema_version_row, schema=data.schema, prefixed=data.prefixed)
    data.duplicates.extend(("MediaObject", i) for i in data.work.finish_reading())
