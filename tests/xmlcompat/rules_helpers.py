"""Small schemas and Schematron files written by the rule tests, and the witness re-check."""

from __future__ import annotations

from pathlib import Path

from lxml import etree, isoschematron

SCH_HEAD = '<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">'

# An album holds one title, any number of photos (each with a size and an optional
# caption), and an optional cover; a gallery holds albums.
ALBUM_XSD = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="gallery">
    <xs:complexType><xs:sequence>
      <xs:element ref="album" minOccurs="1" maxOccurs="3"/>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:element name="album">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="title" type="xs:string"/>
        <xs:element name="cover" type="xs:string" minOccurs="0"/>
        <xs:element name="photo" minOccurs="1" maxOccurs="4">
          <xs:complexType>
            <xs:sequence><xs:element name="caption" type="xs:string" minOccurs="0"/></xs:sequence>
            <xs:attribute name="size" type="xs:integer" use="required"/>
            <xs:attribute name="public" type="xs:boolean"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="rank" type="xs:integer" use="required"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


def sch(*rules: tuple[str, str], extra: str = "") -> str:
    """A Schematron document of one pattern holding the (context, body) rules."""
    body = []
    for context, inner in rules:
        body.append(f'<sch:rule context="{context}">{inner}</sch:rule>')
    return f"{SCH_HEAD}{extra}<sch:pattern>{''.join(body)}</sch:pattern></sch:schema>"


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def assert_rule_witness(witness: Path, xsd_a: Path, rules_a: Path | None, rules_b: Path) -> str:
    """The witness is valid under A's XSD and rules and invalid under B's rules (lxml)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    doc = etree.parse(str(witness), parser)
    schema = etree.XMLSchema(etree.parse(str(xsd_a), parser))
    assert schema.validate(doc), schema.error_log
    if rules_a is not None:
        assert isoschematron.Schematron(etree.parse(str(rules_a), parser)).validate(doc)
    b = isoschematron.Schematron(
        etree.parse(str(rules_b), parser),
        store_report=True,
        error_finder=isoschematron.Schematron.ASSERTS_AND_REPORTS,
    )
    assert not b.validate(doc)
    return etree.tostring(b.validation_report).decode()
