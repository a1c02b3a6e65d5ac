"""backup.xml checked and read in parts, so that restore's memory does not grow with the
number of media objects (docs/backup-format.md, "Checking in parts").

The whole document was parsed into one tree, validated (XSD, then Schematron's report) and
read into documents held until they were inserted: ~5 KB per media object at the peak. Now:

1. **The skeleton** (first pass over the member): everything but the children of
   `media-objects` (settings, albums, roles, users: bounded by the albums and users, not by
   the media), with the media counted and dropped as they are parsed.
2. **The parts** (second pass): every MEDIA_CHUNK media objects, one *part document* is the
   skeleton with those media in its `media-objects`, a valid document of the version
   declared. Each part goes through the same steps as the whole document did (XSD, the
   version's own Schematron rules from its .sch file, each transformation of the chain and
   the validation after it) and its errors and reports are kept for its media only; the
   skeleton's own are taken once. The **final document**, the skeleton with copies of the
   media objects its attributes name (album covers), gives the skeleton's reports, so a rule
   on an album that looks up a media object sees it whatever part holds it. Facts across
   parts are kept in compact sets: the media ids seen (an id seen in an earlier part is
   checked by the XSD against a copy of that element put before it in its part, so the
   message is the XSD's own), each listed original's path, size, sha256 and media id.
3. **The documents** are read again, part by part, while they are inserted (MediaSource).

What stays whole-document: nothing of the media. The assumption this makes of the rules
(true of formats 1-3, and checked by tests/gallery/archive/test_backup_parts.py against the
whole-document check): a rule whose context is a media object looks only at that object and
at the skeleton, never at another media object; a rule elsewhere finds media objects only
through ids its skeleton's attributes name.
"""

from __future__ import annotations

import copy
import hashlib
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lxml import etree

from gallery.archive import formats
from gallery.archive.document import NS, DocumentError, Snapshot, read_media, read_skeleton

#: Media objects per part document (validated together; ~2.5 MB of tree at most).
MEDIA_CHUNK = 500
READ = 1024 * 1024
CONTAINER = f"{{{NS}}}media-objects"
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
CHANGED = "backup.xml changed while it was restored (it is no longer the document that was checked)"


