"""Schematron rules across language versions (the paper's Defs. 3–5): normal forms, the
relation of old and new rules, schema facts, well-formedness and hostile rule files."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.xmlcompat.rules_helpers import ALBUM_XSD, SCH_HEAD, sch, write
from xmlcompat import CompatError, load_language
from xmlcompat.schematron import RulesError, compare_rules, load_rules, single_rule_schema
from xmlcompat.xpath_rules import parse_test, relation, show


def _assert(test: str, id_: str | None = None) -> str:
    return f'<sch:assert test="{test}"{f" id={chr(34)}{id_}{chr(34)}" if id_ else ""}>must hold</sch:assert>'


@pytest.fixture
def album(tmp_path):
    return write(tmp_path, "album.xsd", ALBUM_XSD)


def _compare(tmp_path, old_rules, new_rules, xsd_old, xsd_new=None):
    old = load_rules(write(tmp_path, "old.sch", sch(*old_rules))) if old_rules else None
    new = load_rules(write(tmp_path, "new.sch", sch(*new_rules))) if new_rules else None
    lang_old = load_language(xsd_old)
    lang_new = load_language(xsd_new or xsd_old)
    return compare_rules(old, new, lang_old, lang_new, generate=None, witness_dir=tmp_path / "w")


def _one(findings, rule=None):
    found = [f for f in findings if rule is None or f.rule == rule]
    assert len(found) == 1, findings
    return found[0]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("x > 0", "x >= 0", "weaker"),
        ("x >= 0", "x > 0", "stronger"),
        ("a = 1", "a = 1 or b = 2", "weaker"),  # an or operand added
        ("a = 1 and b = 2", "b = 2", "weaker"),  # an and operand removed
        ("not(a and b)", "not(a) or not(b)", "equivalent"),  # de Morgan
        ("1 < count(a)", "count(a) > 1", "equivalent"),  # comparison turned around
        ("not(count(a) > 1)", "count(a) <= 1", "equivalent"),  # numbers that cannot be NaN
        ("count(x) >= 1", "x", "equivalent"),
        ("b and (a or c)", "(c or a) and b", "equivalent"),  # commutativity and flattening
        ("string-length(t) > 3", "string-length(t) >= 3", "weaker"),  # integers: > 3 is >= 4
        ("x = 'on'", "x = 'on' or x = 'off'", "weaker"),
        ("x > 0", "y > 0", "unknown"),
        ("original", "original/@path", "stronger"),  # a longer path needs its first steps
        ("x[@a > 2]", "x[@a > 1]", "weaker"),
    ],
)
def test_relation_of_old_and_new_tests(old, new, expected):
    assert relation(parse_test(old, {})[0], parse_test(new, {})[0]) == expected


def test_negated_comparison_on_a_node_set_is_not_turned_around():
    # not(@size <= 0) also holds when there is no @size; @size > 0 does not
    term, _ = parse_test("not(@size <= 0)", {})
    assert show(term) == "not(@size <= 0)"
    assert relation(term, parse_test("@size > 0", {})[0]) == "unknown"


def test_every_to_some_is_weaker_only_where_the_schema_requires_the_element(tmp_path, album):
    every = ("album", _assert("not(photo[not(@size &gt; 0)])"))
    some = ("album", _assert("photo[@size &gt; 0]"))
    f = _one(_compare(tmp_path, [every], [some], album))
    assert (f.rule, f.backward) == ("RULE_WEAKENED", True), f  # photo has minOccurs="1"
    every_cover = ("album", _assert("not(cover[not(. != '')])"))
    some_cover = ("album", _assert("cover[. != '']"))
    f = _one(_compare(tmp_path, [every_cover], [some_cover], album))
    assert f.rule == "RULE_UNKNOWN" and f.backward is not True, f  # cover is optional


def test_weakened_and_equivalent_rules_are_backward_compatible(tmp_path, album):
    findings = _compare(
        tmp_path,
        [("photo", _assert("@size &gt; 0", "size") + _assert("caption and @size &gt; 10"))],
        [("photo", _assert("@size &gt;= 0", "size") + _assert("@size &gt; 10"))],
        album,
    )
    assert sorted((f.rule, f.backward) for f in findings) == [
        ("RULE_WEAKENED", True),
        ("RULE_WEAKENED", True),
    ]


def test_a_new_count_limit_the_grammar_already_imposes_is_harmless(tmp_path, album):
    f = _one(_compare(tmp_path, [], [("album", _assert("count(title) &lt;= 1"))], album))
    assert (f.rule, f.backward) == ("RULE_ADDED", True), f
    assert "implied" in f.detail
    f = _one(_compare(tmp_path, [], [("album", _assert("not(count(photo) &gt; 4)"))], album))
    assert (f.rule, f.backward) == ("RULE_ADDED", True), f  # photo maxOccurs="4"
    f = _one(_compare(tmp_path, [], [("album", _assert("count(photo) &lt;= 3"))], album))
    assert f.rule == "RULE_ADDED" and f.backward is not True, f


def test_removed_rule_is_compatible_and_report_reads_as_negated_assert(tmp_path, album):
    f = _one(_compare(tmp_path, [("album", _assert("title"))], [], album))
    assert (f.rule, f.backward) == ("RULE_REMOVED", True)
    report = '<sch:report test="count(photo) &gt; 2">too many</sch:report>'
    f = _one(
        _compare(tmp_path, [("album", report)], [("album", _assert("count(photo) &lt;= 2"))], album)
    )
    assert (f.rule, f.backward) == ("RULE_EQUIVALENT", True), f


def test_let_variables_are_substituted(tmp_path, album):
    old = ("photo", '<sch:let name="least" value="0"/>' + _assert("@size &gt; $least"))
    f = _one(_compare(tmp_path, [old], [("photo", _assert("@size &gt; 0"))], album))
    assert (f.rule, f.backward) == ("RULE_EQUIVALENT", True), f


def test_rules_are_paired_by_id_before_position(tmp_path, album):
    old = [("photo", _assert("@size &gt; 5", "big") + _assert("caption", "captioned"))]
    new = [("photo", _assert("caption or @public", "captioned") + _assert("@size &gt; 1", "big"))]
    findings = _compare(tmp_path, old, new, album)
    assert sorted(f.rule for f in findings) == ["RULE_WEAKENED", "RULE_WEAKENED"], findings
    assert all(f.old_location and f.backward for f in findings)


def test_rule_paths_unknown_to_the_new_schema_are_reported(tmp_path, album):
    new_xsd = write(
        tmp_path,
        "album2.xsd",
        ALBUM_XSD.replace('<xs:element name="cover" type="xs:string" minOccurs="0"/>', ""),
    )
    old = [("album", _assert("not(cover) or title"))]
    new = [("album", _assert("not(cover) or title")), ("photo", _assert("not(@colour) or @size"))]
    findings = _compare(tmp_path, old, new, album, new_xsd)
    unknown = [f for f in findings if f.rule == "RULE_PATH_UNKNOWN"]
    details = sorted(f.detail for f in unknown)
    assert len(unknown) == 3, (
        findings
    )  # new rule with cover, new rule with @colour, old rule with cover
    assert any("@colour" in d and "not well-formed" in d for d in details)
    assert any("cover" in d and "no longer applies" in d for d in details)


def test_unreadable_xpath_makes_the_relation_unknown_never_compatible(tmp_path, album):
    f = _one(
        _compare(
            tmp_path,
            [("album", _assert("title"))],
            [("album", _assert("title and system-property('xsl:vendor')"))],
            album,
        )
    )
    assert f.backward is not True, f


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "<sch:schema xmlns:sch='http://purl.oclc.org/dsdl/schematron'><sch:pattern>",
            "not well-formed",
        ),
        (
            """<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron"><sch:title>&d;</sch:title></sch:schema>""",
            "entity declarations are refused",
        ),
        (
            """<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron"><sch:title>&x;</sch:title></sch:schema>""",
            "entity declarations are refused",
        ),
        (
            SCH_ABSTRACT := """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
<sch:pattern abstract="true" id="table"><sch:rule context="$table"><sch:assert test="$row">r</sch:assert>
</sch:rule></sch:pattern><sch:pattern is-a="table"><sch:param name="table" value="album"/>
<sch:param name="row" value="photo"/></sch:pattern></sch:schema>""",
            "abstract patterns are not supported",
        ),
        (
            '<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2"/>',
            "xslt2",
        ),
        (
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>',
            "not an ISO Schematron schema",
        ),
    ],
)
def test_bad_rule_files_are_refused_in_one_line_naming_the_file(tmp_path, album, text, message):
    path = write(tmp_path, "bad.sch", text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    line = str(info.value)
    assert str(path) in line and message in line and "\n" not in line
    with pytest.raises(CompatError, match=message):  # and through the language loader
        load_language(album, path)


def test_a_let_used_inside_a_predicate_keeps_the_rule_context():
    # $parent is the album's own @parent; written into the predicate it would be the other
    # album's @parent, a different rule
    lets = {"parent": "@parent", "least": "3"}
    with_let, _ = parse_test("count(../album[@id = $parent]) = 1", {}, lets)
    inlined, _ = parse_test("count(../album[@id = @parent]) = 1", {})
    assert with_let != inlined
    assert relation(with_let, inlined) == "unknown"
    assert parse_test("photo[@size > $least]", {}, lets)[0] == parse_test("photo[@size > 3]", {})[0]
    assert parse_test("@parent = $parent", {}, lets)[0] == parse_test("@parent = @parent", {})[0]


def test_an_oversized_rule_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.sch"
    with path.open("wb") as f:  # sparse: no 200 MB written, only its size
        f.truncate(200 * 1024 * 1024)
    with pytest.raises(RulesError, match="over the .* byte limit") as info:
        load_rules(path)
    assert str(path) in str(info.value)


def test_a_rule_an_earlier_rule_of_its_pattern_shadows_is_not_the_same_rule_alone(tmp_path, album):
    """Schematron gives a node to the first rule of a pattern whose context matches it: in A
    the cover rule comes after a rule on every album and never applies; in B it has a pattern
    of its own and does. B is stricter, never "compatible" (Atrium's backup format 3 had
    exactly this, and the checker called format 4 compatible with it)."""
    shadowed = (f'{SCH_HEAD}<sch:pattern><sch:rule context="album">{_assert("title")}</sch:rule>'
                f'<sch:rule context="album[cover]">{_assert("count(photo) &gt;= 2")}</sch:rule>'
                f'</sch:pattern></sch:schema>')
    alone = (f'{SCH_HEAD}<sch:pattern><sch:rule context="album">{_assert("title")}</sch:rule></sch:pattern>'
             f'<sch:pattern><sch:rule context="album[cover]">{_assert("count(photo) &gt;= 2")}</sch:rule>'
             f'</sch:pattern></sch:schema>')
    old = load_rules(write(tmp_path, "old.sch", shadowed))
    new = load_rules(write(tmp_path, "new.sch", alone))
    lang = load_language(album)
    findings = compare_rules(old, new, lang, lang, generate=None, witness_dir=tmp_path / "w")
    cover = [f for f in findings if "album[cover]" in f.location]
    assert cover and all(f.backward is not True for f in cover if f.rule != "RULE_REMOVED"), findings
    assert any(f.rule == "RULE_ADDED" and f.backward is not True for f in cover), findings
    # The one-constraint validator keeps the shadowing: an album with a cover and one photo
    # is valid under A's (shadowed) cover rule and invalid under B's.
    doc = etree.fromstring("<gallery><album rank='1'><title>t</title><cover>c</cover><photo size='1'/></album></gallery>")
    old_cover = next(c for c in old.constraints if "cover" in c.context)
    new_cover = next(c for c in new.constraints if "cover" in c.context)
    assert single_rule_schema(old_cover).validate(doc)
    assert not single_rule_schema(new_cover).validate(doc)
