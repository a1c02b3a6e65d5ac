"""Writing Gallery Server Pro backup files by GSP's own schemas (tests/gsp_fixtures.py uses it).

A GSP backup is .NET's `DataSet.WriteXml(path, XmlWriteMode.WriteSchema)`: root
`<GalleryServerData>`, the inline `xs:schema` of the generation, then one element per table row
with one child per non-null column, in the schema's column order. The schema files are GSP's own
(../shared/testdata/gsp-schemas/); every row goes through `BackupWriter.row`, which knows each
table's columns from that schema, so a generated file is valid by construction (and
tests/gallery/gspimport/test_fixtures.py validates every one with lxml anyway).
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Self

from lxml import etree

SHARED = Path(__file__).resolve().parents[2] / "shared" / "testdata"
SCHEMA_DIR = SHARED / "gsp-schemas"
SAMPLES = SHARED / "camera-samples"
XS = "{http://www.w3.org/2001/XMLSchema}"

# The four generations the importer must read; 2.6 has 2.5's layout but its version in gs_AppSetting.
GENERATIONS = ("2.5", "2.6", "3.2.1", "4.5.0")
ALIASES = {
    "3.x": "3.2.1",
    "3": "3.2.1",
    "4.x": "4.5.0",
    "4": "4.5.0",
    "4.5": "4.5.0",
    "2.5.0": "2.5",
    "2.6.0": "2.6",
}
SCHEMA_FILES = {
    "2.5": "GalleryServerProSchema-2.5.xml",
    "2.6": "GalleryServerProSchema-2.5.xml",
    "3.2.1": "GalleryServerSchema-3.2.1.xml",
    "4.5.0": "GalleryServerSchema-4.5.0.xml",
}
# DataSchemaVersion as GSP writes it (None: 2.5 keeps "2.5.0" in gs_SchemaVersion instead).
SCHEMA_VERSION = {"2.5": None, "2.6": "2.6.0", "3.2.1": "3.2.1", "4.5.0": "4.5.0"}

# GSP's MetadataItemName codes (facts from GSP's public source; codes 41+ arrived with 3.0).
METADATA_CODES = {
    0: "AudioBitRate",
    1: "AudioFormat",
    2: "Author",
    3: "BitRate",
    4: "CameraModel",
    5: "Comment",
    6: "ColorRepresentation",
    7: "Copyright",
    8: "DatePictureTaken",
    9: "Description",
    10: "Dimensions",
    11: "Duration",
    12: "EquipmentManufacturer",
    13: "ExposureCompensation",
    14: "ExposureProgram",
    15: "ExposureTime",
    16: "FlashMode",
    17: "FNumber",
    18: "FocalLength",
    19: "Height",
    20: "HorizontalResolution",
    21: "IsoSpeed",
    22: "Tags",
    23: "LensAperture",
    24: "LightSource",
    25: "MeteringMode",
    26: "Rating",
    27: "SubjectDistance",
    28: "Subject",
    29: "Title",
    30: "VerticalResolution",
    31: "VideoBitRate",
    32: "VideoFormat",
    33: "Width",
    34: "FileName",
    35: "FileNameWithoutExtension",
    36: "FileSizeKb",
    37: "DateFileCreated",
    38: "DateFileCreatedUtc",
    39: "DateFileLastModified",
    40: "DateFileLastModifiedUtc",
    41: "Caption",
    42: "People",
    43: "Orientation",
    101: "GpsLocation",
    102: "GpsLocationWithMapLink",
    103: "GpsLatitude",
    104: "GpsLongitude",
    105: "GpsDestLocation",
    106: "GpsDestLocationWithMapLink",
    107: "GpsDestLatitude",
    108: "GpsDestLongitude",
    109: "GpsAltitude",
    110: "GpsVersion",
    111: "DateAdded",
    112: "HtmlSource",
    113: "RatingCount",
    1001: "IptcByline",
    1002: "IptcBylineTitle",
    1003: "IptcCaption",
    1004: "IptcCity",
    1005: "IptcCopyrightNotice",
    1006: "IptcCountryPrimaryLocationName",
    1007: "IptcCredit",
    1008: "IptcDateCreated",
    1009: "IptcHeadline",
    1010: "IptcKeywords",
    1011: "IptcObjectName",
    1012: "IptcOriginalTransmissionReference",
    1013: "IptcProvinceState",
    1014: "IptcRecordVersion",
    1015: "IptcSource",
    1016: "IptcSpecialInstructions",
    1017: "IptcSublocation",
    1018: "IptcWriterEditor",
    **{2000 + i: f"Custom{i + 1}" for i in range(20)},
}
TITLE, CAPTION, TAGS, PEOPLE, RATING, DATE_ADDED, HTML_SOURCE = 29, 41, 22, 42, 26, 111, 112
ROLE_COLUMNS = (
    "AllowViewAlbumsAndObjects",
    "AllowViewOriginalImage",
    "AllowAddChildAlbum",
    "AllowAddMediaObject",
    "AllowEditAlbum",
    "AllowEditMediaObject",
    "AllowDeleteChildAlbum",
    "AllowDeleteMediaObject",
    "AllowSynchronize",
    "HideWatermark",
    "AllowAdministerGallery",
    "AllowAdministerSite",
)
BASE_TIME = datetime(2012, 5, 17, 9, 30, 15, 123000, tzinfo=timezone(timedelta(hours=-7)))


def generation_of(name: str) -> str:
    """'4.x', '4.5', '4.5.0' → '4.5.0' (raises on an unknown one)."""
    gen = ALIASES.get(name, name)
    if gen not in SCHEMA_FILES:
        raise ValueError(f"unknown GSP generation {name!r}; known: {', '.join(GENERATIONS)}")
    return gen


def is_legacy(generation: str) -> bool:
    """2.5 and 2.6: gs_/aspnet_ prefixed tables, titles as columns."""
    return generation_of(generation) in ("2.5", "2.6")


def table_name(generation: str, modern: str) -> str:
    """A 3.x/4.x table name in the given generation's spelling ('Album' → 'gs_Album' in 2.x)."""
    if not is_legacy(generation):
        return modern
    return _LEGACY_TABLES[modern]


