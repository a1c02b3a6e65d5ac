"""The instance generator: seeded, bounded, and valid (by lxml) on schemas with abstract
types, xsi:type, substitution groups, ID/IDREF, patterns and facets."""

from __future__ import annotations

from lxml import etree

from tests.xmlcompat.helpers import xsd
from xmlcompat import load_language
from xmlcompat.generate import generate_documents, minimal_document

XSI = "http://www.w3.org/2001/XMLSchema-instance"
TNS = "urn:example:shapes"

SHAPES = """
<xs:element name="drawing">
  <xs:complexType><xs:sequence>
    <xs:element name="shape" type="Shape" maxOccurs="5"/>
    <xs:element ref="item" minOccurs="0" maxOccurs="4"/>
    <xs:element name="link" minOccurs="0" maxOccurs="3">
      <xs:complexType><xs:attribute name="to" type="xs:IDREF" use="required"/></xs:complexType>
    </xs:element>
  </xs:sequence></xs:complexType>
</xs:element>
<xs:complexType name="Shape" abstract="true">
  <xs:attribute name="id" type="xs:ID" use="required"/>
</xs:complexType>
<xs:complexType name="Circle"><xs:complexContent><xs:extension base="Shape">
  <xs:sequence><xs:element name="radius"><xs:simpleType><xs:restriction base="xs:decimal">
    <xs:minExclusive value="0"/><xs:maxInclusive value="100"/><xs:fractionDigits value="2"/>
  </xs:restriction></xs:simpleType></xs:element></xs:sequence>
</xs:extension></xs:complexContent></xs:complexType>
<xs:complexType name="Square"><xs:complexContent><xs:extension base="Shape">
  <xs:sequence><xs:element name="code"><xs:simpleType><xs:restriction base="xs:string">
    <xs:pattern value="[A-Z]{2}-\\d{3}"/></xs:restriction></xs:simpleType></xs:element></xs:sequence>
</xs:extension></xs:complexContent></xs:complexType>
<xs:element name="item" type="xs:string" abstract="true"/>
<xs:element name="note" substitutionGroup="item"><xs:simpleType><xs:restriction base="xs:string">
  <xs:enumeration value="draft"/><xs:enumeration value="final"/></xs:restriction></xs:simpleType></xs:element>
<xs:element name="tag" substitutionGroup="item" type="xs:string"/>
"""


def test_generated_documents_are_valid_and_use_every_feature(tmp_path):
    lang = load_language(xsd(tmp_path, SHAPES, TNS))
    docs = generate_documents(lang, 30, seed=7)
    assert len(docs) == 30
    xsi_types, members, idrefs = set(), set(), 0
    for doc in docs:
        assert lang.validator.validate(doc), lang.validator.error_log   # validated again here
        for el in doc.iter():
            if el.get(f"{{{XSI}}}type"):
                xsi_types.add(el.get(f"{{{XSI}}}type").split(":")[-1])
            if etree.QName(el).localname in ("note", "tag"):
                members.add(etree.QName(el).localname)
            if el.get("to"):
                ids = {e.get("id") for e in doc.iter() if e.get("id")}
                assert el.get("to") in ids
                idrefs += 1
    # the abstract Shape is always replaced by a derived type through xsi:type
    assert xsi_types == {"Circle", "Square"}
    assert members == {"note", "tag"}
    assert idrefs > 0


def test_generation_is_reproducible_by_seed(tmp_path):
    lang = load_language(xsd(tmp_path, SHAPES, TNS))
    first = [etree.tostring(d) for d in generate_documents(lang, 5, seed=3)]
    again = [etree.tostring(d) for d in generate_documents(lang, 5, seed=3)]
    other = [etree.tostring(d) for d in generate_documents(lang, 5, seed=4)]
    assert first == again and first != other


def test_minimal_document_is_small_and_valid(tmp_path):
    lang = load_language(xsd(tmp_path, SHAPES, TNS))
    doc = minimal_document(lang, lang.model.roots[f"{{{TNS}}}drawing"])
    assert lang.validator.validate(doc), lang.validator.error_log
    assert len(list(doc.iter())) <= 4           # drawing, one shape and its one child


def test_recursive_types_terminate(tmp_path):
    body = ('<xs:element name="tree" type="Node"/><xs:complexType name="Node"><xs:sequence>'
            '<xs:element name="node" type="Node" minOccurs="0" maxOccurs="3"/></xs:sequence>'
            '<xs:attribute name="label" type="xs:NCName"/></xs:complexType>')
    lang = load_language(xsd(tmp_path, body))
    docs = generate_documents(lang, 20, seed=1)
    assert len(docs) == 20
    assert max(len(list(d.iter())) for d in docs) > 1
