"""Loading a language definition: an XSD 1.0 schema set (and optionally a rule file).

Every input is read with entity resolution, DTD loading and network access off, and
refused before parsing when it is larger than MAX_FILE_BYTES. A `schemaLocation` that is
not a local file is an error naming it: nothing is ever fetched. The component model
comes from `xmlschema` (it resolves include/import, groups, derivations, substitution
groups); documents are validated by lxml (libxml2), the validator the verdicts are about.
"""

from __future__ import annotations

import shutil
import urllib.parse
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from xmlcompat.errors import CompatError
from xmlcompat.gcpause import paused_gc

MAX_FILE_BYTES = 50 * 1024 * 1024
XS = "http://www.w3.org/2001/XMLSchema"
SCHEMA_SUFFIXES = (".xsd", ".xml")


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_comments=False)


def parse_file(path: Path) -> etree._ElementTree:
    """Parse one input file safely: size bound first, then no DTD entities at all."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CompatError(f"{path}: file not found") from None
    except OSError as exc:
        raise CompatError(f"{path}: cannot read ({exc.strerror})") from None
    if not path.is_file():
        raise CompatError(f"{path}: not a file")
    if size > MAX_FILE_BYTES:
        raise CompatError(f"{path}: file is {size // (1024 * 1024)} MB, more than the "
                          f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit")
    try:
        tree = etree.parse(str(path), safe_parser())
    except etree.XMLSyntaxError as exc:
        raise CompatError(f"{path}: not well-formed XML: {_first_line(exc)}") from None
    except OSError as exc:
        raise CompatError(f"{path}: cannot read ({exc})") from None
    docinfo = tree.docinfo
    dtd = docinfo.internalDTD
    # An internal subset may declare entities (billion laughs, external files); a schema
    # or rule file never needs one, so any DOCTYPE with entity declarations is refused.
    if dtd is not None and (list(dtd.iterentities()) or docinfo.system_url):
        raise CompatError(f"{path}: DOCTYPE with entity declarations refused (XML bomb or external entity)")
    if docinfo.system_url or docinfo.public_id:
        raise CompatError(f"{path}: DOCTYPE with an external DTD refused")
    for node in tree.iter(etree.Entity):
        raise CompatError(f"{path}: entity reference &{node.name}; refused")
    return tree


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass
class SchemaFile:
    path: Path
    tree: etree._ElementTree
    target_namespace: str
    references: list[Path] = field(default_factory=list)   # include/import/redefine targets


def _local_reference(owner: Path, location: str) -> Path:
    parsed = urllib.parse.urlsplit(location)
    if parsed.scheme and parsed.scheme not in ("file",) and len(parsed.scheme) > 1:
        raise CompatError(f"{owner}: schemaLocation {location!r} is not a local file "
                          "(network locations are never fetched)")
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise CompatError(f"{owner}: schemaLocation {location!r} is not a local file "
                              "(network locations are never fetched)")
        target = Path(urllib.parse.unquote(parsed.path))
    else:
        target = owner.parent / urllib.parse.unquote(location)
    target = target.resolve()
    if not target.is_file():
        raise CompatError(f"{owner}: schemaLocation {location!r} not found ({target})")
    return target


def read_schema_files(paths: list[Path]) -> dict[Path, SchemaFile]:
    """Every file of the set, following include/import/redefine (local files only)."""
    files: dict[Path, SchemaFile] = {}
    todo = [p.resolve() for p in paths]
    while todo:
        path = todo.pop()
        if path in files:
            continue
        tree = parse_file(path)
        root = tree.getroot()
        if root.tag != f"{{{XS}}}schema":
            raise CompatError(f"{path}: not an XML Schema (root element is {root.tag!r})")
        info = SchemaFile(path, tree, root.get("targetNamespace", ""))
        for child in root:
            if child.tag in (f"{{{XS}}}include", f"{{{XS}}}import", f"{{{XS}}}redefine"):
                location = child.get("schemaLocation")
                if location is None:
                    continue        # an import without a location: resolved from the set
                target = _local_reference(path, location)
                info.references.append(target)
                todo.append(target)
        files[path] = info
    return files


def expand_inputs(spec) -> list[Path]:
    """A path, a directory of .xsd files, or a list of either → the schema files given."""
    if isinstance(spec, (str, Path)):
        spec = [spec]
    out: list[Path] = []
    for item in spec:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".xsd" and p.is_file())
            if not found:
                raise CompatError(f"{path}: directory has no .xsd files")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise CompatError(f"{path}: file not found")
    if not out:
        raise CompatError("no schema files given")
    return out


class Language:
    """One language version: the schema set (xmlschema components for reasoning, an lxml
    validator for the verdicts) and, when given, its rule set."""

    def __init__(self, paths: list[Path], files: dict[Path, SchemaFile], xs, validator,
                 main: Path, tmpdir=None):
        self.paths = paths
        self.files = files
        self.xs = xs
        self.validator = validator
        self.main = main
        if tmpdir is not None:
            # the generated wrapper schema lives as long as the language (removed quietly:
            # a TemporaryDirectory would warn when collected)
            weakref.finalize(self, shutil.rmtree, tmpdir, ignore_errors=True)
        self.rules = None
        self.rules_path: Path | None = None
        self.target_namespaces = sorted({f.target_namespace for f in files.values()})
        self._lines: dict[int, str] | None = None
        self._model = None

    @property
    def name(self) -> str:
        return self.paths[0].name if len(self.paths) == 1 else f"{self.paths[0].parent.name}/"

    def location(self, component) -> str:
        """`file:line` of an xmlschema component's declaration ('' when unknown)."""
        if self._lines is None:
            self._lines = {}
            for schema in self.xs.maps.iter_schemas():
                url = schema.url or ""
                if not url.startswith("file:"):
                    continue
                path = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
                info = self.files.get(path)
                if info is None:
                    continue
                ours = info.tree.getroot().iter(etree.Element)
                for et_elem, lx_elem in zip(schema.source.root.iter(), ours):
                    self._lines[id(et_elem)] = f"{path.name}:{lx_elem.sourceline}"
        elem = getattr(component, "elem", None)
        return self._lines.get(id(elem), "") if elem is not None else ""

    def validate(self, doc) -> str | None:
        """None when `doc` is valid under this schema set, else lxml's first error."""
        if self.validator.validate(doc):
            return None
        errors = [e for e in self.validator.error_log]
        return errors[0].message if errors else "invalid"

    @property
    def model(self):
        if self._model is None:
            from xmlcompat.model import build_model

            self._model = build_model(self)
        return self._model


