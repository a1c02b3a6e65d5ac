"""A GSP 4.5 (or 3.2.1) backup of any size, streamed, for the benchmark and the 500 MB test.

Rows are made from their index as they are written (two passes: MediaObject rows, then their
Metadata rows, as WriteXml orders tables), so memory stays flat whatever `media_count` is.
Media files, when asked, are real camera JPEGs; `file_bytes` makes each one that long with a
sparse hole before a unique 16-byte tail (JPEG readers stop at the end-of-image marker), so
2 GB of media takes little disk on the source side and no two files are equal.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta
from pathlib import Path

from tests.gsp_writer import (
    BASE_TIME,
    CAPTION,
    DATE_ADDED,
    METADATA_CODES,
    ROLE_COLUMNS,
    SAMPLES,
    TAGS,
    TITLE,
    BackupWriter,
)

SCALE_TAGS = [f"tag {i:02}" for i in range(50)]
# camera codes added after title/caption/tags/date, up to `metadata_per_media` rows per media object
CAMERA_CODES = [4, 8, 12, 15, 17, 18, 21, 33, 19, 25, 16, 14, 13, 24, 10, 103, 104, 109]


@dataclasses.dataclass
class ScaleBackup:
    xml: Path
    media_dir: Path | None
    media_count: int
    album_count: int
    rows: int
    xml_bytes: int
    media_bytes: int


def _album_of(i: int, per_album: int) -> int:
    return 100 + i // per_album  # album ids start at 100; 1 is the root, 2..99 year albums


def write_scale_backup(
    path: Path,
    media_count: int,
    *,
    generation: str = "4.5.0",
    media_per_album: int = 100,
    metadata_per_media: int = 10,
    caption_bytes: int = 40,
    media_dir: Path | None = None,
    file_bytes: int = 0,
) -> ScaleBackup:
    """One gallery (id 1) under a root album, year albums, then albums of `media_per_album`."""
    path = Path(path)
    album_count = -(-media_count // media_per_album)
    years = max(1, min(98, -(-album_count // 20)))
    samples = sorted((SAMPLES / "jpg").glob("*.jpg"))
    with BackupWriter(path, generation) as w:
        w.row(
            "Applications",
            ApplicationId="c6f1a8b2-37a4-4a55-9a53-7f43c1b7e001",
            ApplicationName="/",
        )
        w.row(
            "Gallery", GalleryId=1, Description="Big gallery", IsTemplate=False, DateAdded=BASE_TIME
        )
        for i, (name, value) in enumerate(
            {"MaxThumbnailLength": "115", "AllowAnonymousBrowsing": "True"}.items(), 1
        ):
            w.row(
                "GallerySetting",
                GallerySettingId=i,
                FKGalleryId=1,
                SettingName=name,
                SettingValue=value,
            )

        def album(aid: int, parent: int | None, dirname: str) -> None:
            w.row(
                "Album",
                AlbumId=aid,
                FKGalleryId=1,
                FKAlbumParentId=parent,
                DirectoryName=dirname,
                ThumbnailMediaObjectId=0,
                SortByMetaName=111,
                SortAscending=True,
                Seq=aid,
                DateAdded=BASE_TIME,
                CreatedBy="admin",
                LastModifiedBy="admin",
                DateLastModified=BASE_TIME,
                OwnedBy="",
                OwnerRoleName="",
                IsPrivate=False,
            )

        album(1, None, "")
        for y in range(years):
            album(2 + y, 1, f"{2001 + y}")
        for a in range(album_count):
            album(100 + a, 2 + a % years, f"Album {a:05}")
        w.row("Role", RoleName="Administrators", **{c: True for c in ROLE_COLUMNS})
        w.row("RoleAlbum", FKRoleName="Administrators", FKAlbumId=1)
        for i in range(media_count):
            name = f"IMG_{i:07}.jpg"
            w.row(
                "MediaObject",
                MediaObjectId=i + 1,
                FKAlbumId=_album_of(i, media_per_album),
                ThumbnailFilename=f"zThumb_IMG_{i:07}.jpg",
                ThumbnailWidth=115,
                ThumbnailHeight=86,
                ThumbnailSizeKB=4,
                OptimizedFilename=f"zOpt_IMG_{i:07}.jpg",
                OptimizedWidth=640,
                OptimizedHeight=480,
                OptimizedSizeKB=60,
                OriginalFilename=name,
                OriginalWidth=2048,
                OriginalHeight=1536,
                OriginalSizeKB=max(1, file_bytes // 1024),
                ExternalHtmlSource="",
                ExternalType="NotSet",
                Seq=i % media_per_album,
                CreatedBy="admin",
                DateAdded=BASE_TIME + timedelta(seconds=i),
                LastModifiedBy="admin",
                DateLastModified=BASE_TIME,
                IsPrivate=False,
            )
        meta_id = 0
        links = []
        caption = ("Caption with <b>HTML</b> and ünïcode " * (caption_bytes // 36 + 1))[
            :caption_bytes
        ]
        for i in range(media_count):
            tags = [SCALE_TAGS[i % 50], SCALE_TAGS[(i * 7) % 50]]
            values = {
                TITLE: f"Photo {i}",
                CAPTION: caption,
                TAGS: ", ".join(tags),
                DATE_ADDED: (BASE_TIME + timedelta(seconds=i)).isoformat(),
            }
            for code in CAMERA_CODES[: max(0, metadata_per_media - len(values))]:
                values[code] = f"{METADATA_CODES[code]} {i % 97}"
            for code, value in values.items():
                meta_id += 1
                w.row(
                    "Metadata",
                    MetadataId=meta_id,
                    MetaName=code,
                    FKMediaObjectId=i + 1,
                    Value=value,
                )
                if code == TAGS:
                    links.append(meta_id)
        for tag in SCALE_TAGS:
            w.row("Tag", TagName=tag)
        for n, metadata_id in enumerate(links):  # one int per media object: flat enough at any size
            for tag in (SCALE_TAGS[n % 50], SCALE_TAGS[(n * 7) % 50]):
                w.row("MetadataTag", FKMetadataId=metadata_id, FKTagName=tag, FKGalleryId=1)
        w.row(
            "AppSetting", AppSettingId=1, SettingName="DataSchemaVersion", SettingValue=w.generation
        )
        rows = w.rows
    media_bytes = 0
    if media_dir is not None:
        for i in range(media_count):
            a = _album_of(i, media_per_album) - 100
            folder = Path(media_dir) / f"{2001 + a % years}" / f"Album {a:05}"
            folder.mkdir(parents=True, exist_ok=True)
            data = samples[i % len(samples)].read_bytes()
            with open(folder / f"IMG_{i:07}.jpg", "wb") as f:
                f.write(data)
                if file_bytes > len(data) + 16:
                    f.seek(file_bytes - 16)
                f.write(i.to_bytes(16, "big"))
                media_bytes += f.tell()
    return ScaleBackup(
        path,
        Path(media_dir) if media_dir else None,
        media_count,
        album_count + years + 1,
        rows,
        os.path.getsize(path),
        media_bytes,
    )
