"""Office and OpenDocument files (docx, xlsx, pptx, odt, ods, odp): the container checked
before a file is taken in, and page 1 as a JPEG where the host has LibreOffice.

Both kinds are ZIP packages. Nothing here unpacks them: the check reads the central
directory (entry count, declared sizes, compression ratios, overlapping entries, the
entry that names the format), so a ZIP bomb is refused before LibreOffice, or anyone
downloading it, ever inflates it. LibreOffice is optional: without `soffice` on the PATH
the caller draws an icon.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from media.documents import render_pdf_first_page
from media.errors import CorruptMedia, MediaTooLarge
from media.tools import Preview, run_tool

__all__ = ["check_package", "office_available", "render_office_first_page"]

# The entry that says what a package is: OOXML's content types, ODF's mimetype file.
_OOXML = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_ODF = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
    "odp": b"application/vnd.oasis.opendocument.presentation",
}
_RATIO_MIN_BYTES = 1 << 20  # small entries may compress well (repetitive XML) without harm
_LOCAL_HEADER = 30  # bytes of a ZIP local file header before its name


def check_package(
    path: str | os.PathLike, extension: str, *, max_entries: int, max_total: int, max_ratio: int
) -> None:
    """Raise CorruptMedia (not a readable package of this kind) or MediaTooLarge (a bomb)."""
    kind = "Office" if extension in _OOXML else "OpenDocument"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if len(infos) > max_entries:
                raise MediaTooLarge(
                    f"This {kind} file has {len(infos)} parts; at most {max_entries} are allowed."
                )
            total = sum(i.file_size for i in infos)
            if total > max_total:
                raise MediaTooLarge(
                    f"This {kind} file unpacks to {total >> 20} MB; "
                    f"at most {max_total >> 20} MB are allowed."
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _RATIO_MIN_BYTES and ratio > max_ratio:
                    raise MediaTooLarge(
                        f"A part of this {kind} file unpacks {ratio:.0f} times larger than it is "
                        f"stored (at most {max_ratio} is allowed): a ZIP bomb?"
                    )
            _check_no_overlap(infos, kind)
            if extension in _OOXML:
                if "[Content_Types].xml" not in names or not any(
                    n.startswith(_OOXML[extension]) for n in names
                ):
                    raise CorruptMedia(f"This is not a .{extension} package (its parts are missing).")
            elif extension in _ODF:
                info = zf.getinfo("mimetype") if "mimetype" in names else None
                if info is None or info.file_size > 200 or zf.read(info).strip() != _ODF[extension]:
                    raise CorruptMedia(f"This is not a .{extension} package (its mimetype is wrong).")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise CorruptMedia(f"This {kind} file is not a readable ZIP package ({exc}).") from None


def _check_no_overlap(infos: list[zipfile.ZipInfo], kind: str) -> None:
    # Entries whose data overlap (one compressed "kernel" referenced by many entries) make a
    # bomb with modest ratios; in a real package each entry's data ends before the next one.
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for a, b in itertools.pairwise(ordered):
        end = a.header_offset + _LOCAL_HEADER + len(a.orig_filename.encode()) + a.compress_size
        if b.header_offset < end:
            raise MediaTooLarge(f"This {kind} file's parts overlap: a ZIP bomb?")


# The fresh profile's settings: a document converted here must not reach out (a linked image
# at http://10.0.0.1/… would be fetched by the server: SSRF), recalculate its formulas on load
# (WEBSERVICE() fetches a URL) nor run its macros.
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def _write_profile(profile: Path) -> None:
    user = profile / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")


def office_available() -> str | None:
    """The LibreOffice command on this host, or None (previews are then icons)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


async def render_office_first_page(
    src: str | os.PathLike, dest: str | os.PathLike, *, max_dimension: int = 2000,
    timeout: float = 60.0,
) -> Preview | None:
    """Page 1 of an Office/OpenDocument file as a JPEG at `dest`, or None without LibreOffice.

    LibreOffice converts the file to PDF in a subprocess with a time limit and a profile
    directory of its own (two conversions at once would otherwise fight over the user's
    profile and one would quietly do nothing); page 1 is then drawn like any PDF's.
    Raises ToolFailed, ToolTimedOut or CorruptMedia.
    """
    soffice = office_available()
    if soffice is None:
        return None
    src = Path(os.path.abspath(src))
    # Made and removed off the event loop: LibreOffice's profile is hundreds of files.
    work_dir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="atrium-office-"))
    try:
        # A plain name of our own: the output is named after the input, whatever it was called.
        doc = work_dir / f"document{src.suffix.lower()}"
        os.symlink(src, doc)
        profile, out = work_dir / "profile", work_dir / "out"
        await asyncio.to_thread(_write_profile, profile)
        await run_tool(
            [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
             "--nolockcheck", "--nodefault", "--convert-to", "pdf", "--outdir", str(out), str(doc)],
            timeout=timeout,
        )
        pdf = out / "document.pdf"
        if not await asyncio.to_thread(pdf.is_file):
            raise CorruptMedia("LibreOffice could not convert this file.")
        return await render_pdf_first_page(pdf, dest, max_dimension=max_dimension)
    finally:
        await asyncio.to_thread(shutil.rmtree, work_dir, True)
