"""Helpers for the checker's tests: schema files from snippets, and the witness re-check every
test applies to every report it gets (a witness must be valid under the old version and
invalid under the new one, by lxml)."""

from __future__ import annotations

import itertools
from pathlib import Path

from lxml import etree

from xmlcompat import check, load_language
from xmlcompat.witness import map_namespaces

XS = "http://www.w3.org/2001/XMLSchema"
GSP = Path("/work/shared/testdata/gsp-schemas")
_names = itertools.count()


def xsd(tmp_path: Path, body: str, tns: str | None = None, name: str | None = None,
        extra: str = "") -> Path:
    """Write a schema document with `body` inside xs:schema; returns its path."""
    name = name or f"s{next(_names)}.xsd"
    ns = (f' targetNamespace="{tns}" xmlns="{tns}" elementFormDefault="qualified"'
          if tns else "")
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0"?>\n<xs:schema xmlns:xs="{XS}"{ns}{extra}>\n{body}\n</xs:schema>\n')
    return path


def verify_witnesses(report, old, new) -> None:
    """Re-validate every witness of `report` with lxml, independently of the checker."""
    lang_old = old if hasattr(old, "validator") else load_language(old)
    lang_new = new if hasattr(new, "validator") else load_language(new)
    inverse = {v: k for k, v in report.ns_map.items()}
    for result, a, b, mapping in ((report.backward, lang_old, lang_new, report.ns_map),
                                  (report.forward, lang_new, lang_old, inverse)):
        if result is None:
            continue
        if result.verdict == "incompatible":
            assert result.witness is not None and result.witness.is_file(), result
            # huge_tree: a witness may nest as deep as the schema does (lxml stops at 256)
            doc = etree.parse(str(result.witness), etree.XMLParser(huge_tree=True))
            assert a.validator.validate(doc), f"witness {result.witness} invalid under A: {a.validator.error_log}"
            assert not b.validator.validate(map_namespaces(doc, mapping)), (
                f"witness {result.witness} is valid under B")
            assert result.witness_error
        else:
            assert result.witness is None


def compare(tmp_path: Path, old_body: str, new_body: str, tns: str | None = None, **kw):
    """check() two schema snippets; every witness re-validated."""
    old = xsd(tmp_path, old_body, tns)
    new = xsd(tmp_path, new_body, tns)
    report = check(old, new, witness_dir=tmp_path / "witnesses", **kw)
    verify_witnesses(report, old, new)
    return report


def rules(report) -> set[str]:
    return {c.rule for c in report.changes}


def verdicts(report) -> tuple[str, str]:
    return report.backward.verdict, report.forward.verdict