class Refused(Exception):
    """backup.xml cannot be read or is not a valid backup; `errors` lists each problem."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


def media_elements(open_member: Callable, max_bytes: int, digest=None) -> Iterator[tuple[int | None, etree._Element]]:
    """backup.xml as it streams out of the archive (at most `max_bytes`: the header may lie,
    the bytes cannot): each child of a top-level media-objects element as it ends, taken out
    of the tree, with the index of its container among the root's children; and finally
    (None, root): the root and what is left of its tree. No entities expanded, no DTD
    loaded, no network; a DOCTYPE is refused at the first element (entities come with one).
    Only end events, looked at in one loop: a tenth of the elements are wanted. `digest`
    (a hashlib object) is given every byte read."""
    parser = etree.XMLPullParser(events=("end",), resolve_entities=False, load_dtd=False,
                                 no_network=True, dtd_validation=False, huge_tree=True)
    read = 0
    first = True
    try:
        with open_member() as fh:
            while True:
                chunk = fh.read(READ)
                if not chunk:
                    break
                read += len(chunk)
                if read > max_bytes:
                    raise Refused(f"backup.xml is larger than {max_bytes} bytes")
                if digest is not None:
                    digest.update(chunk)
                parser.feed(chunk)
                for _, el in parser.read_events():
                    if first:
                        first = False
                        _no_doctype(el)
                    parent = el.getparent()
                    if parent is not None and parent.tag == CONTAINER:
                        root = parent.getparent()
                        if root is not None and root.getparent() is None:
                            where = root.index(parent)
                            parent.remove(el)
                            el.tail = None
                            yield where, el
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise Refused(f"backup.xml is not well-formed XML: line {exc.lineno}: {exc.msg}") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise Refused(f"backup.xml cannot be read from the archive (truncated or damaged: {exc})") from None
    if first:
        _no_doctype(root)
    yield None, root


def _no_doctype(el) -> None:
    info = el.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        # Entities (an external one reading a file, or a billion laughs) come with a DTD;
        # the format has none, so any DTD is refused rather than half-trusted.
        raise Refused("backup.xml has a DOCTYPE (DTDs and entities are not allowed in a backup)")


def skeleton(open_member: Callable, max_bytes: int, digest=None) -> tuple[etree._Element, int]:
    """The first pass: the document without its media objects, and how many there were."""
    count = 0
    root = None
    for where, el in media_elements(open_member, max_bytes, digest):
        if where is None:
            root = el
        else:
            count += 1
    return root, count


@dataclass
class _Found:
    """Errors of one validation step (a version's XSD or its rules), each with its place in
    the whole document, so that the parts' lists merge into the document's order."""
    media: list = field(default_factory=list)      # (key, message), in document order already
    skeleton: dict = field(default_factory=dict)   # (path, message) -> (key, message)

    def add_skeleton(self, path, key, message) -> None:
        self.skeleton.setdefault((path, message), (key, message))

    def __bool__(self) -> bool:
        return bool(self.media or self.skeleton)

    def listed(self) -> list[str]:
        found = sorted([*self.skeleton.values(), *self.media], key=lambda pair: pair[0])
        return [message for _, message in found[:formats.MAX_ERRORS]]

    def full(self) -> bool:
        return len(self.media) >= formats.MAX_ERRORS


@dataclass
class _Part:
    """One part document: its tree, its media-objects element and, for each of that
    element's children, the media object's index in the whole document (None: a copy put
    there only for the XSD to see an earlier id, or a named object in the final document)."""
    tree: etree._ElementTree
    container: etree._Element
    indexes: list
    final: bool = False


class Checker:
    """The check of one backup.xml, fed its parts (docs/backup-format.md)."""

    def __init__(self, skeleton_root: etree._Element, version: int, count: int):
        self.skeleton = skeleton_root
        self.count = count  # media objects in the document
        self.version = version
        known = formats.versions()
        self.stages = known[known.index(version):]
        self.xsd = [_Found() for _ in self.stages]
        self.rules = [_Found() for _ in self.stages]
        self.order = {el: i for i, el in enumerate(skeleton_root.iter())}
        self.named = set()  # ids the skeleton's attributes name (album covers ...)
        for el in skeleton_root.iter():
            for value in el.attrib.values():
                self.named.update(value.split())
        self.named_copies: list = []   # (index, copy) of the media objects named
        self.seen: set = set()         # media ids of the parts before
        self.media_before = 0          # media objects in the parts before
        self.seq = 0

    # -- feeding -------------------------------------------------------------------------

    def part(self, where: int, elements: list) -> etree._Element | None:
        """Check one part's media objects (elements of the container at root index `where`);
        returns the part's media-objects element in the newest format when all is well."""
        first = self.media_before
        self.media_before += len(elements)
        indexes, kids = [], []
        here = set()
        for i, el in enumerate(elements):
            mid = el.get("id")
            if mid is not None:
                if mid in self.seen and mid not in here:
                    kids.append(copy.deepcopy(el))  # the XSD sees the id twice: its own message
                    indexes.append(None)
                elif mid in self.named and mid not in self.seen:
                    self.named_copies.append((where, copy.deepcopy(el)))
                here.add(mid)
            kids.append(el)
            indexes.append(first + i)
        self.seen |= here
        if self.decided():
            return None
        return self._check(self._part_doc(where, kids, indexes))

    def final(self) -> etree._Element | None:
        """The skeleton's own check, with copies of the media objects it names; returns the
        root in the newest format when the whole document is valid."""
        root = copy.deepcopy(self.skeleton)
        containers: dict = {}
        for where, el in self.named_copies:
            containers.setdefault(where, []).append(el)
        part = None
        for where, kids in containers.items():
            part = self._part_doc(where, kids, [None] * len(kids), root=root)
        if part is None:
            container = next((el for el in root if el.tag == CONTAINER), None)
            part = _Part(root.getroottree(), container, [])
        part.final = True
        done = self._check(part)
        return None if done is None else done.getroottree().getroot()

    def errors(self) -> tuple[int, list[str]] | None:
        """(version, problems) of the first step that failed (its schema before its rules,
        as the whole-document check), or None."""
        for s, version in enumerate(self.stages):
            for found in (self.xsd[s], self.rules[s]):
                if found:
                    return version, found.listed()
        return None

    def decided(self) -> bool:
        """The verdict is known whatever the later parts hold: 100 media objects break the
        schema of the version declared (they come in document order; the skeleton's problems,
        from the final document, sort before or after them by their place)."""
        return self.xsd[0].full()

    # -- one part --------------------------------------------------------------------------

    def _part_doc(self, where, kids, indexes, root=None) -> _Part:
        root = copy.deepcopy(self.skeleton) if root is None else root
        container = root[where]
        for el in kids:
            container.append(el)
        return _Part(root.getroottree(), container, indexes)

    def _check(self, part: _Part):
        tree = part.tree
        for s, version in enumerate(self.stages):
            if any(self.xsd[k] or self.rules[k] for k in range(s)):
                return None  # an earlier step failed: that is the verdict
            if s > 0:
                transform = formats.upgrade_path(version)
                if transform is not None:
                    tree = formats._transform(version)(tree)
                    part = self._relocate(part, tree)
                else:
                    tree.getroot().set("format", str(version))
            if not self._xsd(part, s, version):
                return None
            if self.xsd[s]:
                return None  # another part broke the schema: the rules are not looked at
            if not self._rules(part, s, version):
                return None
        return part.container

    def _relocate(self, part: _Part, tree) -> _Part:
        root = tree.getroot()
        where = list(part.tree.getroot()).index(part.container)
        return _Part(tree, root[where], part.indexes, part.final)

    def _place(self, part: _Part, node):
        """(index of the media object in the document, or None for the skeleton; the key
        that orders it in the document) of a node of the part."""
        if node is None or not isinstance(node.tag, str) or part.container is None:
            return None, (len(self.order), -1)
        child = node
        while child is not None and child.getparent() is not part.container:
            child = child.getparent()
        if child is None:  # a node of the skeleton: where it was in the skeleton
            path = part.tree.getpath(node)
            found = self.skeleton.getroottree().xpath(path)
            at = self.order.get(found[0], len(self.order)) if found else len(self.order)
            if node.getparent() is None:  # the root's own (content) errors come last
                at = len(self.order)
            return None, (at, -1)
        index = part.indexes[part.container.index(child)]
        return ("copy" if index is None else index), (self.order.get(self._skeleton_container(part),
                                                                      0), index or 0)

    def _skeleton_container(self, part: _Part):
        where = list(part.tree.getroot()).index(part.container)
        return self.skeleton[where]

    def _xsd(self, part: _Part, s: int, version: int) -> bool:
        xsd = formats.schema(version)
        if xsd.validate(part.tree):
            return True
        kept = False
        for e in xsd.error_log:
            node = _resolve(part.tree, e.path)
            index, key = self._place(part, node)
            message = f"line {e.line}: {e.message}"
            self.seq += 1
            if index is None and part.final:
                self.xsd[s].add_skeleton(e.path, (*key, self.seq), message)
                kept = True
            elif index is not None and index != "copy" and not part.final:
                self.xsd[s].media.append(((*key, self.seq), message))
                kept = True
        return not kept

    def _rules(self, part: _Part, s: int, version: int) -> bool:
        sch = formats.rules(version)
        if sch.validate(part.tree):
            return True
        kept = False
        pattern = 0
        for item in sch.validation_report.getroot():
            if item.tag == f"{_SVRL}active-pattern":
                pattern += 1
                continue
            if item.tag not in (f"{_SVRL}failed-assert", f"{_SVRL}successful-report"):
                continue
            location = item.get("location")
            node = _resolve(part.tree, location)
            index, key = self._place(part, node)
            text = " ".join("".join(item.itertext()).split())
            self.seq += 1
            if index is None and part.final:
                message = f"{formats.where(part.tree, location)}: {text}"
                self.rules[s].add_skeleton(location, (pattern, *key, self.seq), message)
                kept = True
            elif index is not None and index != "copy" and not part.final:
                location = _renumber(location, index + 1, self.count)
                message = f"{formats.where_node(node, location)}: {text}"
                self.rules[s].media.append(((pattern, *key, self.seq), message))
                kept = True
        return not kept


def _resolve(tree, path):
    if not path:
        return None
    try:
        found = tree.xpath(path)
    except etree.XPathError:
        return None
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _renumber(location: str, whole: int, siblings: int) -> str:
    """A report's XPath names a media object by its place among its part's media objects
    (without one when it is its part's only one): give its place in the whole document, as
    the whole document's report does (none when it holds one media object only)."""
    steps = location.split("/")
    for i, step in enumerate(steps):
        if "media-objects" in step and i + 1 < len(steps):
            step = re.sub(r"\[\d+\]$", "", steps[i + 1])
            steps[i + 1] = f"{step}[{whole}]" if siblings > 1 else step
            break
    return "/".join(steps)


# -- the whole check and the reading ----------------------------------------------------------


@dataclass
class Checked:
    """What the parts left: the skeleton's documents and the media objects' compact facts
    (the caller's on_media keeps what it needs of each media document)."""
    version: int                        # declared
    snapshot: Snapshot                  # without its media (see MediaSource)
    metadata_only: bool
    media: int = 0
    pending: bool = False               # some media object's derivatives are to be remade
    sha256: str = ""                    # of backup.xml as checked


def check(open_member: Callable, max_bytes: int, *, chunk: int | None = None,
          on_media: Callable | None = None) -> Checked:
    """Validate backup.xml part by part (the version it declares, then each step of the
    chain) and read the skeleton's documents; raise Refused or formats.FormatError exactly
    as the whole-document check did. `on_media(doc)` sees every media document as read."""
    chunk = chunk or MEDIA_CHUNK
    first, second = hashlib.sha256(), hashlib.sha256()  # the passes read the same bytes
    root, count = skeleton(open_member, max_bytes, first)
    version = formats.declared_version(root.getroottree())
    known = formats.versions()
    if version > known[-1]:
        raise formats.FormatError(
            f"this backup is in format version {version}, made by a newer Atrium; this Atrium "
            f"reads format versions {known[0]} to {known[-1]}: restore it with a newer Atrium")
    if version not in known:
        raise formats.FormatError(f"backup format version {version} is unknown (known: {known})")
    checker = Checker(root, version, count)
    read_error: Exception | None = None
    facts = Checked(version, Snapshot(slug="", title=""), False, media=count)
    batch: list = []
    at = None

    def flush():
        nonlocal read_error
        if not batch:
            return
        done = checker.part(at, batch)
        batch.clear()
        if done is None or read_error is not None:
            return
        for el in done:
            try:
                doc = read_media(el)
            except (DocumentError, ValueError) as exc:
                read_error = exc
                return
            facts.pending = facts.pending or _pending(doc)
            if on_media is not None:
                on_media(doc)

    for where, el in media_elements(open_member, max_bytes, second):
        if where is None:
            break
        if where != at:
            flush()
            at = where
        batch.append(el)
        if len(batch) >= chunk:
            flush()
    flush()
    if first.digest() != second.digest():
        raise Refused(CHANGED)
    facts.sha256 = second.hexdigest()
    newest = checker.final()
    failed = checker.errors()
    if failed is not None:
        step, errors = failed
        if step == version:
            raise formats.FormatError(f"backup.xml is not a valid format {version} backup "
                                      f"({len(errors)} problem(s) listed)", errors)
        raise formats.FormatError(f"backup.xml upgraded from format {version} to {step} is not "
                                  f"valid (a bug of the transformation)", errors)
    try:
        facts.snapshot = read_skeleton(newest)
    except (DocumentError, ValueError) as exc:
        raise Refused(f"backup.xml: {exc}") from None
    if read_error is not None:
        raise Refused(f"backup.xml: {read_error}")
    facts.metadata_only = newest.get("metadata-only") in ("true", "1")
    return facts


def _pending(doc: dict) -> bool:
    """Whether restore marks this media object pending (load.complete_media does)."""
    return bool(doc.get("original")) and doc.get("kind") != "external" or doc.get("state") == "pending"
