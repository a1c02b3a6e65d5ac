"""Which GSP generation wrote a backup: the `DataSchemaVersion` row of AppSetting (3.x/4.x) or
gs_AppSetting (2.6), the `gs_SchemaVersion` row (2.5), or else the inline schema compared with
GSP's three known schemas (schemas/*.xsd, GSP's own XSDs 2.5, 3.2.1 and 4.5.0) by the
compatibility checker (xmlcompat): the one whose language it is (compatible both ways), else
the one it differs from least, is named. The table layouts (layouts.py) give a quick closest
layout for every file. A version newer than 4.x, or older than 2.5, is refused with the
version named."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from gallery.gspimport.errors import GspRefused
from gallery.gspimport.layouts import LAYOUTS

XS = "{http://www.w3.org/2001/XMLSchema}"
#: Newest major version whose layout this importer knows (4.5.0's); 5 and later are refused.
NEWEST_MAJOR = 4
_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?")
#: layout name -> generation name
_GENERATION_OF_LAYOUT = {"2.5": "2.5", "3.2.1": "3.x", "4.5.0": "4.x"}


@dataclass
class Generation:
    name: str                 # "2.5", "2.6", "3.x" or "4.x"
    version: str | None       # the version the file states, when it states one
    detected_by: str          # "marker" or "schema"
    closest: str | None       # the known layout ("2.5", "3.2.1", "4.5.0") the inline schema is nearest
    compat: dict = field(default_factory=dict)  # without a marker: layout -> {verdict, changes}

    def as_dict(self) -> dict:
        out = {"generation": self.name, "schema_version": self.version,
               "detected_by": self.detected_by, "closest": self.closest}
        if self.compat:
            out["compat"] = self.compat
        return out


def schema_tables(schema: bytes | None) -> dict[str, set[str]]:
    """table -> columns declared by an inline `xs:schema` (DataSet layout)."""
    if not schema:
        return {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(schema, parser)
    except etree.XMLSyntaxError:
        return {}
    tables: dict[str, set[str]] = {}
    for dataset in root.findall(f"{XS}element"):
        for choice in dataset.iter(f"{XS}choice"):
            for table in choice.findall(f"{XS}element"):
                name = table.get("name")
                if name:
                    tables[name] = {c.get("name") for c in table.iter(f"{XS}element")
                                    if c is not table and c.get("name")}
            break
    return tables


def closest_layout(tables: dict[str, set[str]]) -> tuple[str | None, float]:
    """The known layout sharing the largest part of (table, column) pairs, and that share."""
    pairs = {(t, c) for t, cols in tables.items() for c in cols} | {(t, "") for t in tables}
    best, score = None, 0.0
    for name, layout in LAYOUTS.items():
        known = {(t, c) for t, cols in layout.items() for c in cols} | {(t, "") for t in layout}
        share = len(pairs & known) / len(pairs | known) if pairs | known else 0.0
        if share > score:
            best, score = name, share
    return best, score


SCHEMAS = Path(__file__).resolve().parent / "schemas"


def compare_with_known(schema: bytes) -> dict:
    """xmlcompat's verdict on the inline schema against each known GSP schema:
    {layout: {"verdict": "compatible"|..., "changes": n}}; {} when the checker cannot read it."""
    from xmlcompat import CompatError, check

    work = Path(tempfile.mkdtemp(prefix="gsp-schema-"))
    try:
        inline = work / "inline.xsd"
        inline.write_bytes(schema)
        out = {}
        for name in LAYOUTS:
            report = check(SCHEMAS / f"gsp-{name}.xsd", inline, witness_dir=work / "witness")
            out[name] = {"verdict": report.verdict, "changes": len(report.changes)}
        return out
    except (CompatError, OSError, RecursionError, ValueError):
        return {}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _closest_by_checker(compat: dict) -> str | None:
    if not compat:
        return None
    same = [name for name, c in compat.items() if c["verdict"] == "compatible"]
    return same[0] if same else min(compat, key=lambda name: compat[name]["changes"])


def _parse(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version or "")
    if not match:
        raise GspRefused(f"The backup states the schema version {version[:40]!r}, which is not a version number.")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def decide(*, marker: str | None, marker_table: str | None, schema_version_row: str | None,
           schema: bytes | None, prefixed: bool) -> Generation:
    """Name the generation (or refuse). `prefixed`: the rows read are gs_/aspnet_ tables."""
    tables = schema_tables(schema)
    closest, _share = closest_layout(tables) if tables else (None, 0.0)
    stated = marker or schema_version_row
    if stated:
        major, minor, _ = _parse(stated)
        if major > NEWEST_MAJOR:
            raise GspRefused(
                f"This backup was written by Gallery Server {stated.strip()}, a version newer than the "
                f"ones this importer knows (2.5 to 4.x). Nothing was imported."
                + (f" Its layout is closest to GSP {closest}." if closest else "")
            )
        if (major, minor) < (2, 5):
            raise GspRefused(f"This backup is from Gallery Server Pro {stated.strip()}; versions before 2.5 "
                             "are not supported (upgrade it to 2.5 or later in GSP first).")
        if major == 2:
            name = "2.6" if minor >= 6 or marker_table == "gs_AppSetting" else "2.5"
        else:
            name = f"{major}.x"
        if (major >= 3) == prefixed:
            raise GspRefused(
                f"The backup states version {stated.strip()} but its rows are in the "
                f"{'2.x (gs_-prefixed)' if prefixed else '3.x/4.x'} layout; the file is inconsistent."
            )
        return Generation(name, stated.strip(), "marker", closest)
    if closest is None:
        raise GspRefused("This is not a Gallery Server Pro backup: it has no GSP inline schema "
                         "and no version marker.")
    compat = compare_with_known(schema)
    closest = _closest_by_checker(compat) or closest
    name = _GENERATION_OF_LAYOUT[closest]
    if (name != "2.5") == prefixed:
        name = "2.5" if prefixed else "4.x"
    return Generation(name, None, "schema", closest, compat)
