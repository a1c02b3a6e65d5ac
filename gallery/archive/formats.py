"""The history of the backup language: one directory per version under formats/ (backup.xsd,
backup.sch, and for every version after the first, from-<n-1>.xsl: the transformation from
the version before it). Validation of a document against the version it declares, and the
chain of transformations up to the newest (docs/backup-format.md)."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree, isoschematron

FORMATS_DIR = Path(__file__).resolve().parent / "formats"
MAX_ERRORS = 100


class FormatError(Exception):
    """A document is not a valid backup of any version this Atrium knows; `errors` lists
    each problem with its line (at most MAX_ERRORS)."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


def versions() -> list[int]:
    return sorted(int(p.name) for p in FORMATS_DIR.iterdir() if p.is_dir() and p.name.isdigit())


def newest() -> int:
    return versions()[-1]


def version_dir(version: int) -> Path:
    return FORMATS_DIR / str(version)


def upgrade_path(version: int) -> Path | None:
    """The transformation into `version` from the one before it (None: not needed)."""
    path = version_dir(version) / f"from-{version - 1}.xsl"
    return path if path.exists() else None


def safe_parser(huge: bool = False) -> etree.XMLParser:
    """No entities expanded, no DTD loaded, no network; lxml's own size limits stay on."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True,
                           dtd_validation=False, huge_tree=huge, remove_blank_text=False)


def _parse_file(path: Path):
    return etree.parse(str(path), safe_parser())


@functools.cache
def schema(version: int) -> etree.XMLSchema:
    return etree.XMLSchema(_parse_file(version_dir(version) / "backup.xsd"))


@functools.cache
def rules(version: int) -> isoschematron.Schematron:
    return isoschematron.Schematron(_parse_file(version_dir(version) / "backup.sch"), store_report=True)


@functools.cache
def _transform(version: int) -> etree.XSLT:
    access = etree.XSLTAccessControl.DENY_ALL  # a stylesheet reads and writes nothing else
    return etree.XSLT(_parse_file(upgrade_path(version)), access_control=access)


def validation_errors(tree, version: int) -> list[str]:
    """Problems of `tree` under `version`'s schema, then (only when the schema holds, since
    the rules assume it) its Schematron rules; each "line N: message"."""
    xsd = schema(version)
    if not xsd.validate(tree):
        return [f"line {e.line}: {e.message}" for e in list(xsd.error_log)[:MAX_ERRORS]]
    sch = rules(version)
    if sch.validate(tree):
        return []
    report = sch.validation_report
    out = []
    svrl = "{http://purl.oclc.org/dsdl/svrl}"
    for failed in report.iter(f"{svrl}failed-assert", f"{svrl}successful-report"):
        text = " ".join("".join(failed.itertext()).split())
        out.append(f"{where(tree, failed.get('location'))}: {text}")
        if len(out) >= MAX_ERRORS:
            break
    return out


def where(tree, location: str | None) -> str:
    """Schematron reports an XPath; say the line too, which people can find."""
    if not location:
        return "document"
    try:
        found = tree.xpath(location)
    except etree.XPathError:
        return location
    return where_node(found[0] if found else None, location)


def where_node(node, location: str) -> str:
    """The place of `node`, which Schematron reported at `location`."""
    if node is not None and getattr(node, "sourceline", None):
        return f"line {node.sourceline} ({_short(location)})"
    return _short(location)


def _short(location: str) -> str:
    import re

    return re.sub(r"\*:([\w-]+)\[namespace-uri\(\)='[^']*'\]", r"\1", location)


def declared_version(tree) -> int:
    root = tree.getroot()
    from gallery.archive.document import NS

    if root.tag != f"{{{NS}}}backup":
        raise FormatError(f"backup.xml is not an Atrium backup (its root element is {root.tag!r})")
    raw = root.get("format") or ""
    if not raw.isdigit():
        raise FormatError(f"backup.xml declares no format version (format={raw!r})")
    return int(raw)


def check_and_upgrade(tree):
    """Validate `tree` under the version it declares, then apply the chain of
    transformations up to the newest, validating after each step. Returns the newest-format
    tree. Raises FormatError (with the errors) when it is not valid, or is from the future."""
    version = declared_version(tree)
    known = versions()
    if version > known[-1]:
        raise FormatError(
            f"this backup is in format version {version}, made by a newer Atrium; this Atrium "
            f"reads format versions {known[0]} to {known[-1]}: restore it with a newer Atrium")
    if version not in known:
        raise FormatError(f"backup format version {version} is unknown (known: {known})")
    errors = validation_errors(tree, version)
    if errors:
        raise FormatError(f"backup.xml is not a valid format {version} backup "
                          f"({len(errors)} problem(s) listed)", errors)
    for step in known[known.index(version) + 1:]:
        transform = upgrade_path(step)
        if transform is not None:
            tree = _transform(step)(tree)
        # else a compatible step: the document is valid as it is, only its label changes
        # (in place: a copy doubled the tree, the largest part of restore's peak memory).
        tree.getroot().set("format", str(step))
        errors = validation_errors(tree, step)
        if errors:
            raise FormatError(f"backup.xml upgraded from format {version} to {step} is not "
                              f"valid (a bug of the transformation)", errors)
    return tree
