"""Streaming a GSP backup: `DataSet.WriteXml(WriteSchema)` output, an inline xs:schema and then
one element per table row, read with lxml's iterparse and each row cleared as soon as it is
read, so memory stays flat however large the file is.

Safety: GSP never writes a DTD, so a file declaring one (XXE, entity-expansion bombs) is
refused before lxml sees it; lxml runs with entities unresolved, no network, no DTD loading
and its default (not huge) tree limits as a second line. A `.zip` (GSP's own backup ZIP) must
hold exactly one `.xml`; its member is read as a stream and cut off at MAX_XML_BYTES of real
bytes, whatever its header declares (a ZIP bomb stops there).
"""

from __future__ import annotations

import contextlib
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from lxml import etree

from gallery.gspimport.errors import GspRefused
from gallery.gspimport.layouts import LAYOUTS

XS = "http://www.w3.org/2001/XMLSchema"
ROOT = "GalleryServerData"
#: A backup's XML larger than this (real bytes read) is refused.
MAX_XML_BYTES = 4 * 1024**3
MAX_SCHEMA_BYTES = 2 * 1024 * 1024
#: Where a DTD would have to be: before the root element, in the first bytes.
PROLOG_BYTES = 64 * 1024
_CHUNK = 1 << 16


class _Guarded:
    """A read-only stream that refuses a DTD in its prolog and more than `limit` bytes."""

    def __init__(self, raw, limit: int, total: int):
        self.raw, self.limit, self.total = raw, limit, total
        self.position = 0
        self._prolog = b""

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self.position += len(data)
        if self.position > self.limit:
            raise GspRefused(f"The backup's XML is larger than {self.limit // 1024**2} MB; it is not read further.")
        if len(self._prolog) < PROLOG_BYTES:
            self._prolog += data[: PROLOG_BYTES - len(self._prolog)]
            _check_prolog(self._prolog)
        return data


def _check_prolog(head: bytes) -> None:
    text = head
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore").encode("utf-8")
    upper = text.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise GspRefused(
            "The file declares a DTD or entities. GSP backups never do, so it is refused "
            "(external entities and entity expansion are a known attack on XML readers)."
        )
    # The root element is named in the first bytes: a file that is not a GSP backup is
    # refused there, not after reading all of it.
    without_comments = re.sub(rb"<!--.*?-->", b"", text, flags=re.DOTALL)
    match = _ROOT_TAG.search(without_comments)
    if match and b">" in without_comments[match.end():]:
        name = match[1].decode("utf-8", "replace").rpartition(":")[2]
        if name != ROOT:
            raise GspRefused(_not_gsp(name[:60]))


@contextlib.contextmanager
def open_backup(path) -> Iterator[_Guarded]:
    """The backup's XML as a guarded stream: the file itself, or the one `.xml` in a `.zip`."""
    path = Path(path)
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise GspRefused(f"The backup file cannot be read ({exc.strerror or exc}).") from None
    if not is_zip:
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise GspRefused(f"The backup file cannot be read ({exc.strerror or exc}).") from None
        with fh:
            yield _Guarded(fh, MAX_XML_BYTES, os.fstat(fh.fileno()).st_size)
        return
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise GspRefused(f"The backup ZIP cannot be read ({exc}).") from None
    with zf:
        xmls = [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(".xml")]
        if len(xmls) != 1:
            raise GspRefused(
                f"The backup ZIP holds {len(xmls)} .xml files; a GSP backup ZIP holds exactly one."
            )
        info = xmls[0]
        if info.flag_bits & 0x1:
            raise GspRefused("The backup ZIP is encrypted; unpack it first.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise GspRefused("The backup ZIP uses a compression this importer does not read.")
        try:
            member = zf.open(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
            raise GspRefused(f"The backup ZIP cannot be read ({exc}).") from None
        with member:
            # The member's declared size is not trusted: the byte cap is on what inflates.
            yield _Guarded(member, MAX_XML_BYTES, info.file_size)


#: Rows read: every table of the known layouts (in any namespace) and the inline schema.
_WANTED = [f"{{*}}{t}" for t in sorted({t for layout in LAYOUTS.values() for t in layout})] + [f"{{{XS}}}schema"]
_ROOT_TAG = re.compile(rb"<(?![?!])([^\s/>]+)")


def _local(tag) -> str:
    # "{namespace}name" -> "name" (etree.QName per element took a third of the reading time)
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def iter_rows(stream, *, on_schema: Callable[[bytes], None] | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (table, {column: text}) for every row of a known GSP table; hand the inline
    schema to `on_schema`. Raises GspRefused for anything that is not a well-formed
    GalleryServerData document.

    lxml filters the events by tag in C, so Python sees one event per row, not one per
    column (four times faster); a column named like a table (MediaTemplate's MimeType) is
    passed over by its parent, which is not the root."""
    parser_events = etree.iterparse(
        stream, events=("end",), tag=_WANTED, resolve_entities=False, no_network=True,
        load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True,
    )
    try:
        for _event, elem in parser_events:
            parent = elem.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # the root itself, or a column that shares a table's name
            if elem.tag == f"{{{XS}}}schema":
                if on_schema is not None:
                    data = etree.tostring(elem)
                    if len(data) > MAX_SCHEMA_BYTES:
                        raise GspRefused("The backup's inline schema is implausibly large.")
                    on_schema(data)
            else:
                yield _local(elem.tag), {_local(c.tag): (c.text or "") for c in elem if isinstance(c.tag, str)}
            # Rows are independent: drop this one and every sibling before it (unknown tables too).
            elem.clear(keep_tail=False)
            while elem.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        message = str(exc).split("\n")[0][:300]
        raise GspRefused(f"This is not a Gallery Server Pro backup: the file is not well-formed XML ({message}).") from None
    root = parser_events.root
    if root is None or _local(root.tag) != ROOT:
        raise GspRefused(_not_gsp(_local(root.tag) if root is not None else ""))


def _not_gsp(name: str) -> str:
    return f"This is not a Gallery Server Pro backup: its root element is <{name}>, not <{ROOT}>."


def read_rows(path, *, on_schema=None, on_progress: Callable[[int, int], None] | None = None,
              every: int = 5000) -> Iterator[tuple[str, dict]]:
    """iter_rows over a backup file or ZIP; `on_progress(bytes_read, total)` every `every` rows."""
    with open_backup(path) as stream:
        for n, row in enumerate(iter_rows(stream, on_schema=on_schema), 1):
            if on_progress is not None and n % every == 0:
                on_progress(stream.position, stream.total)
            yield row
