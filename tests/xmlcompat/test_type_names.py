"""Type names and L(A) (docs/compatibility.md, "Type names"): by default a document whose
xsi:type names an element's own declared type is left out of L(A), so renaming a type or
making it anonymous is a refactoring (with a note saying so); with strict_type_names
(`--strict-type-names`) such documents count and the same changes are incompatible, proved
by exactly that document. Every witness is re-validated with lxml (helpers.compare)."""

from __future__ import annotations

from lxml import etree

from tests.xmlcompat.helpers import compare, rules, verdicts, xsd
from xmlcompat.cli import main

XSI = "http://www.w3.org/2001/XMLSchema-instance"

NAMED = """
<xs:element name="item" type="Item"/>
<xs:complexType name="Item"><xs:sequence><xs:element name="n" type="Code"/></xs:sequence></xs:complexType>
<xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:maxLength value="4"/></xs:restriction></xs:simpleType>
"""
RENAMED = NAMED.replace('"Item"', '"Entry"')
CODE_ANONYMOUS = """
<xs:element name="item" type="Item"/>
<xs:complexType name="Item"><xs:sequence><xs:element name="n">
  <xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="4"/></xs:restriction></xs:simpleType>
</xs:element></xs:sequence></xs:complexType>
"""


def _xsi_type(path) -> list[str]:
    doc = etree.parse(str(path))
    return [e.get(f"{{{XSI}}}type") for e in doc.iter() if e.get(f"{{{XSI}}}type")]


def _change(report, rule):
    return next(c for c in report.changes if c.rule == rule)


def test_renamed_type_is_a_refactoring_by_default_with_a_note(tmp_path):
    report = compare(tmp_path, NAMED, RENAMED)
    assert verdicts(report) == ("compatible", "compatible")
    renamed = _change(report, "TYPE_RENAMED")
    assert renamed.refactoring and renamed.backward and renamed.forward
    # the note names the xsi:type uses left out: the old and the new name on that element
    assert 'xsi:type="Item"' in renamed.note and 'xsi:type="Entry"' in renamed.note
    assert "/item" in renamed.note and "--strict-type-names" in renamed.note
    assert report.to_dict()["changes"][report.changes.index(renamed)]["note"] == renamed.note


def test_renamed_type_is_incompatible_in_strict_mode_with_the_xsi_type_witness(tmp_path):
    report = compare(tmp_path, NAMED, RENAMED, strict_type_names=True)
    assert verdicts(report) == ("incompatible", "incompatible")
    assert report.to_dict()["strict_type_names"] is True
    # the witness is a document of A naming the element's own type: <item xsi:type="Item">
    assert [v.split(":")[-1] for v in _xsi_type(report.backward.witness)] == ["Item"]
    assert [v.split(":")[-1] for v in _xsi_type(report.forward.witness)] == ["Entry"]
    renamed = _change(report, "TYPE_RENAMED")
    assert renamed.backward is False and not renamed.refactoring and not renamed.note
    assert "backward" in renamed.witnessed


def test_simple_type_made_anonymous_and_named_again(tmp_path):
    default = compare(tmp_path, NAMED, CODE_ANONYMOUS)
    assert verdicts(default) == ("compatible", "compatible")
    assert _change(default, "TYPE_MADE_ANONYMOUS").note
    strict = compare(tmp_path, NAMED, CODE_ANONYMOUS, strict_type_names=True)
    assert verdicts(strict) == ("incompatible", "compatible")
    assert [v.split(":")[-1] for v in _xsi_type(strict.backward.witness)] == ["Code"]
    assert "TYPE_MADE_ANONYMOUS" in {c.rule for c in strict.changes if c.backward is False}
    # anonymous → named: no old document can name the anonymous type; new ones can
    named = compare(tmp_path, CODE_ANONYMOUS, NAMED, strict_type_names=True)
    assert verdicts(named) == ("compatible", "incompatible")


def test_strict_mode_keeps_unchanged_and_derived_names_compatible(tmp_path):
    body = """
<xs:element name="shape" type="Shape"/>
<xs:complexType name="Shape"><xs:sequence><xs:element name="id" type="xs:int"/></xs:sequence></xs:complexType>
<xs:complexType name="Circle"><xs:complexContent><xs:extension base="Shape">
  <xs:sequence><xs:element name="r" type="xs:decimal"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
"""
    report = compare(tmp_path, body, body, strict_type_names=True)
    assert verdicts(report) == ("compatible", "compatible")
    # B declares the element with the old type's base: xsi:type="Shape" is still valid there
    based = body.replace('<xs:element name="shape" type="Shape"/>', """
<xs:element name="shape" type="Base"/>
<xs:complexType name="Base"><xs:sequence><xs:element name="id" type="xs:int"/></xs:sequence></xs:complexType>""").replace(
        '<xs:complexType name="Shape"><xs:sequence><xs:element name="id" type="xs:int"/></xs:sequence></xs:complexType>',
        '<xs:complexType name="Shape"><xs:complexContent><xs:extension base="Base"/></xs:complexContent></xs:complexType>')
    report = compare(tmp_path, body, based, direction="backward", strict_type_names=True)
    assert report.backward.verdict == "compatible", report.backward.reasons


def test_strict_mode_and_built_in_declared_types(tmp_path):
    # xs:int is derived from xs:long: <v xsi:type="xs:int"> stays valid
    report = compare(tmp_path, '<xs:element name="v" type="xs:int"/>',
                     '<xs:element name="v" type="xs:long"/>', direction="backward",
                     strict_type_names=True)
    assert report.backward.verdict == "compatible"
    # every string is a token after whitespace collapsing, but xs:string is not derived from
    # xs:token: <v xsi:type="xs:string"> is the witness in strict mode only
    old, new = '<xs:element name="v" type="xs:string"/>', '<xs:element name="v" type="xs:token"/>'
    assert compare(tmp_path, old, new, direction="backward").backward.verdict == "compatible"
    strict = compare(tmp_path, old, new, direction="backward", strict_type_names=True)
    assert strict.backward.verdict == "incompatible"
    assert [v.split(":")[-1] for v in _xsi_type(strict.backward.witness)] == ["string"]


def test_cli_strict_type_names(tmp_path, capsys):
    old, new = xsd(tmp_path, NAMED), xsd(tmp_path, RENAMED)
    assert main([str(old), str(new), "--witness-dir", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert "TYPE_RENAMED" in out and "note:" in out
    code = main([str(old), str(new), "--strict-type-names", "--witness-dir", str(tmp_path / "w")])
    out = capsys.readouterr().out
    assert code == 1 and "TYPE_RENAMED" in out and "witness:" in out
    assert "TYPE_RENAMED" in rules(compare(tmp_path, NAMED, RENAMED, strict_type_names=True))
