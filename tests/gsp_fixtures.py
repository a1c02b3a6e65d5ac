"""Gallery Server Pro backup files, written the way GSP wrote them, for tests and the benchmark.

- `write_backup(out_dir, generation)`: the realistic sample of tests/gsp_content.py in one of the
  four generations (2.5, 2.6, 3.2.1, 4.5.0; '3.x'/'4.x' accepted), optionally zipped as GSP did,
  with the media folder of each gallery (real camera files laid out by Album.DirectoryName and
  OriginalFilename, GSP's own zThumb_/zOpt_ files beside them) and, if asked, a ZIP of it.
- `write_scale_backup(path, media_count, …)`: a 4.5 (or 3.2.1) file of any size, streamed row by
  row (memory flat even for a 500 MB file), with sparse-but-real JPEG files if asked.
- tests/gsp_hostile.py: the hostile variants. tests/gsp_writer.py: the schema-driven writer.
How to call them: /work/briefs5/gsp-fixtures.md.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

from tests.gsp_content import Content, Media, User, sample_content
from tests.gsp_media import make_video, stem, write_media_folder, zip_folder
from tests.gsp_writer import (
    BASE_TIME,
    CAPTION,
    DATE_ADDED,
    HTML_SOURCE,
    METADATA_CODES,
    PEOPLE,
    RATING,
    ROLE_COLUMNS,
    SCHEMA_VERSION,
    TAGS,
    TITLE,
    BackupWriter,
    generation_of,
    is_legacy,
)

APPLICATION_ID = "c6f1a8b2-37a4-4a55-9a53-7f43c1b7e001"
# what ASP.NET membership stores for "never"
MIN_DATE = BASE_TIME.replace(year=1754, month=1, day=1)
BACKUP_STEM = "GalleryServerBackup_2012-05-17_093015"


@dataclasses.dataclass
class GspBackup:
    """What `write_backup` made."""

    generation: str
    xml: Path  # the backup XML
    zip: Path | None  # GalleryServerBackup_….zip holding it, when zipped
    media_dirs: dict[int, Path]  # gallery id → that gallery's media folder
    media_zips: dict[int, Path]  # gallery id → a ZIP of it, when asked
    content: Content

    @property
    def backup(self) -> Path:
        """The file a user uploads: the ZIP when there is one, else the XML."""
        return self.zip or self.xml

    def expected(self, gallery_id: int = 2) -> dict:
        return self.content.expected(gallery_id)


def _guid(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gsp:{kind}:{name}"))


def _password(user: User) -> tuple[str, str]:
    """(Password, PasswordSalt) in the user's PasswordFormat: 0 clear, 1 hashed, 2 encrypted."""
    salt = base64.b64encode(hashlib.md5(user.name.encode()).digest()).decode()
    if user.password_format == 0:
        return f"clear-text-{user.name}", salt
    digest = hashlib.sha1(salt.encode() + user.name.encode()).digest()
    if user.password_format == 1:
        return base64.b64encode(digest).decode(), salt
    return base64.b64encode(b"\x01\x02enc" + digest * 2).decode(), salt


def _media_metadata(m: Media, *, legacy: bool) -> dict[int, str]:
    """The Metadata rows of one media object, {MetaName code: value}."""
    meta: dict[int, str] = {
        TITLE: m.title,
        DATE_ADDED: (BASE_TIME + timedelta(minutes=m.id)).isoformat(),
    }
    if m.caption:
        meta[CAPTION] = m.caption
    if m.tags:
        meta[TAGS] = ", ".join(m.tags)
    if m.people:
        meta[PEOPLE] = ", ".join(m.people)
    if m.rating:
        meta[RATING] = m.rating
    if m.external_html:
        meta[HTML_SOURCE] = m.external_html
    meta.update(m.metadata)
    if legacy:  # GSP 2.x knew codes up to 40 only
        meta = {code: value for code, value in meta.items() if code <= 40}
    return meta