_LEGACY_TABLES = {
    "Album": "gs_Album",
    "MediaObject": "gs_MediaObject",
    "Metadata": "gs_MediaObjectMetadata",
    "Role": "gs_Role",
    "RoleAlbum": "gs_Role_Album",
    "Gallery": "gs_Gallery",
    "GallerySetting": "gs_GallerySetting",
    "MimeType": "gs_MimeType",
    "MimeTypeGallery": "gs_MimeTypeGallery",
    "AppSetting": "gs_AppSetting",
    "UserGalleryProfile": "gs_UserGalleryProfile",
    "GalleryControlSetting": "gs_GalleryControlSetting",
    "MediaTemplate": "gs_BrowserTemplate",
    "Applications": "aspnet_Applications",
    "Users": "aspnet_Users",
    "Memberships": "aspnet_Membership",
    "Roles": "aspnet_Roles",
    "UsersInRoles": "aspnet_UsersInRoles",
    "Profiles": "aspnet_Profile",
}


# ---------------------------------------------------------------- writing rows by the schema


def schema_element(generation: str) -> etree._Element:
    """The generation's inline schema, parsed from GSP's schema file."""
    path = SCHEMA_DIR / SCHEMA_FILES[generation_of(generation)]
    return etree.parse(str(path)).getroot()


def table_columns(schema: etree._Element) -> dict[str, list[tuple[str, bool]]]:
    """{table: [(column, required), …]} in the schema's order."""
    top = schema.find(XS + "element")
    tables = {}
    for table in top.find(XS + "complexType").find(XS + "choice").findall(XS + "element"):
        seq = table.find(XS + "complexType").find(XS + "sequence")
        tables[table.get("name")] = [
            (c.get("name"), c.get("minOccurs") != "0") for c in seq.findall(XS + "element")
        ]
    return tables


def dotnet_value(value) -> str:
    """A column value as DataSet.WriteXml writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


class BackupWriter:
    """Streams one backup file: declaration, root, inline schema, then rows (memory stays flat).

    `row()` refuses a column the table does not have and a missing required column, so every
    file written through it matches its inline schema. `raw()` writes anything (hostile files).
    """

    def __init__(
        self,
        path: Path,
        generation: str,
        *,
        schema: etree._Element | None = None,
        doctype: str = "",
    ):
        self.path = Path(path)
        self.generation = generation_of(generation)
        self.schema = schema if schema is not None else schema_element(self.generation)
        self.columns = table_columns(self.schema)
        self.doctype = doctype
        self.rows = 0

    def __enter__(self) -> Self:
        self._file = open(self.path, "wb")
        if self.doctype:
            # xmlfile cannot write a DOCTYPE: hostile files put theirs before the root themselves.
            self._file.write(
                b'<?xml version="1.0" standalone="yes"?>\n' + self.doctype.encode() + b"\n"
            )
        self._xf_cm = etree.xmlfile(self._file, encoding="utf-8")
        self._xf = self._xf_cm.__enter__()
        if not self.doctype:
            self._xf.write_declaration(standalone=True)
        self._root_cm = self._xf.element("GalleryServerData")
        self._root_cm.__enter__()
        self._xf.write("\n  ")
        self._xf.write(self.schema)
        return self

    def __exit__(self, *exc) -> None:
        self._xf.write("\n")
        self._root_cm.__exit__(*exc)
        self._xf_cm.__exit__(*exc)
        self._file.close()

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self.columns.get(table)
        return cols is not None and (column is None or any(c == column for c, _ in cols))

    def row(self, table: str, **values) -> None:
        """One row; None values are left out, like DBNull in WriteXml."""
        cols = self.columns.get(table)
        if cols is None:
            raise KeyError(f"{self.generation} has no table {table}")
        unknown = set(values) - {c for c, _ in cols}
        if unknown:
            raise KeyError(f"{table} ({self.generation}) has no column {sorted(unknown)}")
        el = etree.Element(table)
        for column, required in cols:
            value = values.get(column)
            if value is None:
                if required:
                    raise ValueError(f"{table}.{column} is required in {self.generation}")
                continue
            etree.SubElement(el, column).text = dotnet_value(value)
        self.raw(el)

    def raw(self, el: etree._Element) -> None:
        self._xf.write("\n  ")
        self._xf.write(el)
        self.rows += 1
        if self.rows % 5000 == 0:
            self._xf.flush()


def schema_errors(path: Path) -> list[str]:
    """Errors of a backup file against its own inline schema ([] when valid)."""
    doc = etree.parse(
        str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    )
    root = doc.getroot()
    inline = root.find(XS + "schema")
    if inline is None:
        return ["no inline xs:schema"]
    schema = etree.XMLSchema(etree.fromstring(etree.tostring(inline)))
    root.remove(inline)  # the schema describes the rows, not itself
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
