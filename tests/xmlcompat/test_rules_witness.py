"""Rule changes that break documents of the old version: each verdict carries a witness made
from the grammar generator's documents, re-validated here with lxml (valid under A's XSD and
rules, failing B's rule)."""

from __future__ import annotations

import pytest

from tests.xmlcompat.rules_helpers import ALBUM_XSD, assert_rule_witness, sch, write
from xmlcompat import load_language
from xmlcompat.generate import generate_documents
from xmlcompat.schematron import compare_rules, load_rules


@pytest.mark.parametrize(
    "old_rule, new_rule, name",
    [
        (
            ("photo", '<sch:assert test="@size &gt; 0">positive</sch:assert>'),
            ("photo", '<sch:assert test="@size &gt; 10">over ten</sch:assert>'),
            "RULE_STRENGTHENED",
        ),
        # ∀ → ∃ where the element is optional: an album without a cover satisfies the old rule only
        (
            ("album", "<sch:assert test=\"not(cover[not(. != '')])\">covers named</sch:assert>"),
            ("album", "<sch:assert test=\"cover[. != '']\">a named cover</sch:assert>"),
            "RULE_UNKNOWN",
        ),
        # the grammar allows four photos: at most three is a real restriction
        (
            None,
            ("album", '<sch:assert test="count(photo) &lt;= 3">three photos</sch:assert>'),
            "RULE_ADDED",
        ),
        # a report is a negated assert: no caption may say "untitled" any more
        (
            None,
            ("photo", "<sch:report test=\"caption = 'untitled'\">untitled</sch:report>"),
            "RULE_ADDED",
        ),
    ],
)
def test_incompatible_rule_change_has_a_validated_witness(tmp_path, old_rule, new_rule, name):
    xsd = write(tmp_path, "album.xsd", ALBUM_XSD)
    old_path = write(tmp_path, "old.sch", sch(old_rule)) if old_rule else None
    new_path = write(tmp_path, "new.sch", sch(new_rule))
    lang = load_language(xsd)
    findings = compare_rules(
        load_rules(old_path) if old_path else None,
        load_rules(new_path),
        lang,
        lang,
        generate=generate_documents,
        witness_dir=tmp_path / "witnesses",
    )
    [f] = [f for f in findings if f.rule == name]
    assert f.backward is False and f.witness is not None, f
    assert f.witness.parent == tmp_path / "witnesses"
    report = assert_rule_witness(f.witness, xsd, old_path, new_path)
    assert "fails at" in f.detail and new_rule[1].split('"')[1].replace("&gt;", ">").replace(
        "&lt;", "<"
    ) in report.replace("&gt;", ">").replace("&lt;", "<")


def test_no_witness_for_a_rule_the_old_rules_already_impose(tmp_path):
    xsd = write(tmp_path, "album.xsd", ALBUM_XSD)
    old = sch(("photo", '<sch:assert test="@size &gt; 10 and caption">big</sch:assert>'))
    new = sch(
        ("photo", '<sch:assert test="@size &gt; 5">over five</sch:assert>'),
        ("album", '<sch:assert test="count(title) = 1">one title</sch:assert>'),
    )
    lang = load_language(xsd)
    findings = compare_rules(
        load_rules(write(tmp_path, "o.sch", old)),
        load_rules(write(tmp_path, "n.sch", new)),
        lang,
        lang,
        generate=generate_documents,
        witness_dir=tmp_path / "w",
    )
    assert all(f.backward is True for f in findings), findings
    assert not (tmp_path / "w").exists()


def test_check_folds_rule_verdicts_into_each_direction(tmp_path):
    """Same grammar, rules strengthened: backward incompatible (witness from the rules), forward
    compatible (B's documents satisfy the weaker old rule)."""
    from xmlcompat import check

    xsd = write(tmp_path, "album.xsd", ALBUM_XSD)
    old = write(
        tmp_path, "old.sch", sch(("photo", '<sch:assert test="@size &gt; 0">positive</sch:assert>'))
    )
    new = write(
        tmp_path, "new.sch", sch(("photo", '<sch:assert test="@size &gt; 99">big</sch:assert>'))
    )
    report = check(xsd, xsd, rules_old=old, rules_new=new, witness_dir=tmp_path / "w")
    assert report.backward.verdict == "incompatible", report.backward
    assert_rule_witness(report.backward.witness, xsd, old, new)
    assert report.forward.verdict == "compatible", report.forward
    assert [f.rule for f in report.rule_findings] == ["RULE_STRENGTHENED"]