def _user_rows(w: BackupWriter, content: Content, legacy: bool) -> None:
    t = lambda modern, legacy_name: legacy_name if legacy else modern
    if legacy:
        w.row(
            "aspnet_Applications",
            ApplicationName="/",
            LoweredApplicationName="/",
            ApplicationId=APPLICATION_ID,
        )
    else:
        w.row("Applications", ApplicationId=APPLICATION_ID, ApplicationName="/")
    for u in content.users:
        password, salt = _password(u)
        common = {
            "UserId": u.id,
            "ApplicationId": APPLICATION_ID,
            "Password": password,
            "PasswordFormat": u.password_format,
            "PasswordSalt": salt,
            "Email": u.email,
            "IsApproved": u.approved,
            "IsLockedOut": u.locked,
            "CreateDate": BASE_TIME,
            "LastLoginDate": BASE_TIME,
            "LastPasswordChangedDate": BASE_TIME,
            "LastLockoutDate": BASE_TIME if u.locked else MIN_DATE,
            "FailedPasswordAttemptCount": 5 if u.locked else 0,
            "FailedPasswordAttemptWindowStart": MIN_DATE,
            "FailedPasswordAnswerAttemptCount": 0,
        }
        if legacy:
            w.row(
                "aspnet_Membership",
                **common,
                LoweredEmail=u.email.lower() if u.email else None,
                FailedPasswordAnswerAttemptWindowStart=MIN_DATE,
            )
        else:
            w.row("Memberships", **common, FailedPasswordAnswerAttemptWindowsStart=MIN_DATE)
    if legacy:
        w.row(
            "aspnet_Profile",
            UserId=content.users[0].id,
            PropertyNames="",
            PropertyValuesString="",
            PropertyValuesBinary=b"",
            LastUpdatedDate=BASE_TIME,
        )
    for r in content.roles:
        extra = {"LoweredRoleName": r.name.lower()} if legacy else {}
        w.row(
            t("Roles", "aspnet_Roles"),
            RoleId=_guid("role", r.name),
            ApplicationId=APPLICATION_ID,
            RoleName=r.name,
            **extra,
        )
    for u in content.users:
        extra = {"LoweredUserName": u.name.lower()} if legacy else {}
        w.row(
            t("Users", "aspnet_Users"),
            UserId=u.id,
            ApplicationId=APPLICATION_ID,
            UserName=u.name,
            IsAnonymous=False,
            LastActivityDate=BASE_TIME,
            **extra,
        )
    for u in content.users:
        for role in u.roles:
            w.row(t("UsersInRoles", "aspnet_UsersInRoles"), UserId=u.id, RoleId=_guid("role", role))
    if not legacy:
        w.row(
            "Profiles",
            UserId=content.users[0].id,
            PropertyNames="",
            PropertyValueStrings="",
            PropertyValueBinary=b"",
            LastUpdatedDate=BASE_TIME,
        )


def _gallery_rows(w: BackupWriter, content: Content, legacy: bool) -> None:
    p = "gs_" if legacy else ""
    for g in content.galleries:
        extra = {} if legacy else {"IsTemplate": g.is_template}
        w.row(
            p + "Gallery", GalleryId=g.id, Description=g.description, DateAdded=BASE_TIME, **extra
        )
    for mid, ext, mime, _ in content.mime_types:
        w.row(
            p + "MimeType",
            MimeTypeId=mid,
            FileExtension=ext,
            MimeTypeValue=mime,
            BrowserMimeTypeValue="",
        )
    n = 0
    for g in content.galleries:
        for mid, _, _, enabled in content.mime_types:
            n += 1
            w.row(
                p + "MimeTypeGallery",
                MimeTypeGalleryId=n,
                FKGalleryId=g.id,
                FKMimeTypeId=mid,
                IsEnabled=enabled,
            )
    n = 0
    for g in content.galleries:
        for name, value in g.settings.items():
            n += 1
            extra = {"IsTemplate": g.is_template} if legacy else {}
            w.row(
                p + "GallerySetting",
                GallerySettingId=n,
                FKGalleryId=g.id,
                SettingName=name,
                SettingValue=value,
                **extra,
            )


