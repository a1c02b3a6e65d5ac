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


def test_gsp_changes_are_named(tmp_path):
    report = check(V25, V321, witness_dir=tmp_path)
    by_rule: dict[str, set] = {}
    for c in report.changes:
        by_rule.setdefault(c.rule, set()).add(c.detail if "RENAMED" in c.rule else c.path)
    # gs_/aspnet_ tables renamed
    assert {"gs_Album → Album", "gs_MediaObject → MediaObject", "aspnet_Membership → Memberships",
            "gs_Role_Album → RoleAlbum"} <= by_rule["ELEMENT_RENAMED"]
    # Title and Summary moved out of Album (to the Metadata table), columns dropped
    assert {"/GalleryServerData/gs_Album/Title", "/GalleryServerData/gs_Album/Summary",
            "/GalleryServerData/aspnet_Users/LoweredUserName"} <= by_rule["ELEMENT_REMOVED"]
    # the media-object metadata table became the general Metadata table (album ids too)
    assert "gs_MediaObjectMetadata → Metadata" in by_rule["ELEMENT_RENAMED"]
    assert "/GalleryServerData/gs_MediaObjectMetadata/FKAlbumId" in by_rule["OPTIONAL_ELEMENT_ADDED"]
    # each incompatible direction points at the change its witness exercises
    for direction in ("backward", "forward"):
        assert any(direction in c.witnessed and getattr(c, direction) is False for c in report.changes)

    report = check(V321, V450, witness_dir=tmp_path)
    removed = {c.path for c in report.changes if c.rule == "ELEMENT_REMOVED"}
    assert removed == {"/GalleryServerData/Album/DateStart", "/GalleryServerData/Album/DateEnd"}
    assert any(c.rule == "FACET_LOOSENED" and c.path.endswith("MimeType/FileExtension")
               for c in report.changes)
