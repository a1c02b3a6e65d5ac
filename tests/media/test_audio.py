"""media.video on audio files: probing, cover art, which files get an M4A web copy."""

from __future__ import annotations

import pytest
from PIL import Image

from media.errors import CorruptMedia
from media.posters import make_poster
from media.probe import probe
from media.video import needs_web_copy, plan_transcode, transcode
from tests.media.av_samples import AVSamples, is_jpeg, no_files_like, top_level_atoms


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> AVSamples:
    return AVSamples(tmp_path_factory.mktemp("av-audio"))


@pytest.mark.parametrize(
    ("name", "container", "codec", "duration"),
    [
        ("tone.mp3", "mp3", "mp3", 3.0),
        ("tone.flac", "flac", "flac", 2.0),
        ("tone.wav", "wav", "pcm_s16le", 2.0),
        ("tone.aiff", "aiff", "pcm_s16be", 2.0),
        ("tone.ogg", "ogg", "opus", 2.0),
        ("audio_only.mp4", "mov,mp4,m4a,3gp,3g2,mj2", "aac", 2.0),
        ("surround.mka", "matroska,webm", "ac3", 2.0),
    ],
)
async def test_probe_reads_audio_files(samples, name, container, codec, duration):
    info = await probe(samples[name])
    assert info.kind == "audio"
    assert (info.container, info.audio_codec, info.video_codec) == (container, codec, None)
    assert info.duration == pytest.approx(duration, abs=0.1)
    assert info.display_size is None and info.cover_art_stream is None
    assert info.sample_rate == 48000


async def test_probe_counts_cover_art_as_art_not_as_video(samples):
    info = await probe(samples["cover.mp3"])
    assert info.kind == "audio"
    assert info.video_stream is None and info.video_codec is None
    assert info.cover_art_stream is not None


async def test_poster_of_an_mp3_with_cover_art_is_the_art_as_jpeg(samples, tmp_path):
    info = await probe(samples["cover.mp3"])
    poster = await make_poster(samples["cover.mp3"], tmp_path / "art.jpg", info)
    assert poster is not None and poster.source == "cover_art"
    assert (poster.width, poster.height) == (300, 200)
    assert is_jpeg(poster.path)
    with Image.open(poster.path) as im:
        r, g, b = im.convert("RGB").getpixel((150, 100))
    assert r > 200 and 100 < g < 200 and b < 80  # orange


async def test_large_cover_art_is_scaled_down(samples, tmp_path):
    info = await probe(samples["cover.mp3"])
    poster = await make_poster(samples["cover.mp3"], tmp_path / "a.jpg", info, max_dimension=150)
    assert poster is not None and (poster.width, poster.height) == (150, 100)


async def test_poster_of_audio_without_art_is_none(samples, tmp_path):
    info = await probe(samples["tone.mp3"])
    assert await make_poster(samples["tone.mp3"], tmp_path / "art.jpg", info) is None
    assert no_files_like(tmp_path / "art.jpg") == []


@pytest.mark.parametrize(
    ("name", "needs_copy"),
    [
        ("tone.mp3", False),
        ("cover.mp3", False),
        ("audio_only.mp4", False),
        ("tone.ogg", False),
        ("tone.flac", False),  # browsers play FLAC and PCM WAV
        ("tone.wav", False),
        ("tone.aiff", True),
        ("surround.mka", True),
    ],
)
async def test_which_audio_files_get_a_web_copy(samples, name, needs_copy):
    plan = needs_web_copy(await probe(samples[name]))
    assert (plan is not None) == needs_copy
    if plan is not None:
        assert (plan.kind, plan.extension, plan.mime_type) == ("audio", "m4a", "audio/mp4")
        assert plan.video_stream is None and not plan.copy_audio


@pytest.mark.parametrize("name", ["tone.flac", "tone.wav"])
async def test_lossless_audio_can_be_given_a_small_copy_instead(samples, name):
    plan = needs_web_copy(await probe(samples[name]), lossless_audio_as_is=False)
    assert plan is not None and plan.extension == "m4a"


async def test_web_copy_of_surround_ac3_is_stereo_aac_in_m4a(samples, tmp_path):
    plan = needs_web_copy(await probe(samples["surround.mka"]))
    assert plan is not None and plan.audio_channels == 6
    fractions: list[float] = []
    dest = tmp_path / "web.m4a"
    await transcode(samples["surround.mka"], dest, plan, timeout=60, on_progress=fractions.append)
    out = await probe(dest)
    assert (out.kind, out.audio_codec, out.audio_channels) == ("audio", "aac", 2)
    assert out.duration == pytest.approx(2.0, abs=0.1)
    atoms = top_level_atoms(dest)
    assert atoms.index("moov") < atoms.index("mdat")
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert no_files_like(dest) == [dest]


async def test_web_copy_of_an_mp3_with_art_carries_only_the_sound(samples, tmp_path):
    plan = plan_transcode(await probe(samples["cover.mp3"]))
    await transcode(samples["cover.mp3"], tmp_path / "web.m4a", plan, timeout=60)
    out = await probe(tmp_path / "web.m4a")
    assert out.video_stream is None and out.cover_art_stream is None
    assert out.audio_codec == "aac"


async def test_an_mp3_that_is_really_text_raises_corrupt_media(tmp_path):
    fake = tmp_path / "song.mp3"
    fake.write_text("la la la\n" * 100)
    with pytest.raises(CorruptMedia):
        await probe(fake)