def _album_rows(w: BackupWriter, content: Content, legacy: bool) -> None:
    for a in content.albums:
        common = {
            "AlbumId": a.id,
            "FKGalleryId": a.gallery_id,
            "DirectoryName": a.directory_name,
            "ThumbnailMediaObjectId": a.thumbnail_media_id,
            "Seq": a.seq,
            "DateAdded": BASE_TIME + timedelta(days=a.id),
            "CreatedBy": "admin",
            "LastModifiedBy": "admin",
            "DateLastModified": BASE_TIME,
            "OwnedBy": a.owned_by,
            "OwnerRoleName": a.owner_role,
            "IsPrivate": a.is_private,
        }
        if legacy:
            w.row(
                "gs_Album",
                **common,
                AlbumParentId=a.parent_id or 0,
                Title=a.title,
                Summary=a.summary,
            )
        else:
            w.row(
                "Album",
                **common,
                FKAlbumParentId=a.parent_id,
                SortByMetaName=a.sort_by,
                SortAscending=a.sort_ascending,
            )


def _role_rows(w: BackupWriter, content: Content, legacy: bool) -> None:
    for r in content.roles:
        w.row(
            "gs_Role" if legacy else "Role",
            RoleName=r.name,
            **{c: r.perms[c] for c in ROLE_COLUMNS},
        )
    for r in content.roles:
        for album_id in r.album_ids:
            w.row("gs_Role_Album" if legacy else "RoleAlbum", FKRoleName=r.name, FKAlbumId=album_id)


def _media_row(w: BackupWriter, m: Media, legacy: bool) -> None:
    name = stem(m.original_filename)
    has_file = bool(m.original_filename)
    common = {
        "MediaObjectId": m.id,
        "FKAlbumId": m.album_id,
        "ThumbnailFilename": f"zThumb_{name}.jpg" if has_file else "",
        "ThumbnailWidth": 115,
        "ThumbnailHeight": 86,
        "ThumbnailSizeKB": 3,
        "OptimizedFilename": f"zOpt_{name}.jpg" if has_file else "",
        "OptimizedWidth": m.width,
        "OptimizedHeight": m.height,
        "OptimizedSizeKB": 20,
        "OriginalFilename": m.original_filename,
        "OriginalWidth": m.width,
        "OriginalHeight": m.height,
        "OriginalSizeKB": 40,
        "ExternalHtmlSource": m.external_html or "",
        "ExternalType": m.external_type or "NotSet",
        "Seq": m.seq,
        "CreatedBy": "admin",
        "DateAdded": BASE_TIME + timedelta(minutes=m.id),
        "LastModifiedBy": "admin",
        "DateLastModified": BASE_TIME,
        "IsPrivate": m.is_private,
    }
    if legacy:
        w.row(
            "gs_MediaObject",
            **common,
            Title=m.caption or m.title,
            HashKey=hashlib.md5(str(m.id).encode()).hexdigest(),
        )
    else:
        w.row("MediaObject", **common)


def _metadata_rows(w: BackupWriter, content: Content, legacy: bool) -> None:
    n = 0
    if legacy:
        for m in content.media:
            for code, value in _media_metadata(m, legacy=True).items():
                n += 1
                w.row(
                    "gs_MediaObjectMetadata",
                    MediaObjectMetadataId=n,
                    FKMediaObjectId=m.id,
                    MetadataNameIdentifier=code,
                    Description=METADATA_CODES[code],
                    Value=value,
                )
        return
    links: list[tuple[int, str, int]] = []
    for a in content.albums:  # 3.x+: album titles and summaries are Metadata rows too
        for code, value in ((TITLE, a.title), (CAPTION, a.summary)):
            n += 1
            w.row("Metadata", MetadataId=n, MetaName=code, FKAlbumId=a.id, Value=value)
    for m in content.media:
        gallery = content.gallery_of(m.album_id)
        for code, value in _media_metadata(m, legacy=False).items():
            n += 1
            raw = "2008:05:30 15:56:01" if code == 8 else None
            w.row(
                "Metadata",
                MetadataId=n,
                MetaName=code,
                FKMediaObjectId=m.id,
                Value=value,
                RawValue=raw,
            )
            if code in (TAGS, PEOPLE):
                links += [(n, name.strip(), gallery) for name in value.split(",") if name.strip()]
    for name in sorted({name for _, name, _ in links}):
        w.row("Tag", TagName=name)
    for metadata_id, name, gallery in links:
        w.row("MetadataTag", FKMetadataId=metadata_id, FKTagName=name, FKGalleryId=gallery)


