"""Hostile Gallery Server Pro backups and media ZIPs (each a bad input the importer must refuse or skip).

`write_hostile(out_dir, kind, generation='4.5.0')` → `Hostile(kind, path, about, details)`;
`HOSTILE_KINDS` lists the kinds. Structural ones (cycle, two roots, …) are valid against their
inline schema — only their meaning is wrong — so a schema check alone cannot catch them.
"""

from __future__ import annotations

import dataclasses
import stat
import zipfile
from pathlib import Path

from tests.gsp_content import Album, Media, sample_content
from tests.gsp_fixtures import BACKUP_STEM, write_xml
from tests.gsp_writer import BASE_TIME, SAMPLES, BackupWriter, generation_of, is_legacy

SECRET = "ATRIUM-XXE-SECRET-7f3a"


@dataclasses.dataclass
class Hostile:
    kind: str
    path: Path
    about: str
    details: dict = dataclasses.field(default_factory=dict)


def _entity_file(out: Path, generation: str, doctype: str, title: str) -> Path:
    """A small backup whose first album title is `title` (an entity reference), after `doctype`."""
    path = out / f"{BACKUP_STEM}.xml"
    legacy = is_legacy(generation)
    with BackupWriter(path, generation, doctype=doctype) as w:
        w.row(
            "gs_Gallery" if legacy else "Gallery",
            GalleryId=1,
            Description="x",
            DateAdded=BASE_TIME,
            **({} if legacy else {"IsTemplate": False}),
        )
    # The reference must stay unexpanded text in the file: put it in by hand after writing.
    text = path.read_text("utf-8").replace(
        "<Description>x</Description>", f"<Description>{title}</Description>"
    )
    path.write_text(text, "utf-8")
    return path


def _structural(out: Path, generation: str, change) -> Path:
    content = sample_content()
    details = change(content) or {}
    path = write_xml(out / f"{BACKUP_STEM}.xml", generation, content)
    return path, details


def _cycle(c):
    by_id = {a.id: a for a in c.albums}
    by_id[11].parent_id = 13  # 11 → 13 → 12 → 11: the Holidays branch never reaches the root
    return {"albums": [11, 12, 13]}


def _two_roots(c):
    c.albums.append(Album(21, 2, None, "", "A second root", ""))
    return {"albums": [10, 21]}


def _dangling(c):
    c.media.append(Media(120, 9999, "Nikon_D70.jpg", "Album gone"))
    c.roles[0].album_ids.append(9999)
    c.users[1].profiles[2]["UserAlbumId"] = "9999"
    return {"media": [120], "album": 9999}


def _duplicates(c):
    c.albums.append(Album(13, 2, 12, "Day 1 again", "Duplicate album id 13"))
    c.media.append(Media(101, 11, "Kodak_CX7530.jpg", "Duplicate media id 101"))
    return {"albums": [13], "media": [101]}


UNSAFE_DIRECTORIES = [
    "..",
    "../../etc",
    "/etc",
    "C:\\Windows",
    "\\\\server\\share",
    "CON",
    "nul.txt",
    "Com1",
    "a\\b",
    'bad<>:"|?*',
    "trailing. ",
    "sp ",
    "Holidays/../../x",
]
UNSAFE_FILENAMES = ["../../escape.jpg", "/abs.jpg", "COM1.jpg", "a\\b.jpg", "what?.jpg", "..", ""]


def _unsafe_names(c):
    ids = []
    for i, name in enumerate(UNSAFE_DIRECTORIES):
        c.albums.append(Album(40 + i, 2, 10, name, f"Unsafe directory {name!r}"))
        ids.append(40 + i)
    media = []
    for i, name in enumerate(UNSAFE_FILENAMES):
        c.media.append(Media(140 + i, 11, name, f"Unsafe file name {name!r}"))
        media.append(140 + i)
    return {"albums": ids, "media": media}


