"""Every change operator: the exact verdict per direction, the change's rule name, and (by
`compare`) every witness re-validated with lxml. The benchmark runs these operators over
the full mutation corpus; here each runs once on a small schema."""

from __future__ import annotations

import pytest

from tests.xmlcompat.helpers import compare, rules, verdicts

C, I, U = "compatible", "incompatible", "unknown"


def seq(*items, attrs="", mixed=False):
    m = ' mixed="true"' if mixed else ""
    return (f'<xs:element name="r"><xs:complexType{m}><xs:sequence>{"".join(items)}</xs:sequence>'
            f"{attrs}</xs:complexType></xs:element>")


def el(name, type_="xs:string", **occ):
    extra = "".join(f' {k.replace("_", "")}="{v}"' for k, v in occ.items())
    return f'<xs:element name="{name}" type="{type_}"{extra}/>'


def simple(restriction, base="xs:string"):
    return seq(f'<xs:element name="v"><xs:simpleType><xs:restriction base="{base}">{restriction}'
               f"</xs:restriction></xs:simpleType></xs:element>")


def attr(name, use="optional", type_="xs:string", **more):
    extra = "".join(f' {k}="{v}"' for k, v in more.items())
    return f'<xs:attribute name="{name}" type="{type_}" use="{use}"{extra}/>'


SUBST = ('<xs:element name="r"><xs:complexType><xs:sequence><xs:element ref="head" maxOccurs="3"/>'
         '</xs:sequence></xs:complexType></xs:element>'
         '<xs:element name="head" type="xs:string" abstract="true"/>'
         '<xs:element name="m1" type="xs:string" substitutionGroup="head"/>{}')
DERIVED = ('<xs:complexType name="Base"><xs:sequence>' + el("a") + '</xs:sequence></xs:complexType>'
           '<xs:complexType name="Ext"><xs:complexContent><xs:extension base="Base"><xs:sequence>'
           + el("b") + '</xs:sequence></xs:extension></xs:complexContent></xs:complexType>')

# the smallest document has an IDREF and no ID: the witness falls back to random completions
IDS = ('<xs:element name="r"><xs:complexType><xs:sequence>'
       '<xs:element name="link"><xs:complexType><xs:attribute name="to" type="xs:IDREF" use="required"/>'
       '</xs:complexType></xs:element>{}'
       '<xs:element name="item" minOccurs="0" maxOccurs="unbounded"><xs:complexType>'
       '<xs:attribute name="id" use="required"><xs:simpleType><xs:restriction base="xs:ID">'
       '<xs:pattern value="m[0-9]{{3}}"/></xs:restriction></xs:simpleType></xs:attribute>'
       '</xs:complexType></xs:element></xs:sequence></xs:complexType></xs:element>')