def _settings_rows(w: BackupWriter, content: Content, legacy: bool, generation: str) -> None:
    p = "gs_" if legacy else ""
    n = 0
    for u in content.users:
        for gallery_id, settings in u.profiles.items():
            for name, value in settings.items():
                n += 1
                w.row(
                    p + "UserGalleryProfile",
                    ProfileId=n,
                    UserName=u.name,
                    FKGalleryId=gallery_id,
                    SettingName=name,
                    SettingValue=value,
                )
    app = dict(content.app_settings)
    if SCHEMA_VERSION[generation]:
        app = {"DataSchemaVersion": SCHEMA_VERSION[generation], **app}
    for i, (name, value) in enumerate(app.items(), 1):
        w.row(p + "AppSetting", AppSettingId=i, SettingName=name, SettingValue=value)
    w.row(
        p + "GalleryControlSetting",
        GalleryControlSettingId=1,
        ControlId="gsp_g_ctl00",
        SettingName="GalleryId",
        SettingValue="2",
    )
    template = {
        "MimeType": "image/*",
        "BrowserId": "default",
        "HtmlTemplate": '<img src="{MediaObjectUrl}" alt="{TitleNoHtml}" />',
        "ScriptTemplate": "",
    }
    if legacy:
        w.row("gs_BrowserTemplate", BrowserTemplateId=1, **template)
        if generation == "2.5":
            w.row("gs_SchemaVersion", SchemaVersion="2.5.0")
    else:
        w.row("MediaTemplate", MediaTemplateId=1, **template)


def write_xml(path: Path, generation: str, content: Content) -> Path:
    """The content as one generation's backup XML, tables in the schema's order as WriteXml does."""
    gen = generation_of(generation)
    legacy = is_legacy(gen)
    with BackupWriter(path, gen) as w:
        _user_rows(w, content, legacy)
        _gallery_rows(w, content, legacy)
        _album_rows(w, content, legacy)
        _role_rows(w, content, legacy)
        if not legacy:
            for g in content.galleries:
                w.row(
                    "UiTemplate",
                    UiTemplateId=g.id,
                    TemplateType=0,
                    FKGalleryId=g.id,
                    Name="Default",
                    Description="",
                    HtmlTemplate="<div>{{:Album.Title}}</div>",
                    ScriptTemplate="",
                )
            for a in content.albums:
                if a.parent_id is None:
                    w.row("UiTemplateAlbum", FKUiTemplateId=a.gallery_id, FKAlbumId=a.id)
        for m in content.media:
            _media_row(w, m, legacy)
        _metadata_rows(w, content, legacy)
        _settings_rows(w, content, legacy, gen)
    return Path(path)


def write_backup(
    out_dir: Path,
    generation: str = "4.5.0",
    *,
    zipped: bool = False,
    media: bool = True,
    media_zip: bool = False,
    zip_prefix: str = "",
    video: bool = True,
    content: Content | None = None,
) -> GspBackup:
    """The realistic sample as a GSP backup in `out_dir` (see the module docstring)."""
    gen = generation_of(generation)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if content is None:
        content = sample_content(video=make_video(out / "clip.mp4") if video else None)
    xml = write_xml(out / f"{BACKUP_STEM}.xml", gen, content)
    backup_zip = None
    if zipped:
        backup_zip = out / f"{BACKUP_STEM}.zip"
        with zipfile.ZipFile(backup_zip, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(xml, xml.name)
    media_dirs, media_zips = {}, {}
    if media:
        for g in content.galleries:
            if g.is_template:
                continue
            media_dirs[g.id] = write_media_folder(out / f"media-g{g.id}", content, g.id)
            if media_zip:
                media_zips[g.id] = zip_folder(
                    media_dirs[g.id], out / f"media-g{g.id}.zip", zip_prefix
                )
    return GspBackup(gen, xml, backup_zip, media_dirs, media_zips, content)


from tests.gsp_scale import ScaleBackup, write_scale_backup

__all__ = [
    "GspBackup",
    "ScaleBackup",
    "sample_content",
    "write_backup",
    "write_scale_backup",
    "write_xml",
    "zip_folder",
]
