"""Date taken: the local wall-clock time as taken plus the offset where the file has one
(EXIF OffsetTimeOriginal, XMP, QuickTime), never a local time passed off as UTC."""

import subprocess
from datetime import UTC, datetime

import pytest
from PIL import Image

from media.dates import (
    TakenDate,
    best_taken,
    parse_taken,
    quicktime_taken,
    taken_fields,
    taken_key,
    taken_of,
)
from media.metadata import read_image_metadata
from media.probe import probe

pytestmark = pytest.mark.usefixtures("image_worker")


def photo(path, original: str, offset: str | None = None, xmp: str | None = None, **more):
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = original  # DateTimeOriginal
    if offset:
        sub[0x9011] = offset  # OffsetTimeOriginal
    for tag, value in more.items():
        sub[{"digitized": 0x9004, "digitized_offset": 0x9012}[tag]] = value
    params = {"exif": exif.tobytes(), "quality": 90}
    if xmp:
        params["xmp"] = (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/">'
            f"<exif:DateTimeOriginal>{xmp}</exif:DateTimeOriginal>"
            "</rdf:Description></rdf:RDF></x:xmpmeta>"
        ).encode()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(path, "JPEG", **params)
    return path


def test_an_offset_keeps_the_local_time_and_gives_the_instant(tmp_path):
    path = photo(tmp_path / "a.jpg", "2024:05:01 15:47:00", "-05:00")
    text = read_image_metadata(path).date_taken
    assert text == "2024-05-01T15:47:00-05:00"
    fields = taken_fields(text)
    assert fields["taken"] == {"local": "2024-05-01T15:47:00", "offset": "-05:00"}
    assert fields["date_taken"] == datetime(2024, 5, 1, 20, 47, tzinfo=UTC)
    assert TakenDate(datetime(2024, 5, 1, 15, 47), "-05:00").display() == (
        "01 May 2024, 15:47 (UTC-05:00)"
    )


def test_without_an_offset_the_local_time_is_kept_and_not_converted(tmp_path):
    path = photo(tmp_path / "b.jpg", "2024:05:01 15:47:00")
    text = read_image_metadata(path).date_taken
    assert text == "2024-05-01T15:47:00"
    fields = taken_fields(text)
    assert fields["taken"] == {"local": "2024-05-01T15:47:00", "offset": None}
    assert fields["date_taken"] == datetime(2024, 5, 1, 15, 47, tzinfo=UTC)  # sort key only
    assert parse_taken(text).display() == "01 May 2024, 15:47"


def test_an_offset_from_xmp_or_another_exif_pair_with_the_same_wall_time(tmp_path):
    from_xmp = photo(tmp_path / "x.jpg", "2024:05:01 15:47:00", xmp="2024-05-01T15:47:00+05:30")
    assert read_image_metadata(from_xmp).date_taken == "2024-05-01T15:47:00+05:30"
    digitized = photo(
        tmp_path / "d.jpg",
        "2024:05:01 15:47:00",
        digitized="2024:05:01 15:47:00",
        digitized_offset="+09:00",
    )
    assert read_image_metadata(digitized).date_taken == "2024-05-01T15:47:00+09:00"
    # An XMP date for another moment lends nothing.
    other = photo(tmp_path / "o.jpg", "2024:05:01 15:47:00", xmp="2024-05-02T10:00:00+01:00")
    assert read_image_metadata(other).date_taken == "2024-05-01T15:47:00"


@pytest.mark.parametrize(
    "hostile",
    [
        "2024-05-01T15:47:00+99:00",  # no such zone
        "2024-05-01T15:47:00+05:75",
        "0000-00-00T00:00:00",  # an unset camera clock
        "2024-02-30T10:00:00",
        "9999-12-31T23:59:59-12:00",  # its instant would overflow datetime
        "2024-05-01T15:47:00-05:00" + "0" * 100,
        "２０２４-05-01",  # full-width digits are not digits here
        None,
        12345,
    ],
)
def test_hostile_dates_are_no_dates(hostile):
    assert parse_taken(hostile) is None
    assert taken_fields(hostile) == {}
    assert best_taken([hostile]) is None


