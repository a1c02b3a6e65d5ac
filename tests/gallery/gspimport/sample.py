"""A small GSP backup written the way .NET's DataSet.WriteXml(WriteSchema) writes one: the
generation's inline schema (GSP's own XSD, gallery/gspimport/schemas/) then one element per
row. The importer's own unit samples; tests/gsp_fixtures.py makes the full fixtures."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from gallery.gspimport.generation import SCHEMAS


def inline_schema(layout: str) -> str:
    text = (SCHEMAS / f"gsp-{layout}.xsd").read_text(encoding="utf-8-sig")
    return text.split("?>", 1)[1].strip() if text.startswith("<?xml") else text


def write(path: Path, rows: list[tuple[str, dict]], *, layout: str | None = "4.5.0", prolog: str = "") -> Path:
    """rows: (table, {column: value}) in file order; None values are left out like .NET does."""
    parts = ['<?xml version="1.0" standalone="yes"?>\n', prolog, "<GalleryServerData>\n"]
    if layout:
        parts.append(inline_schema(layout) + "\n")
    for table, row in rows:
        parts.append(f"  <{table}>\n")
        for column, value in row.items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            parts.append(f"    <{column}>{escape(str(value))}</{column}>\n")
        parts.append(f"  </{table}>\n")
    parts.append("</GalleryServerData>\n")
    path.write_text("".join(parts), encoding="utf-8")
    return path


T = "2024-03-01T10:00:00+01:00"
ROLE_OFF = {c: False for c in (
    "AllowViewAlbumsAndObjects", "AllowViewOriginalImage", "AllowAddChildAlbum", "AllowAddMediaObject",
    "AllowEditAlbum", "AllowEditMediaObject", "AllowDeleteChildAlbum", "AllowDeleteMediaObject",
    "AllowSynchronize", "HideWatermark", "AllowAdministerGallery", "AllowAdministerSite")}


def album(album_id, parent, dirname, *, gallery=1, seq=0, private=False, thumb=0, sort=29, asc=True):
    return ("Album", {"AlbumId": album_id, "FKGalleryId": gallery, "FKAlbumParentId": parent,
                      "DirectoryName": dirname, "ThumbnailMediaObjectId": thumb, "SortByMetaName": sort,
                      "SortAscending": asc, "Seq": seq, "DateAdded": T, "CreatedBy": "ann",
                      "LastModifiedBy": "ann", "DateLastModified": T, "OwnedBy": "", "OwnerRoleName": "",
                      "IsPrivate": private})


def media(media_id, album_id, filename, *, seq=0, external=None):
    return ("MediaObject", {"MediaObjectId": media_id, "FKAlbumId": album_id, "ThumbnailFilename": "zThumb_" + filename,
                            "ThumbnailWidth": 100, "ThumbnailHeight": 75, "ThumbnailSizeKB": 3,
                            "OptimizedFilename": "zOpt_" + filename, "OptimizedWidth": 640,
                            "OptimizedHeight": 480, "OptimizedSizeKB": 40, "OriginalFilename": filename,
                            "OriginalWidth": 64, "OriginalHeight": 48, "OriginalSizeKB": 2,
                            "ExternalHtmlSource": external, "ExternalType": "Video" if external else None,
                            "Seq": seq, "CreatedBy": "ann", "DateAdded": T, "LastModifiedBy": "ann",
                            "DateLastModified": T, "IsPrivate": False})


_meta_ids = iter(range(1, 10**9))


def meta(code, value, *, media_id=None, album_id=None):
    return ("Metadata", {"MetadataId": next(_meta_ids), "MetaName": code, "FKMediaObjectId": media_id,
                         "FKAlbumId": album_id, "Value": value, "RawValue": None})


def role(name, **on):
    return ("Role", {"RoleName": name, **ROLE_OFF, **on})


def user(user_id, name, email, *, fmt=1, approved=True, locked=False):
    return [("Users", {"UserId": user_id, "ApplicationId": "a0", "UserName": name, "IsAnonymous": False,
                       "LastActivityDate": T}),
            ("Memberships", {"UserId": user_id, "ApplicationId": "a0", "Password": "secret-in-gsp-" + name,
                             "PasswordFormat": fmt, "PasswordSalt": "c2FsdA==", "Email": email,
                             "IsApproved": approved, "IsLockedOut": locked, "CreateDate": T,
                             "LastLoginDate": T, "LastPasswordChangedDate": T, "LastLockoutDate": T,
                             "FailedPasswordAttemptCount": 0, "FailedPasswordAttemptWindowStart": T,
                             "FailedPasswordAnswerAttemptCount": 0,
                             "FailedPasswordAnswerAttemptWindowsStart": T})]


def gallery_45() -> list[tuple[str, dict]]:
    """Two galleries (and a template): gallery 1 with a 3-deep tree, media with metadata and
    tags, an external video, an unsafe embed, a missing file, roles and users."""
    rows = [("Gallery", {"GalleryId": 0, "Description": "Template", "IsTemplate": True, "DateAdded": T}),
            ("Gallery", {"GalleryId": 1, "Description": "Family", "IsTemplate": False, "DateAdded": T}),
            ("Gallery", {"GalleryId": 2, "Description": "Work", "IsTemplate": False, "DateAdded": T}),
            ("GallerySetting", {"GallerySettingId": 1, "FKGalleryId": 1, "SettingName": "MaxThumbnailLength",
                                "SettingValue": "200"}),
            ("GallerySetting", {"GallerySettingId": 2, "FKGalleryId": 1, "SettingName": "EnableSelfRegistration",
                                "SettingValue": "True"}),
            ("GallerySetting", {"GallerySettingId": 3, "FKGalleryId": 1, "SettingName": "ShowHeader",
                                "SettingValue": "True"}),
            ("GallerySetting", {"GallerySettingId": 4, "FKGalleryId": 1, "SettingName": "SlideshowInterval",
                                "SettingValue": "6000"}),
            album(1, None, "", thumb=0), album(2, 1, "Trips", seq=1, thumb=11), album(3, 2, "Été 2023", seq=0),
            album(4, 1, "Private", seq=2, private=True),
            album(20, None, "", gallery=2), album(21, 20, "Projects", gallery=2),
            media(10, 1, "root.jpg"), media(11, 2, "beach.jpg", seq=1), media(12, 3, "sea.jpg"),
            media(13, 3, "gone.jpg", seq=2),
            media(14, 2, "", seq=3, external='<iframe src="https://www.youtube.com/embed/xyz" width="560"></iframe>'),
            media(15, 2, "", seq=4, external='<script>alert(1)</script><iframe src="https://evil.example/x"></iframe>'),
            media(16, 4, "secret.jpg"), media(30, 21, "work.jpg", seq=0),
            meta(29, "Family album", album_id=1), meta(41, "All of us", album_id=1),
            meta(29, "Trips ✈", album_id=2), meta(41, "<b>Summer</b> trips", album_id=2),
            meta(29, "Été", album_id=3), meta(29, "Private", album_id=4),
            meta(29, "Beach at noon", media_id=11), meta(41, "We <i>swam</i> & ate", media_id=11),
            meta(22, "sea, sun", media_id=11), meta(42, "Ann Lee, Bob", media_id=11),
            meta(26, "4", media_id=11), meta(4, "Canon EOS 5D", media_id=11), meta(21, "ISO 200", media_id=11),
            meta(103, "47.1234", media_id=11), meta(2019, "custom twenty", media_id=11),
            meta(29, "<b>Sea</b> &amp; sky", media_id=12), meta(29, "Gone", media_id=13), meta(29, "Video", media_id=14),
            role("Admins", AllowAdministerSite=True),
            role("Editors", AllowViewAlbumsAndObjects=True, AllowViewOriginalImage=True, AllowAddMediaObject=True,
                 AllowEditMediaObject=True, HideWatermark=True),
            role("Gallery Administrators", AllowAdministerGallery=True),
            role("Workers", AllowViewAlbumsAndObjects=True),
            ("RoleAlbum", {"FKRoleName": "Editors", "FKAlbumId": 2}),
            ("RoleAlbum", {"FKRoleName": "Gallery Administrators", "FKAlbumId": 1}),
            ("RoleAlbum", {"FKRoleName": "Workers", "FKAlbumId": 21}),
            ("RoleAlbum", {"FKRoleName": "Editors", "FKAlbumId": 999}),
            ("Roles", {"RoleId": "r1", "ApplicationId": "a0", "RoleName": "Admins"}),
            ("Roles", {"RoleId": "r2", "ApplicationId": "a0", "RoleName": "Editors"}),
            *user("u1", "ann", "ann@example.test", fmt=0),
            *user("u2", "bob", "", fmt=1, approved=False),
            *user("u3", "cyd", "cyd@example.test", fmt=2, locked=True),
            ("UsersInRoles", {"UserId": "u1", "RoleId": "r1"}),
            ("UsersInRoles", {"UserId": "u2", "RoleId": "r2"}),
            ("UserGalleryProfile", {"ProfileId": 1, "UserName": "bob", "FKGalleryId": 1,
                                    "SettingName": "UserAlbumId", "SettingValue": "4"}),
            ("UserGalleryProfile", {"ProfileId": 2, "UserName": "bob", "FKGalleryId": 1,
                                    "SettingName": "EnableUserAlbum", "SettingValue": "True"}),
            ("AppSetting", {"AppSettingId": 1, "SettingName": "DataSchemaVersion", "SettingValue": "4.5.0"}),
    ]
    return rows


def media_folder(root: Path, make_jpeg) -> Path:
    """The old server's media folder for gallery_45 (gone.jpg absent; GSP's own copies present)."""
    files = {"root.jpg": "", "beach.jpg": "Trips", "zThumb_beach.jpg": "Trips", "zOpt_beach.jpg": "Trips",
             "sea.jpg": "Trips/Été 2023", "secret.jpg": "Private"}
    for n, (name, folder) in enumerate(sorted(files.items())):
        target = root / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        make_jpeg(64, 48, name=f"src-{n}.jpg", color=(20 * n, 100, 50)).rename(target)
    return root
