"""Video, audio and documents through the real processing and transcode jobs: ffprobe,
poster frames, cover art, PDF pages, web copies with ffmpeg, and every bad input ending
`failed` with a reason (or a finished result), never stuck `running`."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from gallery.ids import new_id
from gallery.library import albums
from gallery.library.media import add_media_file, enqueue_processing
from gallery.settings import update_settings
from media.sniff import Sniffed
from tests.media.av_samples import AVSamples, colour_at, ffmpeg, ffprobe_json, top_level_atoms

VIDEO_MP4 = Sniffed(mime="video/mp4", kind="video", extension="mp4", description="claimed")


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> AVSamples:
    return AVSamples(tmp_path_factory.mktemp("av-samples"))


@pytest.fixture(scope="module")
def slow_avi(samples) -> Path:
    """20 s of MPEG-4 in AVI: needs a web copy, and with preset "slow" it takes a while."""
    out = samples.root / "slow.avi"
    if not out.exists():
        src = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"]
        tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
        ffmpeg(*src, *tone, "-t", "20", "-c:v", "mpeg4", "-q:v", "8", "-c:a", "libmp3lame", out)
    return out


@pytest.fixture
def config(make_config):
    return make_config(**{"jobs.workers": 2, "limits.image_workers": 1, "jobs.lease_seconds": 5})


async def _poll(read, done, timeout=60.0, what="condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    value = None
    while loop.time() < deadline:
        value = await read()
        if done(value):
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not reached; last value: {value}")


async def _media(ctx, media_id):
    return await ctx.db.media.find_one({"_id": media_id})


async def _settled(ctx, media_id, timeout=60.0):
    """The media object once processing ended and any web copy job finished."""
    return await _poll(
        lambda: _media(ctx, media_id),
        lambda m: (
            m["state"] == "failed"
            or (
                m["state"] == "ready"
                and (m.get("transcode") or {}).get("state", "none")
                in ("none", "ready", "failed", "cancelled")
            )
        ),
        timeout,
        f"media {media_id} settled",
    )


@pytest.fixture
async def gallery(app, make_gallery, viewer_of):
    g = await make_gallery("alpha")
    ctx = g["ctx"]
    admin = await viewer_of(ctx)
    root = await albums.root_album(ctx)
    album = await albums.create_album(ctx, admin, root["_id"], {"title": "Clips"})
    return ctx, album, app.services.jobs.queue, g


async def _add(gallery, path: Path, name: str | None = None, sniffed=None, tmp_copy=True):
    ctx, album, queue, _ = gallery
    media = await add_media_file(ctx, album, path, name or path.name, sniffed=sniffed, copy=True)
    await enqueue_processing(ctx, queue, media["_id"])
    return media


def _probe(ctx, info: dict) -> dict:
    data = ffprobe_json(ctx.storage.resolve(info["path"]))
    kinds = {s["codec_type"]: s for s in data["streams"]}
    return {"data": data, "video": kinds.get("video"), "audio": kinds.get("audio")}


async def test_an_h264_aac_mp4_is_probed_gets_a_poster_and_plays_as_it_is(gallery, samples):
    ctx = gallery[0]
    media = await _add(gallery, samples["h264_aac.mp4"])
    done = await _settled(ctx, media["_id"])
    assert done["state"] == "ready", done.get("failure")
    assert done["kind"] == "video" and (done["width"], done["height"]) == (320, 240)
    assert 2.9 < done["duration"] < 3.1
    video = done["probe"]
    assert video["video_codec"] == "h264" and video["audio_codec"] == "aac"
    assert video["frame_rate"] == 25 and video["bit_rate"] > 0 and video["rotation"] == 0
    assert "mp4" in video["container"]
    derivatives = done["derivatives"]
    assert "web" not in derivatives and done["transcode"]["state"] == "none"
    thumb = ctx.storage.resolve(derivatives["thumbnail"]["path"])
    with Image.open(thumb) as im:
        assert im.format == "JPEG" and im.size == (320, 240)
    assert not derivatives["thumbnail"].get("icon")
    assert derivatives["optimized"]["width"] == 320
    jobs = await gallery[2].list("alpha")
    assert [j["kind"] for j in jobs] == ["media.process"]  # no transcode job at all


@pytest.mark.parametrize(
    "name, display",
    [("hevc.mkv", (320, 240)), ("mpeg4.avi", (320, 240)), ("phone.mov", (180, 320))],
)
async def test_files_browsers_cannot_play_get_an_h264_aac_web_copy(
    gallery, samples, app, name, display
):
    ctx, _, queue, g = gallery
    media = await _add(gallery, samples[name])
    done = await _settled(ctx, media["_id"])
    assert done["state"] == "ready", done.get("failure")
    assert done["transcode"]["state"] == "ready", done["transcode"]
    assert done["transcode"]["progress"] == 1.0 and done["transcode"]["reasons"]
    assert (done["width"], done["height"]) == display
    web = done["derivatives"]["web"]
    assert web["mime"] == "video/mp4" and web["path"].endswith("/web.mp4")
    probed = _probe(ctx, web)
    assert probed["video"]["codec_name"] == "h264" and probed["audio"]["codec_name"] == "aac"
    shown = (web["width"], web["height"])
    assert shown == display and max(shown) <= 1280 and min(shown) <= 720
    path = ctx.storage.resolve(web["path"])
    assert top_level_atoms(path).index("moov") < top_level_atoms(path).index("mdat")  # faststart
    assert not list(path.parent.glob("*.part.*"))
    job = await _poll(  # the job is marked done just after the media object
        lambda: queue.get("alpha", done["transcode"]["job_id"]),
        lambda j: j["state"] != "running",
        10,
        "job finished",
    )
    assert job["state"] == "done" and job["progress"] == 1.0
    # The file handler serves the web copy, not the original.
    browser = app.browser()
    await browser.login(g["prefix"], "admin", g["password"])
    r = await browser.get(f"{g['prefix']}/media/{media['_id']}/web")
    assert r.code == 200 and r.headers["Content-Type"] == "video/mp4"
    assert len(r.body) == web["size"]
    if name == "phone.mov":
        # Upright: the red half of the frame is at the top, poster and web copy alike.
        poster = ctx.storage.resolve(done["derivatives"]["optimized"]["path"])
        with Image.open(poster) as im:
            assert im.size[1] > im.size[0]
        assert colour_at(poster, (90, 40)) == "red" and colour_at(poster, (90, 280)) == "blue"
        rotation = [sd.get("rotation", 0) for sd in probed["video"].get("side_data_list", []) or []]
        assert (probed["video"]["width"], probed["video"]["height"]) == (180, 320)
        assert not any(rotation)


@pytest.mark.parametrize(
    "name, copy",
    [("tone.mp3", False), ("audio_only.mp4", False), ("tone.flac", True), ("tone.wav", True)],
)
async def test_audio_plays_as_it_is_or_gets_an_m4a_copy(gallery, samples, name, copy):
    ctx = gallery[0]
    media = await _add(gallery, samples[name])
    done = await _settled(ctx, media["_id"])
    assert done["state"] == "ready", done.get("failure")
    assert done["kind"] == "audio" and done["probe"]["audio_codec"]
    assert 1.9 < done["duration"] < 3.1
    assert done["derivatives"]["thumbnail"]["icon"] is True  # no cover art: an icon
    assert "optimized" not in done["derivatives"]
    if copy:
        web = done["derivatives"]["web"]
        assert web["mime"] == "audio/mp4" and web["path"].endswith("/web.m4a")
        probed = _probe(ctx, web)
        assert probed["audio"]["codec_name"] == "aac" and probed["video"] is None
    else:
        assert "web" not in done["derivatives"] and done["transcode"]["state"] == "none"


async def test_embedded_cover_art_becomes_the_thumbnail_of_an_audio_file(gallery, samples):
    ctx = gallery[0]
    done = await _settled(ctx, (await _add(gallery, samples["cover.mp3"]))["_id"])
    assert done["state"] == "ready" and done["transcode"]["state"] == "none"
    thumb = done["derivatives"]["thumbnail"]
    assert not thumb.get("icon") and thumb["mime"] == "image/jpeg"
    assert colour_at(ctx.storage.resolve(thumb["path"]), (10, 10)) == "other"  # orange


async def test_a_pdf_gets_its_first_page_as_thumbnail_and_optimized_image(gallery, samples):
    ctx = gallery[0]
    done = await _settled(ctx, (await _add(gallery, samples["page.pdf"]))["_id"])
    assert done["state"] == "ready", done.get("failure")
    thumb = done["derivatives"]["thumbnail"]
    assert not thumb.get("icon") and thumb["width"] > thumb["height"]
    top = ctx.storage.resolve(done["derivatives"]["optimized"]["path"])
    assert colour_at(top, (20, 5)) == "red"  # the page's red title bar


async def test_a_text_file_named_mp4_is_taken_for_what_it_is(gallery, samples):
    ctx = gallery[0]
    media = await _add(gallery, samples["text.mp4"], "holiday.mp4")
    done = await _settled(ctx, media["_id"])
    assert done["kind"] == "document" and done["mime"].startswith("text/")
    assert done["state"] == "ready" and done["derivatives"]["thumbnail"]["icon"] is True


@pytest.mark.parametrize(
    "name, reason",
    [
        ("garbled.mp4", "not a readable video or audio file"),
        ("truncated.mp4", "not a readable video or audio file"),
        ("text.mp4", "not a readable video or audio file"),
        ("empty.mp4", "empty"),
        ("huge.mkv", "8000×8000"),
    ],
)
async def test_bad_video_ends_failed_with_a_reason(gallery, samples, name, reason):
    ctx, _, queue, _ = gallery
    # Claimed to be video whatever the content says: the probe must find out.
    media = await _add(gallery, samples[name], sniffed=VIDEO_MP4)
    done = await _settled(ctx, media["_id"])
    assert done["state"] == "failed" and reason in done["failure"], done["failure"]
    job = await _poll(
        lambda: queue.list("alpha"), lambda js: js[0]["state"] != "running", 10, "job ended"
    )
    job = job[0]
    assert job["state"] == "failed" and job["attempts"] == 1


async def _slow_transcode_settings(ctx, **extra):
    await update_settings(ctx, {"video_preset": "slow", "video_crf": "18", **extra})
    ctx.settings_cache = None


async def test_a_hung_transcode_is_stopped_by_the_time_limit_and_fails_with_the_reason(
    gallery, slow_avi
):
    ctx, _, queue, _ = gallery
    await _slow_transcode_settings(ctx, transcode_time_limit="1")
    media = await _add(gallery, slow_avi)
    done = await _settled(ctx, media["_id"])
    assert done["state"] == "ready"  # the poster and the original are fine
    transcode = done["transcode"]
    assert transcode["state"] == "failed" and "longer than 1 s" in transcode["error"]
    assert "web" not in done["derivatives"]
    job = await _poll(
        lambda: queue.get("alpha", transcode["job_id"]),
        lambda j: j["state"] != "running",
        10,
        "job ended",
    )
    assert job["state"] == "failed" and "longer than 1 s" in job["error"]
    out_dir = ctx.storage.derivatives / media["_id"]
    assert not [p.name for p in out_dir.iterdir() if p.name.startswith("web")]


async def test_a_running_transcode_reports_progress_and_can_be_cancelled(gallery, slow_avi, app):
    ctx, _, queue, g = gallery
    await _slow_transcode_settings(ctx)
    media = await _add(gallery, slow_avi)
    running = await _poll(
        lambda: _media(ctx, media["_id"]),
        lambda m: (
            (m.get("transcode") or {}).get("state") == "running"
            and (m["transcode"].get("progress") or 0) > 0
        ),
        60,
        "transcode running with progress",
    )
    job_id = running["transcode"]["job_id"]
    browser = app.browser()
    await browser.login(g["prefix"], "admin", g["password"])
    r = await browser.api("GET", f"{g['prefix']}/api/v1/jobs/{job_id}")
    live = json.loads(r.body)["job"]
    assert live["state"] == "running" and 0 < live["progress"] < 1
    assert live["message"].startswith("web copy")
    r = await browser.api("POST", f"{g['prefix']}/api/v1/jobs/{job_id}/cancel")
    assert r.code == 200
    job = await _poll(
        lambda: queue.get("alpha", job_id), lambda j: j["state"] != "running", 30, "job stopped"
    )
    assert job["state"] == "cancelled"
    done = await _media(ctx, media["_id"])
    assert done["transcode"]["state"] == "cancelled" and "web" not in done["derivatives"]
    out_dir = ctx.storage.derivatives / media["_id"]
    assert not [p.name for p in out_dir.iterdir() if p.name.startswith("web")]
    pgrep = await asyncio.create_subprocess_exec(
        "pgrep", "-f", str(ctx.storage.path), stdout=asyncio.subprocess.PIPE
    )
    assert (await pgrep.communicate())[0] == b""  # no ffmpeg left running on this tenant's files


async def test_uploads_are_processed_while_one_transcode_runs_and_another_waits(
    gallery, slow_avi, make_jpeg
):
    ctx, album, queue, _ = gallery
    await _slow_transcode_settings(ctx)
    clips = [await _add(gallery, slow_avi, f"clip{i}.avi") for i in range(2)]

    async def transcodes():
        return [(await _media(ctx, c["_id"])).get("transcode") or {} for c in clips]

    states = await _poll(
        transcodes,
        lambda ts: sorted(str(t.get("state")) for t in ts) == ["pending", "running"],
        60,
        "one transcode running, one waiting",
    )
    # Two workers, a transcode limit of 1: the second worker must not sit waiting for
    # the transcode group while a photo is queued.
    photo = await add_media_file(ctx, album, make_jpeg(400, 300), "photo.jpg", copy=True)
    photo_job = await enqueue_processing(ctx, queue, photo["_id"])
    done = await _poll(
        lambda: _media(ctx, photo["_id"]), lambda m: m["state"] != "pending", 30, "photo"
    )
    assert done["state"] == "ready"
    # The photo did not queue behind the transcodes: its job was taken while the running
    # transcode still ran (a worker waiting for the transcode group would have taken it
    # only when that transcode ended). Times, not states: on a loaded machine the photo's
    # own processing may outlast the transcode.
    running = next(t for t in states if t.get("state") == "running")
    first = await queue.get("alpha", running["job_id"])
    taken = (await queue.get("alpha", photo_job))["started"]
    assert first.get("finished") is None or taken < first["finished"], (taken, first.get("finished"))
    for t in states:
        await queue.cancel("alpha", t["job_id"])


async def test_a_transcode_whose_worker_died_is_claimed_again_cleaned_and_finished(
    gallery, samples, app
):
    ctx, album, queue, g = gallery
    media = await add_media_file(ctx, album, samples["mpeg4.avi"], "clip.avi", copy=True)
    out_dir = ctx.storage.derivatives / media["_id"]
    out_dir.mkdir(parents=True)
    leftover = out_dir / "web.mp4.part.mp4"
    leftover.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"half written" * 1000)
    # What a worker killed mid-transcode leaves: a running job whose lease ran out.
    now = datetime.now(UTC)
    job_id = new_id()
    await queue.jobs.insert_one(
        {
            "_id": job_id,
            "tenant": "alpha",
            "kind": "media.transcode",
            "payload": {"media_id": media["_id"]},
            "state": "running",
            "attempts": 1,
            "max_attempts": 5,
            "run_after": now - timedelta(minutes=5),
            "created": now - timedelta(minutes=5),
            "updated": now - timedelta(minutes=2),
            "started": now - timedelta(minutes=5),
            "lease_until": now - timedelta(minutes=1),
            "worker": "dead-host:1:abc/0",
            "progress": 0.4,
            "message": "web copy 40%",
            "dedupe": f"transcode:{media['_id']}",
            "cancel_requested": False,
            "version": 1,
        }
    )
    queue.wakeup.set()
    job = await _poll(
        lambda: queue.get("alpha", job_id), lambda j: j["state"] in ("done", "failed"), 60, "rerun"
    )
    assert job["state"] == "done" and job["attempts"] == 2, job.get("error")
    assert not leftover.exists()
    done = await _media(ctx, media["_id"])
    web = done["derivatives"]["web"]
    assert done["transcode"]["state"] == "ready"
    probed = _probe(ctx, web)
    assert probed["video"]["codec_name"] == "h264" and probed["audio"]["codec_name"] == "aac"
    browser = app.browser()
    await browser.login(g["prefix"], "admin", g["password"])
    r = await browser.get(f"{g['prefix']}/media/{media['_id']}/web")
    assert r.code == 200 and len(r.body) == web["size"]
