"""A GSP gallery's media folder as it sat on the old server, and ZIPs of it (tests/gsp_fixtures.py)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from tests.gsp_content import Content
from tests.gsp_writer import SAMPLES

THUMB_SOURCE = (
    SAMPLES / "jpg" / "Fujifilm_FinePix_E500.jpg"
)  # a small real JPEG for GSP's zThumb_/zOpt_ files


def stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def make_video(path: Path) -> Path:
    """A real 0.5 s MP4 (ffmpeg's test pattern)."""
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10:duration=0.5",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


def write_media_folder(root: Path, content: Content, gallery_id: int) -> Path:
    """One gallery's media folder as it sat on the GSP server."""
    root.mkdir(parents=True, exist_ok=True)
    for m in content.media:
        if not m.has_file or content.gallery_of(m.album_id) != gallery_id:
            continue
        folder = root.joinpath(*content.album_path(m.album_id))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / m.original_filename
        if m.source is not None:
            shutil.copyfile(m.source, target)
        else:
            target.write_bytes(m.data)
        for prefix in ("zThumb_", "zOpt_"):  # GSP's own derivatives: never imported
            shutil.copyfile(THUMB_SOURCE, folder / f"{prefix}{stem(m.original_filename)}.jpg")
    for rel in content.extra_files.get(gallery_id, []):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(THUMB_SOURCE, root / rel)
    return root


def zip_folder(folder: Path, zip_path: Path, prefix: str = "") -> Path:
    """A ZIP of a folder, entries relative to it (under `prefix`, e.g. 'mediaobjects/')."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return zip_path
