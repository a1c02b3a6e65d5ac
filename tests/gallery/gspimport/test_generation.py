"""Which GSP wrote a backup: the version marker where there is one, else the inline schema's
layout compared with the three known ones (2.5, 3.2.1, 4.5.0), and the closest one named."""

from __future__ import annotations

import pytest

from gallery.gspimport import generation
from gallery.gspimport.errors import GspRefused
from tests.gallery.gspimport import sample


@pytest.mark.parametrize("layout, expected", [("2.5", "2.5"), ("3.2.1", "3.x"), ("4.5.0", "4.x")])
def test_without_a_marker_the_inline_schema_names_the_closest_layout(layout, expected):
    schema = sample.inline_schema(layout).encode()
    found = generation.decide(marker=None, marker_table=None, schema_version_row=None, schema=schema,
                              prefixed=layout == "2.5")
    assert (found.name, found.detected_by, found.closest) == (expected, "schema", layout)
    # The compatibility checker's verdicts: the file's own language, and how far the others are.
    assert found.compat[layout] == {"verdict": "compatible", "changes": 0}
    assert all(c["verdict"] != "compatible" and c["changes"] > 0
               for name, c in found.compat.items() if name != layout)
    assert found.as_dict()["compat"] == found.compat


def test_a_schema_edited_a_little_is_still_named_by_its_closest_layout():
    schema = sample.inline_schema("4.5.0").replace('name="DateAdded"', 'name="DateCreated"', 1).encode()
    tables = generation.schema_tables(schema)
    assert generation.closest_layout(tables)[0] == "4.5.0" and generation.closest_layout(tables)[1] < 1.0
    found = generation.decide(marker=None, marker_table=None, schema_version_row=None, schema=schema,
                              prefixed=False)
    assert (found.name, found.closest) == ("4.x", "4.5.0")
    assert found.compat["4.5.0"]["verdict"] != "compatible"
    assert found.compat["4.5.0"]["changes"] < found.compat["3.2.1"]["changes"]


@pytest.mark.parametrize("marker, table, prefixed, expected", [
    ("4.5.0", "AppSetting", False, "4.x"), ("4.0.1", "AppSetting", False, "4.x"),
    ("3.2.1", "AppSetting", False, "3.x"), ("2.6.0", "gs_AppSetting", True, "2.6"),
])
def test_the_version_marker_names_the_generation(marker, table, prefixed, expected):
    found = generation.decide(marker=marker, marker_table=table, schema_version_row=None, schema=None,
                              prefixed=prefixed)
    assert (found.name, found.version, found.detected_by) == (expected, marker, "marker")


def test_versions_outside_2_5_to_4_x_and_inconsistent_files_are_refused():
    with pytest.raises(GspRefused, match="newer than the ones this importer knows"):
        generation.decide(marker="5.0.0", marker_table="AppSetting", schema_version_row=None, schema=None,
                          prefixed=False)
    with pytest.raises(GspRefused, match="before 2.5"):
        generation.decide(marker=None, marker_table=None, schema_version_row="2.4.1", schema=None, prefixed=True)
    with pytest.raises(GspRefused, match="inconsistent"):
        generation.decide(marker="4.5.0", marker_table="AppSetting", schema_version_row=None, schema=None,
                          prefixed=True)
    with pytest.raises(GspRefused, match="not a version number"):
        generation.decide(marker="four", marker_table="AppSetting", schema_version_row=None, schema=None,
                          prefixed=False)
