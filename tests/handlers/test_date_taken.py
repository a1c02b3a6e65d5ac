"""Date taken over HTTP: photos with and without an offset are shown at the local time
they were taken, sorted by the instant where it is known, and media stored before the
`taken` field existed still show their local time."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from PIL import Image

from tests.handlers.media_api import settled
from tests.handlers.media_api import upload_file as _upload


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 1, "limits.image_workers": 1})


def photo(original: str, offset: str | None) -> bytes:
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = original  # DateTimeOriginal
    if offset:
        sub[0x9011] = offset  # OffsetTimeOriginal
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (90, 160, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def _ready(b, prefix: str, media_id: str) -> dict:
    shown = await settled(b, prefix, media_id)
    assert shown["state"] == "ready", shown.get("failure")
    return shown


def _taken_row(html: str) -> str:
    """The text of the media page's "Taken" row."""
    at = html.index(">Taken<")
    end = html.index("</dd>", at)
    return html[html.index("<dd", at) : end]


async def test_local_time_is_shown_and_the_instant_sorts(app, make_gallery):
    g = await make_gallery("alpha")
    prefix = g["prefix"]
    b = app.browser()
    await b.login(prefix, "admin", g["password"])
    root = await g["ctx"].db.albums.find_one({"parent_id": None})
    # New York at 15:47 is 20:47 UTC; the one without offset is 18:00 somewhere; Berlin
    # at 19:00 is 17:00 UTC. By instant (the floating one read as UTC): Berlin, ?, New York.
    ids = {}
    for name, original, offset in (
        ("newyork.jpg", "2024:05:01 15:47:00", "-05:00"),
        ("floating.jpg", "2024:05:01 18:00:00", None),
        ("berlin.jpg", "2024:05:01 19:00:00", "+02:00"),
    ):
        ids[name] = await _upload(b, prefix, root["_id"], photo(original, offset), name)
    shown = {name: await _ready(b, prefix, mid) for name, mid in ids.items()}

    ny = shown["newyork.jpg"]
    assert ny["taken"] == {"local": "2024-05-01T15:47:00", "offset": "-05:00"}
    assert ny["date_taken"].startswith("2024-05-01T20:47:00")
    assert shown["floating.jpg"]["taken"] == {"local": "2024-05-01T18:00:00", "offset": None}
    # Processing also writes the timeline's key: newest instant first, not upload order.
    stored = await g["ctx"].db.media.find_one({"_id": ids["newyork.jpg"]})
    assert stored["taken_key"] == "t2024-05-01T20:47:00.000000"
    line = json.loads((await b.get(f"{prefix}/api/v1/timeline")).body)["items"]
    assert [m["id"] for m in line] == [ids["newyork.jpg"], ids["floating.jpg"], ids["berlin.jpg"]]

    page = (await b.get(f"{prefix}/media/{ids['newyork.jpg']}")).body.decode()
    row = _taken_row(page)
    assert "01 May 2024, 15:47 (UTC-05:00)" in row and "20:47" not in row
    page = (await b.get(f"{prefix}/media/{ids['floating.jpg']}")).body.decode()
    row = _taken_row(page)
    assert "01 May 2024, 18:00" in row and "UTC" not in row

    listing = json.loads(
        (
            await b.api("GET", f"{prefix}/api/v1/albums/{root['_id']}/media?sort=date_taken&dir=1")
        ).body
    )
    order = [m["file_name"] for m in listing["items"]]
    assert order == ["berlin.jpg", "floating.jpg", "newyork.jpg"]

    # A document stored before `taken` existed: date_taken (the instant) and the file's
    # own text in metadata. It still shows the local time, in the page and the API.
    await g["ctx"].db.media.update_one({"_id": ids["newyork.jpg"]}, {"$unset": {"taken": ""}})
    page = (await b.get(f"{prefix}/media/{ids['newyork.jpg']}")).body.decode()
    assert "01 May 2024, 15:47 (UTC-05:00)" in _taken_row(page)
    old = json.loads((await b.get(f"{prefix}/api/v1/media/{ids['newyork.jpg']}")).body)["media"]
    assert old["taken"] == {"local": "2024-05-01T15:47:00", "offset": "-05:00"}


async def test_a_phone_video_keeps_its_quicktime_local_time(app, make_gallery, tmp_path):
    g = await make_gallery("alpha")
    prefix = g["prefix"]
    b = app.browser()
    await b.login(prefix, "admin", g["password"])
    root = await g["ctx"].db.albums.find_one({"parent_id": None})
    clip = tmp_path / "clip.mov"
    ffmpeg = await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "color=c=blue:s=64x48:d=0.5", "-c:v", "mpeg4",
        "-metadata", "com.apple.quicktime.creationdate=2024-05-01T15:47:00-0500",
        "-movflags", "use_metadata_tags", str(clip),
    )  # fmt: skip
    assert await ffmpeg.wait() == 0
    media_id = await _upload(b, prefix, root["_id"], clip.read_bytes(), "clip.mov")
    shown = await _ready(b, prefix, media_id)
    assert shown["kind"] == "video"
    assert shown["taken"] == {"local": "2024-05-01T15:47:00", "offset": "-05:00"}
    assert shown["date_taken"].startswith("2024-05-01T20:47:00")
