"""Atrium's own backup language (gallery/archive/formats/N/backup.xsd + backup.sch) through the
rule side: every version's rules are well-formed against its schema (Def. 5) and equivalent
to themselves, and between consecutive versions every rule found incompatible carries a
witness that lxml re-validates."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.xmlcompat.rules_helpers import assert_rule_witness
from xmlcompat import load_language
from xmlcompat.generate import generate_documents
from xmlcompat.schematron import compare_rules, load_rules

FORMATS = Path(__file__).resolve().parents[2] / "gallery" / "archive" / "formats"
VERSIONS = sorted(
    (p for p in FORMATS.iterdir() if (p / "backup.sch").is_file()), key=lambda p: int(p.name)
)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_backup_rules_are_well_formed_and_equal_to_themselves(tmp_path, version):
    lang = load_language(version / "backup.xsd")
    rules = load_rules(version / "backup.sch")
    findings = compare_rules(
        rules, rules, lang, lang, generate=generate_documents, witness_dir=tmp_path
    )
    assert findings and {f.rule for f in findings} == {"RULE_EQUIVALENT"}, findings
    assert all(f.backward is True for f in findings)


@pytest.mark.parametrize("old, new", list(itertools.pairwise(VERSIONS)), ids=lambda p: p.name)
def test_backup_rule_changes_between_versions_are_witnessed_or_compatible(tmp_path, old, new):
    findings = compare_rules(
        load_rules(old / "backup.sch"),
        load_rules(new / "backup.sch"),
        load_language(old / "backup.xsd"),
        load_language(new / "backup.xsd"),
        generate=generate_documents,
        witness_dir=tmp_path / "w",
    )
    assert findings
    for f in findings:
        if f.backward is False:
            assert_rule_witness(
                f.witness, old / "backup.xsd", old / "backup.sch", new / "backup.sch"
            )
