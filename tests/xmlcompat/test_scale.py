"""Real schema sets are big: 100+ files, 1,000+ types, types nested 1,000 deep."""

from __future__ import annotations

from pathlib import Path

from tests.xmlcompat.helpers import XS, verify_witnesses
from xmlcompat import check

FILES, PER_FILE = 110, 10


def _chain(directory: Path, last_type: str = "xs:string") -> Path:
    """main.xsd including 110 files of 10 types each; T0 → T1 → … → T1099 nested."""
    directory.mkdir()
    head = f'<xs:schema xmlns:xs="{XS}" targetNamespace="urn:many" xmlns="urn:many" elementFormDefault="qualified">'
    for f in range(FILES):
        types = []
        for k in range(PER_FILE):
            t = f * PER_FILE + k
            last = t == FILES * PER_FILE - 1
            child = "" if last else f'<xs:element name="next" type="T{t + 1}" minOccurs="0"/>'
            types.append(f'<xs:complexType name="T{t}"><xs:sequence><xs:element name="a{t}" '
                         f'type="{last_type if last else "xs:string"}"/>{child}</xs:sequence>'
                         '<xs:attribute name="n" type="xs:int"/></xs:complexType>')
        (directory / f"part{f:03d}.xsd").write_text(head + "".join(types) + "</xs:schema>")
    includes = "".join(f'<xs:include schemaLocation="part{f:03d}.xsd"/>' for f in range(FILES))
    main = directory / "main.xsd"
    main.write_text(head + includes + '<xs:element name="root" type="T0"/></xs:schema>')
    return directory


def test_hundred_files_thousand_types_nested_deep(tmp_path):
    old = _chain(tmp_path / "old")
    new = _chain(tmp_path / "new", last_type="xs:int")
    report = check(old, new, witness_dir=tmp_path / "w")
    verify_witnesses(report, old, new)
    assert (report.backward.verdict, report.forward.verdict) == ("incompatible", "compatible")
    assert report.backward.path.count("/next") == FILES * PER_FILE - 1     # the witness goes all the way down
    [change] = report.changes
    assert change.rule == "TYPE_CHANGED" and change.witnessed == ["backward"]
