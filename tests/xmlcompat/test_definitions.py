"""The definitions (docs/compatibility.md), each pinned with the direction examples."""

from __future__ import annotations

from tests.xmlcompat.helpers import compare, verdicts

ROOT = '<xs:element name="r"><xs:complexType><xs:sequence>{}</xs:sequence></xs:complexType></xs:element>'


def test_def1_backward_optional_element_added_is_backward_not_forward(tmp_path):
    # Def. 1: L(A) ⊆ L(B). An optional element added keeps every old document valid…
    report = compare(tmp_path, ROOT.format('<xs:element name="a" type="xs:string"/>'),
                     ROOT.format('<xs:element name="a" type="xs:string"/>'
                                 '<xs:element name="b" type="xs:string" minOccurs="0"/>'))
    # …but the paper's Def. 2 read literally (∃ b ∈ L(B), b ∉ L(A)) holds: forward fails.
    assert verdicts(report) == ("compatible", "incompatible")
    witness = report.forward.witness.read_text()
    assert "<b>" in witness and "<a>" in witness
    assert "b" in report.forward.witness_error


def test_def1_required_element_added_fails_both_ways(tmp_path):
    report = compare(tmp_path, ROOT.format('<xs:element name="a" type="xs:string"/>'),
                     ROOT.format('<xs:element name="a" type="xs:string"/>'
                                 '<xs:element name="b" type="xs:string"/>'))
    assert verdicts(report) == ("incompatible", "incompatible")
    assert "<b" not in report.backward.witness.read_text()


def test_removed_optional_element_is_forward_compatible_only(tmp_path):
    report = compare(tmp_path, ROOT.format('<xs:element name="a" type="xs:string"/>'
                                           '<xs:element name="b" type="xs:int" minOccurs="0"/>'),
                     ROOT.format('<xs:element name="a" type="xs:string"/>'))
    assert verdicts(report) == ("incompatible", "compatible")
    assert report.backward.rule == "ELEMENT_REMOVED"


def test_identical_versions_are_compatible_both_ways(tmp_path):
    body = ROOT.format('<xs:element name="a" type="xs:string" maxOccurs="unbounded"/>')
    report = compare(tmp_path, body, body)
    assert verdicts(report) == ("compatible", "compatible")
    assert report.changes == []


def test_language_equal_rewrites_are_compatible_both_ways(tmp_path):
    # a, a? ↔ a{1,2}: the same language, whatever a structural diff says
    report = compare(tmp_path,
                     ROOT.format('<xs:element name="a" type="xs:int"/>'
                                 '<xs:element name="a" type="xs:int" minOccurs="0"/>'),
                     ROOT.format('<xs:element name="a" type="xs:int" maxOccurs="2"/>'))
    assert verdicts(report) == ("compatible", "compatible")
    assert all(c.backward and c.forward for c in report.changes)


def test_direction_argument_limits_the_check(tmp_path):
    report = compare(tmp_path, ROOT.format('<xs:element name="a" type="xs:string"/>'),
                     ROOT.format('<xs:element name="a" type="xs:token"/>'), direction="backward")
    assert report.forward is None and report.backward.verdict == "compatible"
