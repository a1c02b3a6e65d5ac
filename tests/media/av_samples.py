"""Generate the video, audio and document samples the media tests use (with ffmpeg, Pillow).

Nothing binary is checked in: each sample is made on first use into a temporary
directory, a few seconds long and small, so the whole set takes a few seconds.

    samples = AVSamples(tmp_dir)
    path = samples["h264_aac.mp4"]
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]


def ffmpeg(*args: str | os.PathLike[str], timeout: float = 120) -> None:
    subprocess.run([*FFMPEG, *map(str, args)], check=True, capture_output=True, timeout=timeout)


def ffprobe_json(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    return json.loads(out)


def testsrc(size: str = "320x240", rate: int = 25) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]


def _lavfi(graph: str) -> list[str]:
    return ["-f", "lavfi", "-i", graph]


def sine(freq: int = 440) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=48000"]


# A frame that is red on the left and blue on the right, so a test can tell which way
# a rotation went.
RED_BLUE = _lavfi("color=red:size=320x180:rate=25,drawbox=x=160:w=160:color=blue:t=fill")
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "25"]


def _h264_aac_mp4(out: Path, s: AVSamples) -> None:
    ffmpeg(*testsrc(), *sine(), "-t", "3", *X264, "-c:a", "aac", "-b:a", "64k", out)


def _h264_aac_mkv(out: Path, s: AVSamples) -> None:
    ffmpeg("-i", s["h264_aac.mp4"], "-c", "copy", out)


def _h264_10bit_mp4(out: Path, s: AVSamples) -> None:
    ffmpeg(*testsrc(), "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p10le", out)


def _hevc_mkv(out: Path, s: AVSamples) -> None:
    x265 = ["-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p"]
    ffmpeg(*testsrc(), *sine(), "-t", "2", *x265, "-c:a", "aac", out)


def _mpeg4_avi(out: Path, s: AVSamples) -> None:
    ffmpeg(*testsrc(), *sine(), "-t", "2", "-c:v", "mpeg4", "-q:v", "5", "-c:a", "libmp3lame", out)


def _vp9_opus_webm(out: Path, s: AVSamples) -> None:
    vp9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]
    ffmpeg(*testsrc(), *sine(), "-t", "1", *vp9, "-c:a", "libopus", out)


def _vp9_opus_mkv(out: Path, s: AVSamples) -> None:
    ffmpeg("-i", s["vp9_opus.webm"], "-c", "copy", "-f", "matroska", out)


def _upright_mov(out: Path, s: AVSamples) -> None:
    ffmpeg(*RED_BLUE, *sine(), "-t", "2", *X264, "-c:a", "aac", out)


def _phone_mov(out: Path, s: AVSamples) -> None:
    """A portrait phone clip: a 320×180 frame plus a display matrix "turn 90° clockwise".

    ffmpeg ≥ 6 has `-display_rotation` (counter-clockwise degrees); older ones write the
    `rotate` tag, whose sign changed between versions, so the result is checked.
    """
    upright = s["upright.mov"]
    try:
        ffmpeg("-display_rotation:v:0", "-90", "-i", upright, "-c", "copy", out)
        return
    except subprocess.CalledProcessError:
        pass
    for tag in ("270", "90"):
        ffmpeg("-i", upright, "-c", "copy", "-metadata:s:v:0", f"rotate={tag}", out)
        video = next(st for st in ffprobe_json(out)["streams"] if st["codec_type"] == "video")
        if any(sd.get("rotation") == -90 for sd in video.get("side_data_list", [])):
            return
    raise RuntimeError("this ffmpeg cannot write a display matrix")


def _long_mp4(out: Path, s: AVSamples) -> None:
    # Long enough that a deliberately slow transcode is still running when cancelled.
    fast = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg(*testsrc("640x360"), *sine(), "-t", "20", *fast, out)


def _huge_mkv(out: Path, s: AVSamples) -> None:
    # 8000×8000, one frame. MJPEG because libx264 takes seconds at this size.
    color = ["-f", "lavfi", "-i", "color=gray:size=8000x8000:rate=1"]
    ffmpeg(*color, "-frames:v", "1", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", out)


def _truncated_mp4(out: Path, s: AVSamples) -> None:
    # Without +faststart the moov atom is at the end, so half a file has no index at all.
    whole = out.with_name("whole.mp4")
    ffmpeg(*testsrc(), "-t", "2", *X264, whole)
    data = whole.read_bytes()
    out.write_bytes(data[: len(data) // 2])


def _garbled_mp4(out: Path, s: AVSamples) -> None:
    data = s["h264_aac.mp4"].read_bytes()
    out.write_bytes(data[:32] + os.urandom(len(data) - 32))


def _text_mp4(out: Path, s: AVSamples) -> None:
    out.write_text("This is not a video, whatever its name says.\n" * 20)


def _empty_mp4(out: Path, s: AVSamples) -> None:
    out.write_bytes(b"")


def _tone_mp3(out: Path, s: AVSamples) -> None:
    ffmpeg(*sine(), "-t", "3", "-c:a", "libmp3lame", "-b:a", "64k", out)


def _cover_jpg(out: Path, s: AVSamples) -> None:
    Image.new("RGB", (300, 200), "orange").save(out, "JPEG")


def _cover_mp3(out: Path, s: AVSamples) -> None:
    streams = ["-map", "0", "-map", "1", "-c", "copy", "-disposition:v", "attached_pic"]
    ffmpeg("-i", s["tone.mp3"], "-i", s["cover.jpg"], *streams, "-id3v2_version", "3", out)


def _tone_flac(out: Path, s: AVSamples) -> None:
    ffmpeg(*sine(), "-t", "2", "-c:a", "flac", out)


def _tone_wav(out: Path, s: AVSamples) -> None:
    ffmpeg(*sine(), "-t", "2", "-c:a", "pcm_s16le", out)


def _tone_aiff(out: Path, s: AVSamples) -> None:
    ffmpeg(*sine(), "-t", "2", "-c:a", "pcm_s16be", out)


def _tone_ogg(out: Path, s: AVSamples) -> None:
    ffmpeg(*sine(), "-t", "2", "-c:a", "libopus", out)


def _audio_only_mp4(out: Path, s: AVSamples) -> None:
    ffmpeg(*sine(), "-t", "2", "-c:a", "aac", "-b:a", "64k", out)


def _surround_mka(out: Path, s: AVSamples) -> None:
    # 5.1 AC-3 in Matroska: browsers do not play it; the copy is stereo AAC.
    to_51 = "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0"
    ffmpeg(*sine(), "-t", "2", "-af", to_51, "-c:a", "ac3", out)


def _page_pdf(out: Path, s: AVSamples) -> None:
    # 4 × 3 inches at 72 dpi: 288 × 216 points; red title bar on white.
    page = Image.new("RGB", (288, 216), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle([0, 0, 288, 40], fill="red")
    draw.text((20, 100), "Atrium test page", fill="black")
    page.save(out, "PDF", resolution=72)


def bench_1080p_mp4(out: Path, seconds: int = 60) -> Path:
    """A 1080p30 H.264 High clip with stereo AAC, for the benchmark (not the tests).

    Key frames every second, as phones write them; veryfast keeps CABAC and B-frames,
    so decoding it costs what decoding a real upload costs.
    """
    if not out.exists():
        tmp = out.with_name(out.name + ".part.mp4")
        video = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-g", "30"]
        audio = ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]
        source = [*testsrc("1920x1080", 30), *sine(), "-t", str(seconds)]
        ffmpeg(*source, *video, "-pix_fmt", "yuv420p", *audio, tmp, timeout=900)
        os.replace(tmp, out)
    return out


GENERATORS: dict[str, Callable[[Path, AVSamples], None]] = {
    "h264_aac.mp4": _h264_aac_mp4,
    "h264_aac.mkv": _h264_aac_mkv,
    "h264_10bit.mp4": _h264_10bit_mp4,
    "hevc.mkv": _hevc_mkv,
    "mpeg4.avi": _mpeg4_avi,
    "vp9_opus.webm": _vp9_opus_webm,
    "vp9_opus.mkv": _vp9_opus_mkv,
    "upright.mov": _upright_mov,
    "phone.mov": _phone_mov,
    "long.mp4": _long_mp4,
    "huge.mkv": _huge_mkv,
    "truncated.mp4": _truncated_mp4,
    "garbled.mp4": _garbled_mp4,
    "text.mp4": _text_mp4,
    "empty.mp4": _empty_mp4,
    "tone.mp3": _tone_mp3,
    "cover.jpg": _cover_jpg,
    "cover.mp3": _cover_mp3,
    "tone.flac": _tone_flac,
    "tone.wav": _tone_wav,
    "tone.aiff": _tone_aiff,
    "tone.ogg": _tone_ogg,
    "audio_only.mp4": _audio_only_mp4,
    "surround.mka": _surround_mka,
    "page.pdf": _page_pdf,
}


class AVSamples:
    """Samples by name, each generated once into `root` on first use."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def __getitem__(self, name: str) -> Path:
        path = self.root / name
        if not path.exists():
            tmp = self.root / f"partial-{name}"  # same suffix: ffmpeg picks the muxer by it
            GENERATORS[name](tmp, self)
            os.replace(tmp, path)
        return path


# --------------------------------------------------------------------------- checks


def top_level_atoms(path: Path) -> list[str]:
    """The ISO-BMFF boxes at the top of an MP4, in file order."""
    atoms = []
    with open(path, "rb") as f:
        while header := f.read(8):
            size, kind = struct.unpack(">I4s", header)
            atoms.append(kind.decode("latin-1"))
            if size == 1:  # 64-bit size follows
                size = struct.unpack(">Q", f.read(8))[0] - 8
            elif size == 0:  # runs to the end of the file
                break
            f.seek(size - 8, os.SEEK_CUR)
    return atoms


def is_jpeg(path: Path) -> bool:
    with Image.open(path) as im:
        return path.read_bytes()[:3] == b"\xff\xd8\xff" and im.format == "JPEG"


def colour_at(path: Path, xy: tuple[int, int]) -> str:
    """'red', 'blue' or 'other' for the pixel at xy."""
    with Image.open(path) as im:
        r, g, b = im.convert("RGB").getpixel(xy)
    if r > 180 and g < 80 and b < 80:
        return "red"
    if b > 180 and r < 80 and g < 80:
        return "blue"
    return "other"


def no_files_like(dest: Path) -> list[Path]:
    return sorted(dest.parent.glob(dest.name + "*"))