def test_quicktime_dates():
    apple = {"com.apple.quicktime.creationdate": "2024-05-01T15:47:00-0500"}
    assert quicktime_taken(apple) == "2024-05-01T15:47:00-05:00"
    # creation_time is UTC by the MP4 specification: the instant is known, shown in UTC.
    assert quicktime_taken({"creation_time": "2024-05-01T20:47:00.000000Z"}) == (
        "2024-05-01T20:47:00+00:00"
    )
    assert quicktime_taken({"creation_time": "1970-01-01T00:00:00.000000Z"}) is None
    assert quicktime_taken({"creation_time": "1904-01-01T00:00:00.000000Z"}) is None
    assert quicktime_taken({}) is None


def test_documents_stored_before_taken_existed_still_show_their_local_time():
    old = {
        "date_taken": datetime(2024, 5, 1, 20, 47, tzinfo=UTC),
        "metadata": {"date_taken": "2024-05-01T15:47:00-05:00"},
    }
    assert taken_of(old).display() == "01 May 2024, 15:47 (UTC-05:00)"
    bare = {"date_taken": datetime(2024, 5, 1, 20, 47, tzinfo=UTC), "metadata": {}}
    assert taken_of(bare).display() == "01 May 2024, 20:47 (UTC)"
    assert taken_of({"date_taken": None}) is None
    hostile = {"taken": {"local": "<script>", "offset": "x"}, "metadata": {}}
    assert taken_of(hostile) is None


def _video(path, *metadata: str) -> None:
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    args += ["-i", "color=c=blue:s=64x48:d=0.2", "-c:v", "mpeg4"]
    for item in metadata:
        args += ["-metadata", item]
    args += ["-movflags", "use_metadata_tags", str(path)]
    subprocess.run(args, check=True, timeout=60)


async def test_a_video_keeps_quicktime_local_time_and_offset(tmp_path):
    phone = tmp_path / "phone.mov"
    _video(phone, "com.apple.quicktime.creationdate=2024-05-01T15:47:00-0500")
    assert (await probe(phone)).date_taken == "2024-05-01T15:47:00-05:00"
    camera = tmp_path / "camera.mp4"
    _video(camera, "creation_time=2024-05-01T20:47:00Z")
    assert (await probe(camera)).date_taken == "2024-05-01T20:47:00+00:00"
    plain = tmp_path / "plain.mp4"
    _video(plain)
    assert (await probe(plain)).date_taken is None


@pytest.mark.parametrize("offset", ["+99:00", "+05:75", "+０５:００", "05:00", "-05:00\x00junk"])
def test_a_hostile_offset_is_dropped_but_the_date_is_kept(offset, tmp_path):
    path = photo(tmp_path / "h.jpg", "2024:05:01 15:47:00", offset)
    expected = "2024-05-01T15:47:00-05:00" if offset.startswith("-05:00") else "2024-05-01T15:47:00"
    assert read_image_metadata(path).date_taken == expected


def test_the_timeline_key_sorts_as_the_instant_and_never_reads_as_a_date():
    from datetime import timedelta, timezone

    assert taken_fields("2024-05-01T15:47:00-05:00")["taken_key"] == "t2024-05-01T20:47:00.000000"
    # An aware time is keyed by its UTC instant, a naive one (as read back) is UTC already.
    berlin = datetime(2024, 5, 1, 19, 0, tzinfo=timezone(timedelta(hours=2)))
    assert taken_key(berlin) == taken_key(datetime(2024, 5, 1, 17, 0)) == "t2024-05-01T17:00:00.000000"
    instants = [datetime(1850, 1, 1, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                datetime(2024, 5, 1, 17, 0, 0, 1, tzinfo=UTC), datetime(2024, 5, 1, 17, tzinfo=UTC)]
    keys = [taken_key(i) for i in instants]
    assert sorted(keys) == [taken_key(i) for i in sorted(instants)]
    # Undated sorts before every date: last in the newest-first timeline.
    assert taken_key(None) == taken_key("2024-05-01") == "" and all("" < k for k in keys)
    # The embedded database compares text that looks like a date row by row, as a date.
    assert not any(k[0].isdigit() for k in keys)
