"""Gallery Server Pro's backup language, 2.5 → 3.2.1 → 4.5.0: GSP's own restore code
treated these versions as incompatible; so must the checker, with witnesses and names."""

from __future__ import annotations

from tests.xmlcompat.helpers import GSP, verify_witnesses
from xmlcompat import check, check_history

V25 = GSP / "GalleryServerProSchema-2.5.xml"
V321 = GSP / "GalleryServerSchema-3.2.1.xml"
V450 = GSP / "GalleryServerSchema-4.5.0.xml"


def test_gsp_series_is_incompatible_with_witnesses(tmp_path):
    for old, new in ((V25, V321), (V321, V450), (V25, V450)):
        report = check(old, new, witness_dir=tmp_path)
        verify_witnesses(report, old, new)
        assert report.backward.verdict == "incompatible", (old.name, new.name)
        assert report.forward.verdict == "incompatible", (old.name, new.name)


def test_gsp_history_is_checked_transitively(tmp_path):
    results = check_history([V25, V321, V450], witness_dir=tmp_path)
    assert [(a.name, b.name) for a, b, _ in results] == [
        (V25.name, V321.name), (V25.name, V450.name), (V321.name, V450.name)]
    for old, new, report in results:
        verify_witnesses(report, old, new)
        assert report.backward.verdict == "incompatible"
        assert report.forward is None


def test_gsp_same_version_is_compatible(tmp_path):
    report = check(V450, V450, witness_dir=tmp_path)
    assert report.verdict == "compatible" and report.changes == []
