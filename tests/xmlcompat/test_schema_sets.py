"""Schema sets of several files and namespaces: import/include resolved locally, roots in
any of the namespaces, a type moved to another file reported as a refactoring."""

from __future__ import annotations

from pathlib import Path

from tests.xmlcompat.helpers import XS, verify_witnesses
from xmlcompat import check

MAIN = f"""<xs:schema xmlns:xs="{XS}" xmlns:o="urn:orders" xmlns:c="urn:common"
  targetNamespace="urn:orders" elementFormDefault="qualified">
  <xs:import namespace="urn:common" schemaLocation="common.xsd"/>
  <xs:include schemaLocation="{{include}}"/>
  <xs:element name="order">
    <xs:complexType><xs:sequence>
      <xs:element name="customer" type="c:Party"/>
      <xs:element name="line" type="o:Line" maxOccurs="unbounded"/>
    </xs:sequence>
    <xs:attributeGroup ref="c:audit"/></xs:complexType>
  </xs:element>
</xs:schema>"""
LINES = f"""<xs:schema xmlns:xs="{XS}" xmlns:o="urn:orders" targetNamespace="urn:orders"
  elementFormDefault="qualified">
  <xs:complexType name="Line"><xs:simpleContent><xs:extension base="xs:decimal">
    <xs:attribute name="sku" type="xs:token" use="required"/>
  </xs:extension></xs:simpleContent></xs:complexType>
</xs:schema>"""
COMMON = f"""<xs:schema xmlns:xs="{XS}" xmlns:c="urn:common" targetNamespace="urn:common"
  elementFormDefault="qualified">
  <xs:complexType name="Party"><xs:sequence>
    <xs:element name="name" type="xs:string"/>
    <xs:element name="email" type="xs:string" minOccurs="{{email_min}}"/>
  </xs:sequence></xs:complexType>
  <xs:attributeGroup name="audit"><xs:attribute name="by" type="xs:string"/></xs:attributeGroup>
  <xs:element name="note" type="xs:string"/>
</xs:schema>"""


def _set(directory: Path, email_min: int = 0, lines_file: str = "lines.xsd") -> Path:
    directory.mkdir()
    (directory / "main.xsd").write_text(MAIN.replace("{include}", lines_file))
    (directory / lines_file).write_text(LINES)
    (directory / "common.xsd").write_text(COMMON.replace("{email_min}", str(email_min)))
    return directory


def test_two_namespaces_imported_and_included(tmp_path):
    old = _set(tmp_path / "old")
    new = _set(tmp_path / "new", email_min=1)
    report = check(old, new, witness_dir=tmp_path / "w")
    verify_witnesses(report, old, new)
    assert (report.backward.verdict, report.forward.verdict) == ("incompatible", "compatible")
    assert report.backward.path == "/order/customer"
    assert "MIN_OCCURS_RAISED" in {c.rule for c in report.changes}
    # the global element of the imported namespace is a root of the language too
    same = check(old, old, witness_dir=tmp_path / "w2")
    assert same.verdict == "compatible"


def test_type_moved_to_another_file_is_a_refactoring(tmp_path):
    old = _set(tmp_path / "old")
    new = _set(tmp_path / "new", lines_file="order-lines.xsd")
    (new / "lines.xsd").write_text(LINES.replace('name="Line"', 'name="Unused"'))
    report = check(old, new, witness_dir=tmp_path / "w")      # every .xsd of each directory
    assert report.verdict == "compatible"
    moved = [c for c in report.changes if c.rule == "TYPE_MOVED"]
    assert moved and moved[0].detail == "lines.xsd → order-lines.xsd"
    assert all(c.refactoring and c.backward and c.forward for c in report.changes)