def _wrapper(files: dict[Path, SchemaFile], roots: list[Path], tmpdir: Path) -> Path:
    """One schema document that pulls in every root file, for the validators (libxml2 reads
    only the first import of a namespace, so each namespace gets its own include wrapper)."""
    by_ns: dict[str, list[Path]] = {}
    for path in roots:
        by_ns.setdefault(files[path].target_namespace, []).append(path)
    lines = [f'<xs:schema xmlns:xs="{XS}">']
    for ns, paths in sorted(by_ns.items()):
        if ns == "":
            lines += [f'  <xs:include schemaLocation="{p.as_uri()}"/>' for p in paths]
            continue
        if len(paths) == 1:
            target = paths[0]
        else:
            target = tmpdir / f"ns{len(list(tmpdir.iterdir()))}.xsd"
            inc = "".join(f'<xs:include schemaLocation="{p.as_uri()}"/>' for p in paths)
            target.write_text(f'<xs:schema xmlns:xs="{XS}" targetNamespace="{_attr(ns)}">{inc}</xs:schema>')
        lines.append(f'  <xs:import namespace="{_attr(ns)}" schemaLocation="{target.as_uri()}"/>')
    lines.append("</xs:schema>")
    main = tmpdir / "wrapper.xsd"
    main.write_text("\n".join(lines))
    return main


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def load_schema_set(spec) -> Language:
    import tempfile

    import xmlschema

    given = [p.resolve() for p in expand_inputs(spec)]
    files = read_schema_files(given)
    referenced = {ref for f in files.values() for ref in f.references}
    roots = [p for p in dict.fromkeys(given) if p not in referenced] or given[:1]
    tmp = None
    if len(roots) == 1:
        main = roots[0]
    else:
        tmp = Path(tempfile.mkdtemp(prefix="xmlcompat-"))
        main = _wrapper(files, roots, tmp)
    label = str(given[0]) if len(given) == 1 else str(given[0].parent)
    # libxml2 first: it is the referee of every verdict, and it checks the schema against
    # the XSD rules; xmlschema then builds its components without re-validating the schema
    # documents against the meta-schema (that pass alone took ~25 s on a 600 KB schema).
    try:
        doc = files[main].tree if main in files else etree.parse(str(main), safe_parser())
        validator = etree.XMLSchema(doc)
    except etree.XMLSchemaParseError as exc:
        raise CompatError(f"{label}: invalid schema (libxml2): {_first_line(exc)}") from None
    try:
        xs = xmlschema.XMLSchema(str(main), allow="local", defuse="always", validation="skip")
    except Exception as exc:  # noqa: BLE001 - xmlschema raises many types; all mean "unusable"
        raise CompatError(f"{label}: invalid schema: {_first_line(exc)}") from None
    return Language(given, files, xs, validator, main, tmp)


def load_language(xsd_paths, rules: Path | None = None) -> Language:
    """A schema set (a file, a directory of .xsd files, or a list) plus an optional
    Schematron rule file."""
    with paused_gc():
        lang = load_schema_set(xsd_paths)
    if rules is not None:
        from xmlcompat import schematron  # the rule side, xmlcompat/schematron.py

        if not Path(rules).is_file():
            raise CompatError(f"{rules}: rule file not found (or not a file)")
        lang.rules_path = Path(rules)
        lang.rules = schematron.load_rules(Path(rules))
    return lang
