"""Bad input: one clear line naming the file and the problem, exit status 2, no traceback,
and nothing fetched or expanded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.xmlcompat.helpers import XS, xsd
from xmlcompat import CompatError, load_language
from xmlcompat.cli import main

GOOD = '<xs:element name="r" type="xs:string"/>'
ROOT = Path(__file__).resolve().parents[2]


def _run(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def _bad_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    cases = {}
    p = tmp_path / "malformed.xsd"
    p.write_text(f'<xs:schema xmlns:xs="{XS}"><xs:element name="r"></xs:schema>')
    cases["malformed"] = (p, "not well-formed")
    p = tmp_path / "invalid.xsd"
    p.write_text(f'<xs:schema xmlns:xs="{XS}"><xs:element name="r" type="xs:nosuchtype"/></xs:schema>')
    cases["invalid"] = (p, "invalid schema")
    cases["missing include"] = (xsd(tmp_path, '<xs:include schemaLocation="gone.xsd"/>' + GOOD,
                                    name="inc.xsd"), "gone.xsd")
    cases["network"] = (xsd(tmp_path, '<xs:import namespace="urn:x" schemaLocation='
                            '"http://example.com/evil.xsd"/>' + GOOD, name="net.xsd"),
                        "http://example.com/evil.xsd")
    cases["network file URL"] = (xsd(tmp_path, '<xs:include schemaLocation="file://example.com/x.xsd"/>'
                                     + GOOD, name="netfile.xsd"), "not a local file")
    p = tmp_path / "bomb.xsd"
    lol = "".join(f'<!ENTITY l{i} "&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};&l{i - 1};">'
                  for i in range(1, 12))
    p.write_text(f'<?xml version="1.0"?><!DOCTYPE xs:schema [<!ENTITY l0 "lol">{lol}]>'
                 f'<xs:schema xmlns:xs="{XS}"><xs:element name="r" default="&l11;"/></xs:schema>')
    cases["bomb"] = (p, "entit")   # refused by us or by libxml2's amplification limit
    p = tmp_path / "xxe.xsd"
    p.write_text(f'<?xml version="1.0"?><!DOCTYPE xs:schema [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 f'<xs:schema xmlns:xs="{XS}"><xs:annotation><xs:documentation>&x;</xs:documentation>'
                 f'</xs:annotation>{GOOD}</xs:schema>')
    cases["external entity"] = (p, "DOCTYPE with entity declarations refused")
    p = tmp_path / "huge.xsd"
    with p.open("wb") as f:         # 200 MB, sparse: refused by its size before any read
        f.truncate(200 * 1024 * 1024)
    cases["200 MB"] = (p, "limit")
    p = tmp_path / "notschema.xsd"
    p.write_text("<html/>")
    cases["not a schema"] = (p, "not an XML Schema")
    return cases


def test_every_bad_input_is_one_line_exit_2(tmp_path, capsys):
    good = xsd(tmp_path, GOOD, name="good.xsd")
    for label, (path, expected) in _bad_cases(tmp_path).items():
        for args in ((path, good), (good, path)):
            code, line = _run(capsys, *args, "--witness-dir", tmp_path / "w")
            assert code == 2, label
            assert expected in line and path.name in line, (label, line)
            assert "Traceback" not in line


def test_library_raises_compat_error_naming_the_file(tmp_path):
    for label, (path, expected) in _bad_cases(tmp_path).items():
        with pytest.raises(CompatError) as info:
            load_language(path)
        assert path.name in str(info.value) and "\n" not in str(info.value), label


def test_usage_errors_exit_2(tmp_path, capsys):
    good = xsd(tmp_path, GOOD, name="good.xsd")
    assert _run(capsys, good)[0] == 2
    assert _run(capsys, good, good, "--direction", "sideways")[0] == 2
    code, line = _run(capsys, good, good, "--map", "nonsense")
    assert code == 2 and "--map" in line
    code, line = _run(capsys, "--history", tmp_path / "nothere")
    assert code == 2 and "not a directory" in line
    code, line = _run(capsys, good, good, "--map", "urn:a=")
    assert code == 2 and "--map" in line
    code, line = _run(capsys, good, good, "--rules-old", tmp_path, "--rules-new", tmp_path)
    assert code == 2 and "rule file not found" in line


def test_command_line_through_python_m_server(tmp_path):
    # the real entry point: a bomb gives one line on stderr and exit 2, never a traceback
    bomb = _bad_cases(tmp_path)["bomb"][0]
    good = xsd(tmp_path, GOOD, name="good.xsd")
    out = subprocess.run([sys.executable, "-m", "server", "schema-check", str(bomb), str(good)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "bomb.xsd" in out.stderr.strip().splitlines()[-1]