def write_hostile(
    out_dir: Path, kind: str, generation: str = "4.5.0", *, bomb_bytes: int = 256 << 20
) -> Hostile:
    """One hostile file of `kind` in `out_dir` (see HOSTILE_KINDS)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = generation_of(generation)
    if kind == "xxe":
        secret = out / "secret.txt"
        secret.write_text(SECRET)
        doctype = f'<!DOCTYPE GalleryServerData [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        return Hostile(
            kind,
            _entity_file(out, gen, doctype, "&xxe;"),
            "external entity reading a local file",
            {"secret": SECRET},
        )
    if kind == "xxe_network":
        doctype = '<!DOCTYPE GalleryServerData SYSTEM "http://127.0.0.1:9/evil.dtd">'
        return Hostile(
            kind, _entity_file(out, gen, doctype, "x"), "external DTD fetched over the network"
        )
    if kind == "entity_bomb":
        ents = ['<!ENTITY lol0 "lollollollollollollollollollol">'] + [
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
        ]
        doctype = "<!DOCTYPE GalleryServerData [" + "".join(ents) + "]>"
        return Hostile(
            kind,
            _entity_file(out, gen, doctype, "&lol9;"),
            "billion laughs: 3 GB of text from a 28 KB file",
        )
    structural = {
        "album_cycle": (_cycle, "album parents forming a cycle"),
        "two_roots": (_two_roots, "two root albums in one gallery"),
        "dangling_album": (_dangling, "FKAlbumId naming no album"),
        "duplicate_ids": (_duplicates, "the same AlbumId and MediaObjectId twice"),
        "unsafe_names": (
            _unsafe_names,
            "directory and file names with .., absolute, reserved, \\ and NTFS-illegal",
        ),
    }
    if kind in structural:
        change, about = structural[kind]
        path, details = _structural(out, gen, change)
        return Hostile(kind, path, about, details)
    if kind == "future_version":
        content = sample_content()
        content.app_settings = {"DataSchemaVersion": "9.1.0", **content.app_settings}
        path = write_xml(
            out / f"{BACKUP_STEM}.xml", "4.5.0", content
        )  # the 4.5 layout, a newer marker
        return Hostile(
            kind,
            path,
            "a GSP backup of an unknown future version (DataSchemaVersion 9.1.0)",
            {"version": "9.1.0"},
        )
    if kind == "not_gsp":
        path = out / "feed.xml"
        path.write_text(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Not GSP</title></channel></rss>'
        )
        return Hostile(kind, path, "an XML file that is not a GSP backup")
    if kind == "not_gsp_lookalike":
        path = out / f"{BACKUP_STEM}.xml"
        path.write_text(
            '<?xml version="1.0"?><GalleryServerData><Thing><Id>1</Id></Thing></GalleryServerData>'
        )
        return Hostile(kind, path, "root GalleryServerData but no schema and no GSP table")
    if kind == "not_xml":
        path = out / f"{BACKUP_STEM}.xml"
        path.write_bytes((SAMPLES / "jpg" / "Canon_40D.jpg").read_bytes())
        return Hostile(kind, path, "a JPEG named .xml")
    if kind == "two_xml_zip":
        path = out / f"{BACKUP_STEM}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.xml", "<GalleryServerData/>")
            zf.writestr("b.xml", "<GalleryServerData/>")
        return Hostile(kind, path, "a backup ZIP holding two XML files")
    if kind == "zip_slip":
        return Hostile(
            kind,
            _zip_slip(out / "media-slip.zip"),
            "media ZIP entries escaping the folder",
            {
                "escapes": [
                    "../evil.jpg",
                    "/tmp/atrium-abs.jpg",
                    "Holidays/../../evil2.jpg",
                    "C:\\evil.jpg",
                    "link.jpg",
                ]
            },
        )
    if kind == "zip_bomb":
        return Hostile(
            kind,
            _zip_bomb(out / "media-bomb.zip", bomb_bytes),
            f"{bomb_bytes >> 20} MB of zeros in a small ZIP",
            {"uncompressed": bomb_bytes},
        )
    raise ValueError(f"unknown hostile kind {kind!r}; known: {', '.join(HOSTILE_KINDS)}")


def _zip_slip(path: Path) -> Path:
    jpg = (SAMPLES / "jpg" / "Nikon_D70.jpg").read_bytes()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Holidays/Canon_40D.jpg", (SAMPLES / "jpg" / "Canon_40D.jpg").read_bytes())
        for name in (
            "../evil.jpg",
            "/tmp/atrium-abs.jpg",
            "Holidays/../../evil2.jpg",
            "C:\\evil.jpg",
        ):
            info = zipfile.ZipInfo("x")
            info.filename = name  # ZipInfo() would normalise these away; a hostile archive does not
            zf.writestr(info, jpg)
        link = zipfile.ZipInfo("Holidays/link.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        link.create_system = 3
        zf.writestr(link, "/etc/passwd")
    return path


def _zip_bomb(path: Path, size: int) -> Path:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf,
        zf.open("Holidays/Canon_40D.jpg", "w", force_zip64=True) as f,
    ):
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)
    return path


HOSTILE_KINDS = (
    "xxe",
    "xxe_network",
    "entity_bomb",
    "album_cycle",
    "two_roots",
    "dangling_album",
    "duplicate_ids",
    "unsafe_names",
    "future_version",
    "not_gsp",
    "not_gsp_lookalike",
    "not_xml",
    "two_xml_zip",
    "zip_slip",
    "zip_bomb",
)