OPERATORS = {
    # name: (old, new, backward, forward, rule expected in the change list)
    "optional element added": (seq(el("a")), seq(el("a"), el("b", minOccurs=0)), C, I, "OPTIONAL_ELEMENT_ADDED"),
    "required element added": (seq(el("a")), seq(el("a"), el("b")), I, I, "REQUIRED_ELEMENT_ADDED"),
    "element removed": (seq(el("a"), el("b")), seq(el("a")), I, I, "ELEMENT_REMOVED"),
    "element renamed": (seq(el("a"), el("colour")), seq(el("a"), el("color")), I, I, None),
    "minOccurs raised": (seq(el("a", minOccurs=0)), seq(el("a")), I, C, "MIN_OCCURS_RAISED"),
    "minOccurs lowered": (seq(el("a")), seq(el("a", minOccurs=0)), C, I, "MIN_OCCURS_LOWERED"),
    "maxOccurs lowered": (seq(el("a", maxOccurs=5)), seq(el("a", maxOccurs=2)), I, C, "MAX_OCCURS_LOWERED"),
    "maxOccurs raised": (seq(el("a")), seq(el("a", maxOccurs="unbounded")), C, I, "MAX_OCCURS_RAISED"),
    "sequence reordered": (seq(el("a"), el("b")), seq(el("b"), el("a")), I, I, "SEQUENCE_REORDERED"),
    "choice reordered": (seq(f"<xs:choice>{el('a')}{el('b')}</xs:choice>"),
                         seq(f"<xs:choice>{el('b')}{el('a')}</xs:choice>"), C, C, "CHOICE_REORDERED"),
    "type changed int to string": (seq(el("a", "xs:int")), seq(el("a", "xs:string")), C, I, "TYPE_CHANGED"),
    "type changed string to date": (seq(el("a")), seq(el("a", "xs:date")), I, C, "TYPE_CHANGED"),
    "maxLength tightened": (simple('<xs:maxLength value="20"/>'), simple('<xs:maxLength value="10"/>'),
                            I, C, "FACET_TIGHTENED"),
    "minLength loosened": (simple('<xs:minLength value="3"/>'), simple('<xs:minLength value="1"/>'),
                           C, I, "FACET_LOOSENED"),
    "length changed": (simple('<xs:length value="3"/>'), simple('<xs:length value="4"/>'), I, I, None),
    "minInclusive raised": (simple('<xs:minInclusive value="0"/>', "xs:int"),
                            simple('<xs:minInclusive value="5"/>', "xs:int"), I, C, "FACET_TIGHTENED"),
    "maxExclusive loosened": (simple('<xs:maxExclusive value="10"/>', "xs:decimal"),
                              simple('<xs:maxExclusive value="100"/>', "xs:decimal"), C, I, "FACET_LOOSENED"),
    "exclusive to inclusive (integers, same set)": (
        simple('<xs:minExclusive value="0"/>', "xs:integer"),
        simple('<xs:minInclusive value="1"/>', "xs:integer"), C, C, None),
    "totalDigits tightened": (simple('<xs:totalDigits value="5"/>', "xs:decimal"),
                              simple('<xs:totalDigits value="3"/>', "xs:decimal"), I, C, "FACET_TIGHTENED"),
    "fractionDigits tightened": (simple('<xs:fractionDigits value="3"/>', "xs:decimal"),
                                 simple('<xs:fractionDigits value="1"/>', "xs:decimal"), I, C, "FACET_TIGHTENED"),
    "pattern tightened": (simple('<xs:pattern value="[a-z0-9]+"/>'), simple('<xs:pattern value="[a-z]+"/>'),
                          I, U, "FACET_TIGHTENED"),
    "pattern alternative added (same step: an 'or')": (
        simple('<xs:pattern value="[0-9]{3}"/>'), simple('<xs:pattern value="[0-9]{3}"/><xs:pattern value="[a-z]+"/>'),
        C, I, None),
    "pattern widened (inclusion of patterns undecided)": (
        simple('<xs:pattern value="[a-z]+"/>'), simple('<xs:pattern value="[a-z0-9]+"/>'), U, I, None),
    "whiteSpace collapse to preserve with maxLength": (
        simple('<xs:whiteSpace value="collapse"/><xs:maxLength value="3"/>'),
        simple('<xs:maxLength value="3"/>'), I, C, None),
    "enumeration value removed": (simple('<xs:enumeration value="a"/><xs:enumeration value="b"/>'),
                                  simple('<xs:enumeration value="a"/>'), I, C, "ENUM_VALUE_REMOVED"),
    "enumeration value added": (simple('<xs:enumeration value="a"/>'),
                                simple('<xs:enumeration value="a"/><xs:enumeration value="b"/>'),
                                C, I, "ENUM_VALUE_ADDED"),
    "list item type narrowed": (
        seq('<xs:element name="l"><xs:simpleType><xs:list itemType="xs:decimal"/></xs:simpleType></xs:element>'),
        seq('<xs:element name="l"><xs:simpleType><xs:list itemType="xs:int"/></xs:simpleType></xs:element>'),
        I, C, "TYPE_CHANGED"),
    "union member removed": (
        seq('<xs:element name="u"><xs:simpleType><xs:union memberTypes="xs:int xs:boolean"/></xs:simpleType>'
            '</xs:element>'),
        seq('<xs:element name="u"><xs:simpleType><xs:union memberTypes="xs:int"/></xs:simpleType></xs:element>'),
        I, C, "TYPE_CHANGED"),
    "attribute added required": (seq(el("a")), seq(el("a"), attrs=attr("x", "required")), I, I,
                                 "ATTRIBUTE_ADDED_REQUIRED"),
    "attribute added optional": (seq(el("a")), seq(el("a"), attrs=attr("x")), C, I, "ATTRIBUTE_ADDED_OPTIONAL"),
    "attribute made optional": (seq(el("a"), attrs=attr("x", "required")), seq(el("a"), attrs=attr("x")),
                                C, I, "ATTRIBUTE_MADE_OPTIONAL"),
    "attribute made required": (seq(el("a"), attrs=attr("x")), seq(el("a"), attrs=attr("x", "required")),
                                I, C, "ATTRIBUTE_MADE_REQUIRED"),
    "attribute removed": (seq(el("a"), attrs=attr("x")), seq(el("a")), I, C, "ATTRIBUTE_REMOVED"),
    "attribute type narrowed": (seq(el("a"), attrs=attr("x", type_="xs:decimal")),
                                seq(el("a"), attrs=attr("x", type_="xs:int")), I, C, "TYPE_CHANGED"),
    "attribute default changed": (seq(el("a"), attrs=attr("x", default="1")),
                                  seq(el("a"), attrs=attr("x", default="2")), C, C, "DEFAULT_CHANGED"),
    "attribute fixed changed": (seq(el("a"), attrs=attr("x", fixed="1")),
                                seq(el("a"), attrs=attr("x", fixed="2")), I, I, "FIXED_CHANGED"),
    "element fixed added": (seq(el("a")), seq(el("a", fixed="v")), I, C, "FIXED_CHANGED"),
    "nillable removed": (seq(el("a", nillable="true")), seq(el("a")), I, C, "NILLABLE_REMOVED"),
    "mixed removed": (seq(el("a"), mixed=True), seq(el("a")), I, C, "MIXED_REMOVED"),
    "root element removed": (seq(el("a")) + '<xs:element name="other" type="xs:string"/>', seq(el("a")),
                             I, C, "ROOT_ELEMENT_REMOVED"),
    "substitution member removed": (SUBST.format('<xs:element name="m2" type="xs:string" substitutionGroup="head"/>'),
                                    SUBST.format(""), I, C, "SUBSTITUTION_MEMBER_REMOVED"),
    "substitution member added": (SUBST.format(""),
                                  SUBST.format('<xs:element name="m2" type="xs:string" substitutionGroup="head"/>'),
                                  C, I, "SUBSTITUTION_MEMBER_ADDED"),
    "abstract added": (SUBST.format('<xs:element name="m2" type="xs:string" substitutionGroup="head"/>'),
                       SUBST.format('<xs:element name="m2" type="xs:string" substitutionGroup="head" abstract="true"/>'),
                       I, C, "ABSTRACT_ADDED"),
    "wildcard narrowed": (seq(el("a"), '<xs:any namespace="##any" processContents="skip" minOccurs="0"/>'),
                          seq(el("a"), '<xs:any namespace="##other" processContents="skip" minOccurs="0"/>'),
                          I, C, "WILDCARD_NARROWED"),
    "wildcard made strict": (seq(el("a"), '<xs:any namespace="##other" processContents="lax" minOccurs="0"/>'),
                             seq(el("a"), '<xs:any namespace="##other" processContents="strict" minOccurs="0"/>'),
                             I, C, "WILDCARD_NARROWED"),
    "anyAttribute removed": (seq(el("a"), attrs='<xs:anyAttribute namespace="##other" processContents="skip"/>'),
                             seq(el("a")), I, C, "WILDCARD_REMOVED"),
    "all: optional member added": (
        '<xs:element name="r"><xs:complexType><xs:all>' + el("a") + el("b") + '</xs:all></xs:complexType></xs:element>',
        '<xs:element name="r"><xs:complexType><xs:all>' + el("a") + el("b") + el("c", minOccurs=0)
        + '</xs:all></xs:complexType></xs:element>', C, I, "OPTIONAL_ELEMENT_ADDED"),
    "all to sequence": (
        '<xs:element name="r"><xs:complexType><xs:all>' + el("a") + el("b") + '</xs:all></xs:complexType></xs:element>',
        seq(el("a"), el("b")), I, C, None),
    "xsi:type derived type removed": (
        DERIVED + '<xs:element name="r" type="Base"/>',
        '<xs:complexType name="Base"><xs:sequence>' + el("a") + '</xs:sequence></xs:complexType>'
        '<xs:element name="r" type="Base"/>', I, C, None),
    "declared type made abstract": (
        DERIVED + '<xs:element name="r" type="Base"/>',
        DERIVED.replace('name="Base"', 'name="Base" abstract="true"') + '<xs:element name="r" type="Base"/>',
        I, C, None),
    "identity constraint added (not decided)": (
        seq(el("a", maxOccurs=3)),
        seq(el("a", maxOccurs=3)).replace("</xs:complexType></xs:element>",
                                          '</xs:complexType><xs:unique name="u"><xs:selector xpath="a"/>'
                                          '<xs:field xpath="."/></xs:unique></xs:element>'), U, C,
        "IDENTITY_CONSTRAINT_ADDED"),
    "element removed where the witness needs an ID for its IDREF": (
        IDS.format('<xs:element name="note" type="xs:string" minOccurs="0"/>'), IDS.format(""), I, C,
        "ELEMENT_REMOVED"),
    "maxOccurs too large to unroll (not decided)": (seq(el("a", maxOccurs=30000)), seq(el("a", maxOccurs=20000)),
                                                    U, U, None),
    "simple type to element content": (
        seq(el("v")), seq('<xs:element name="v"><xs:complexType><xs:sequence>' + el("x", minOccurs=0)
                          + "</xs:sequence></xs:complexType></xs:element>"), I, I, "TYPE_CHANGED"),
    "large maxOccurs unchanged, child type widened": (
        seq(el("a", maxOccurs=30000), el("b", "xs:int")), seq(el("a", maxOccurs=30000), el("b", "xs:decimal")),
        C, U, None),
    # language-preserving refactorings: compatible both ways, reported as refactorings
    "a, a? to a{1,2}": (seq(el("a"), el("a", minOccurs=0)), seq(el("a", maxOccurs=2)), C, C, None),
    "group extracted": (seq(el("a"), el("b")),
                        '<xs:group name="G"><xs:sequence>' + el("a") + el("b") + '</xs:sequence></xs:group>'
                        '<xs:element name="r"><xs:complexType><xs:sequence><xs:group ref="G"/></xs:sequence>'
                        '</xs:complexType></xs:element>', C, C, "GROUP_EXTRACTED"),
    "type renamed": ('<xs:complexType name="T1"><xs:sequence>' + el("a") + '</xs:sequence></xs:complexType>'
                     '<xs:element name="r" type="T1"/>',
                     '<xs:complexType name="T2"><xs:sequence>' + el("a") + '</xs:sequence></xs:complexType>'
                     '<xs:element name="r" type="T2"/>', C, C, "TYPE_RENAMED"),
    "anonymous type made named": (seq(el("a")),
                                  '<xs:complexType name="T"><xs:sequence>' + el("a") + '</xs:sequence>'
                                  '</xs:complexType><xs:element name="r" type="T"/>', C, C, "ANONYMOUS_TYPE_NAMED"),
}


