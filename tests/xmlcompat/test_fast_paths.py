"""The two shortcuts that make a large pair fast: values checked through one reused xmlschema
validation context (must give xmlschema's own verdicts, ID values not remembered between
calls), and the garbage collector paused while a check runs (restored as it was after)."""

from __future__ import annotations

import gc
import threading

import pytest
import xmlschema

from tests.xmlcompat.helpers import compare
from xmlcompat import values

SCHEMA = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:simpleType name="code"><xs:restriction base="xs:string"><xs:maxLength value="4"/>
  <xs:pattern value="[a-z]*"/></xs:restriction></xs:simpleType>
<xs:simpleType name="ints"><xs:list itemType="xs:int"/></xs:simpleType>
<xs:simpleType name="either"><xs:union memberTypes="xs:int xs:boolean"/></xs:simpleType>
<xs:simpleType name="money"><xs:restriction base="xs:decimal"><xs:totalDigits value="3"/>
  <xs:fractionDigits value="1"/></xs:restriction></xs:simpleType>
<xs:simpleType name="key"><xs:restriction base="xs:ID"/></xs:simpleType>
<xs:simpleType name="name"><xs:restriction base="xs:QName"/></xs:simpleType>
</xs:schema>"""
VALUES = ["", " ", "abc", "abcde", "AB", "1 2", "1 x", "1", "true", "12.5", "1234", "1.25",
          "x1", "a:b", "1x", "\u00e9", "-0", "1e400", "x" * 300]


def test_reused_context_gives_xmlschemas_verdicts():
    schema = xmlschema.XMLSchema(SCHEMA)
    for name, st in schema.types.items():
        for text in VALUES:
            assert values.is_valid(st, text) == st.is_valid(text), (name, text)
    # an ID value is valid each time it is checked (no document-wide memory between values)
    other = xmlschema.XMLSchema(SCHEMA.replace('name="key"', 'name="key2"'))
    assert values.is_valid(schema.types["key"], "id7") and values.is_valid(other.types["key2"], "id7")


def test_reused_context_per_thread():
    schema = xmlschema.XMLSchema(SCHEMA)
    st = schema.types["code"]
    results = []

    def run():
        results.append([values.is_valid.__wrapped__(st, t) for t in VALUES])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[st.is_valid(t) for t in VALUES]] * 4


@pytest.mark.parametrize("enabled", [True, False])
def test_gc_state_restored_after_a_check(tmp_path, enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        report = compare(tmp_path, '<xs:element name="a" type="xs:int"/>',
                         '<xs:element name="a" type="xs:string"/>')
        assert report.backward.verdict == "compatible"
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
