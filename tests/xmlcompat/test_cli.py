"""`schema-check` on the command line: exit statuses 0/1/3, text grouped by verdict with the
witness file names, --json for CI, --history, --direction, --map."""

from __future__ import annotations

import json

from lxml import etree

from tests.xmlcompat.helpers import GSP, xsd
from xmlcompat.cli import main

ROOT = '<xs:element name="r"><xs:complexType><xs:sequence>{}</xs:sequence></xs:complexType></xs:element>'
A = '<xs:element name="a" type="xs:string"/>'
B_OPT = '<xs:element name="b" type="xs:int" minOccurs="0"/>'


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exit_statuses(tmp_path, capsys):
    old = xsd(tmp_path, ROOT.format(A), name="old.xsd")
    new = xsd(tmp_path, ROOT.format(A + B_OPT), name="new.xsd")
    pattern_old = xsd(tmp_path, '<xs:element name="r"><xs:simpleType><xs:restriction base="xs:string">'
                      '<xs:pattern value="[a-z]+"/></xs:restriction></xs:simpleType></xs:element>', name="p1.xsd")
    pattern_new = xsd(tmp_path, '<xs:element name="r"><xs:simpleType><xs:restriction base="xs:string">'
                      '<xs:pattern value="[a-z0-9]+"/></xs:restriction></xs:simpleType></xs:element>', name="p2.xsd")
    w = tmp_path / "w"
    assert _run(capsys, old, new, "--direction", "backward", "--witness-dir", w)[0] == 0
    assert _run(capsys, old, new, "--witness-dir", w)[0] == 1            # forward fails
    assert _run(capsys, new, old, "--direction", "forward", "--witness-dir", w)[0] == 0
    code, out, _ = _run(capsys, pattern_old, pattern_new, "--direction", "backward", "--witness-dir", w)
    assert code == 3 and "pattern" in out


def test_text_output_names_witness_and_changes(tmp_path, capsys):
    old = xsd(tmp_path, ROOT.format(A), name="old.xsd")
    new = xsd(tmp_path, ROOT.format(A + B_OPT), name="new.xsd")
    code, out, err = _run(capsys, old, new, "--witness-dir", tmp_path / "w")
    assert code == 1
    assert "backward: compatible" in out and "forward: incompatible" in out
    witness = tmp_path / "w" / "old--new.forward.xml"
    assert f"witness: {witness}" in out and witness.is_file()
    assert "OPTIONAL_ELEMENT_ADDED" in out and "[witness: forward]" in out
    assert "checking" in err                      # progress on stderr, result on stdout


def test_json_output(tmp_path, capsys):
    v25 = GSP / "GalleryServerProSchema-2.5.xml"
    v321 = GSP / "GalleryServerSchema-3.2.1.xml"
    code, out, _ = _run(capsys, v25, v321, "--json", "--witness-dir", tmp_path)
    assert code == 1
    data = json.loads(out)
    assert data["verdict"] == "incompatible"
    for direction in ("backward", "forward"):
        result = data[direction]
        assert result["verdict"] == "incompatible"
        etree.parse(result["witness"])            # written, well-formed
        assert result["witness_error"]
    rules = {c["rule"] for c in data["changes"]}
    # the gs_ tables renamed, Title/Summary gone from Album, columns dropped
    assert {"ELEMENT_RENAMED", "ELEMENT_REMOVED", "REQUIRED_ELEMENT_ADDED"} <= rules
    renamed = {c["detail"] for c in data["changes"] if c["rule"] == "ELEMENT_RENAMED"}
    assert "gs_Album → Album" in renamed
    removed = {c["path"] for c in data["changes"] if c["rule"] == "ELEMENT_REMOVED"}
    assert {"/GalleryServerData/gs_Album/Title", "/GalleryServerData/gs_Album/Summary"} <= removed
    assert any(c["witnessed"] for c in data["changes"])


def test_history_directory(tmp_path, capsys):
    hist = tmp_path / "history"
    hist.mkdir()
    for i, body in enumerate([A, A + B_OPT, A + B_OPT + '<xs:element name="c" type="xs:string" minOccurs="0"/>']):
        xsd(hist, ROOT.format(body), name=f"v{i + 1}.xsd")
    code, out, _ = _run(capsys, "--history", hist, "--json", "--witness-dir", tmp_path / "w")
    assert code == 0
    pairs = [(p["older"].split("/")[-1], p["newer"].split("/")[-1]) for p in json.loads(out)]
    assert pairs == [("v1.xsd", "v2.xsd"), ("v1.xsd", "v3.xsd"), ("v2.xsd", "v3.xsd")]
    xsd(hist, ROOT.format('<xs:element name="a" type="xs:int"/>'), name="v10.xsd")   # natural order: last
    code, out, _ = _run(capsys, "--history", hist, "--witness-dir", tmp_path / "w")
    assert code == 1 and "v3.xsd -> v10.xsd: INCOMPATIBLE" in out


def test_map_option(tmp_path, capsys):
    old = xsd(tmp_path, ROOT.format(A), "urn:one", name="one.xsd")
    new = xsd(tmp_path, ROOT.format(A), "urn:two", name="two.xsd")
    extra = xsd(tmp_path, ROOT.format(A) + '<xs:element name="x" type="xs:string"/>', "urn:two", name="two-x.xsd")
    assert _run(capsys, old, new, "--map", "urn:one=urn:two", "--witness-dir", tmp_path)[0] == 0
    code, out, _ = _run(capsys, old, extra, "--map", "urn:one=urn:two", "--witness-dir", tmp_path)
    assert code == 1 and "ROOT_ELEMENT_ADDED" in out


def test_server_cli_hands_over_with_or_without_global_options(tmp_path, capsys):
    import pytest

    from server.cli import main as server_main

    old = xsd(tmp_path, ROOT.format(A), name="old.xsd")
    new = xsd(tmp_path, ROOT.format(A + B_OPT), name="new.xsd")
    w = str(tmp_path / "w")
    assert server_main(["schema-check", str(old), str(new), "--witness-dir", w]) == 1
    with pytest.raises(SystemExit) as info:      # after a global option: argparse's route
        server_main(["--config", "config.yaml", "schema-check", str(old), str(new),
                     "--direction", "backward", "--witness-dir", w])
    assert info.value.code == 0
    with pytest.raises(SystemExit) as info:
        server_main(["--config", "config.yaml", "schema-check"])
    assert info.value.code == 2
    assert "give OLD and NEW" in capsys.readouterr().err