@pytest.mark.parametrize("name", list(OPERATORS))
def test_operator(tmp_path, name):
    old, new, backward, forward, rule = OPERATORS[name]
    report = compare(tmp_path, old, new)
    assert verdicts(report) == (backward, forward), (report.backward.reasons, report.forward.reasons)
    if rule is not None:
        assert rule in rules(report), [c.to_dict() for c in report.changes]
    _assert_consistent(report)


def _assert_consistent(report) -> None:
    """The change list never contradicts the exact verdicts (issue 13, item 4)."""
    for direction in ("backward", "forward"):
        verdict = getattr(report, direction).verdict
        flags = [getattr(c, direction) for c in report.changes]
        if verdict == "compatible":
            assert False not in flags, direction
        if verdict == "unknown":        # an undecided verdict shows an undecided change
            assert any(f is not True for f in flags), direction
        if verdict == "incompatible":
            witnessed = [c for c in report.changes if direction in c.witnessed]
            assert witnessed and all(getattr(c, direction) is False for c in witnessed), direction
    if verdicts(report) == ("compatible", "compatible"):
        assert all(c.refactoring for c in report.changes)


def test_namespace_renamed_per_version_is_mapped_automatically(tmp_path):
    body = seq(el("a"), el("b", minOccurs=0))
    old_tns, new_tns = "urn:example:v1", "urn:example:v2"
    from tests.xmlcompat.helpers import verify_witnesses, xsd
    from xmlcompat import check

    old, new = xsd(tmp_path, body, old_tns), xsd(tmp_path, body, new_tns)
    report = check(old, new, witness_dir=tmp_path / "w")
    assert report.ns_map == {old_tns: new_tns}
    assert verdicts(report) == (C, C)
    # without the mapping the root is gone
    report = check(old, new, ns_map={}, witness_dir=tmp_path / "w2")
    verify_witnesses(report, old, new)
    assert verdicts(report) == (I, I) and "ROOT_ELEMENT_RENAMED" in rules(report)
    # a mapped namespace with a real change: the witness is validated under the mapping
    new2 = xsd(tmp_path, seq(el("a")), new_tns)
    report = check(old, new2, ns_map={old_tns: new_tns}, witness_dir=tmp_path / "w3")
    verify_witnesses(report, old, new2)
    assert verdicts(report) == (I, C)


def test_length_beyond_any_written_witness_is_unknown_with_the_length(tmp_path):
    # .NET's DataSet writes maxLength 2147483647; halving it is incompatible, but the witness
    # would hold a value of a billion characters: unknown, and the reason says why
    report = compare(tmp_path, simple('<xs:maxLength value="2147483647"/>'),
                     simple('<xs:maxLength value="1073741823"/>'))
    assert verdicts(report) == (U, C)
    assert "1,073,741,824 characters" in report.backward.reasons[0], report.backward.reasons
