"""backup.xml in the newest format: a gallery's stored documents written as XML (streamed
with lxml's incremental writer) and read back into documents (docs/backup-format.md).

Typed elements carry the fields the format names; every other stored field of an album,
media object, user or role travels in its `extra` element as relaxed Extended JSON
(bson.json_util), so a restore gives back the documents as they were. Not carried:
derivatives (remade by the processing jobs) and what is recomputed from the rest on
restore (RECOMPUTED).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bson import json_util
from bson.json_util import JSONMode, JSONOptions

NS = "urn:atrium:backup"
FORMAT = 4
PREFIX = {"album": "a", "media": "m", "user": "u", "role": "r"}

_JSON = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True, tzinfo=UTC)

#: Stored fields rebuilt on restore from the others, so never exported: the album tree's
#: paths, media visibility and search keys, user-name keys (tag counts and the usage
#: counter live in other collections and are rebuilt too).
RECOMPUTED = {
    "album": {"dirpath", "ancestors"},
    "media": {"album_path", "search_keys", "tag_keys", "derivatives", "taken_key"},
    "user": {"username_key", "email_key"},
    "role": {"name_key"},
}
INTAKE_FIELDS = ("prepare", "reencoded", "discarded")  # of a media object's `original`
_TYPED = {
    "album": {"_id", "title", "summary", "dirname", "parent_id", "private", "position",
              "sort_field", "sort_direction", "cover_id", "owner_id", "created", "updated"},
    "media": {"_id", "album_id", "kind", "state", "position", "private", "owner_id", "uploaded_by",
              "title", "caption", "tags", "file_name", "mime", "original", "width", "height",
              "duration", "date_taken", "taken", "date_added", "metadata", "probe", "transforms",
              "embed_html"},
    "user": {"_id", "username", "email", "password_hash", "role_ids", "status",
             "email_verified", "created"},
    "role": {"_id", "name", "permissions", "album_ids", "builtin"},
}


class DocumentError(Exception):
    """backup.xml says something its schema allowed but a gallery cannot hold."""


@dataclass
class Snapshot:
    """A gallery's documents at one moment (what backup.xml carries)."""
    slug: str
    title: str
    database_schema: int = 1                           # gallery.schema version read at
    settings: dict = field(default_factory=dict)       # key -> value (no secrets)
    omitted: list = field(default_factory=list)        # secret keys left out
    secrets: dict | None = None                        # sealed under a passphrase (archive.secrets)
    clear_secrets: dict = field(default_factory=dict)  # opened on restore; never written
    watermark: dict | None = None                      # {path, size, sha256} of the PNG
    albums: list = field(default_factory=list)
    media: list = field(default_factory=list)
    users: list = field(default_factory=list)
    roles: list = field(default_factory=list)


def xml_id(kind: str, value: str) -> str:
    return PREFIX[kind] + value


def db_id(value: str | None) -> str | None:
    return value[1:] if value else None


def to_json(value) -> str:
    return json_util.dumps(value, json_options=_JSON, sort_keys=True)


#: json_util.loads with one decoder made once (it made a decoder per call: a third of
#: reading a 10,000-object backup); the same hook, so the same values.
_DECODER = json.JSONDecoder(object_hook=lambda obj: json_util.object_hook(obj, _JSON))


def from_json(text: str | None):
    return _DECODER.decode(text or "null")


def _time(value) -> str:
    if not isinstance(value, datetime):
        raise DocumentError(f"not a time: {value!r}")
    if value.tzinfo is None:  # stored times are UTC; some drivers hand them back naive
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)  # 3.11 reads "Z" too
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _bool(value) -> str:
    return "true" if value else "false"


def _extra(kind: str, doc: dict) -> dict:
    skip = _TYPED[kind] | RECOMPUTED[kind]
    return {k: v for k, v in doc.items() if k not in skip}


# -- writing --------------------------------------------------------------------------------


def _leaf(xf, name: str, text, attrib: dict | None = None) -> None:
    # Through xf.element, not xf.write(Element): a written Element declares its namespace
    # again on every leaf, which made backup.xml a third larger.
    with xf.element(f"{{{NS}}}{name}", {k: str(v) for k, v in (attrib or {}).items() if v is not None}):
        if text is not None:
            xf.write(str(text))


def write_backup(xf, snap: Snapshot, *, created: datetime, generator: str, metadata_only: bool,
                 each=None) -> None:
    """Write the whole document into an open `etree.xmlfile` (one element at a time);
    `each()` is called after each media object (the backup job's child rests there)."""
    attrib = {"format": str(FORMAT), "created": _time(created), "generator": generator,
              "metadata-only": _bool(metadata_only), "database-schema": str(snap.database_schema)}
    with xf.element(f"{{{NS}}}backup", attrib, nsmap={None: NS}):
        with xf.element(f"{{{NS}}}gallery", {"slug": snap.slug}):
            _leaf(xf, "title", snap.title)
        with xf.element(f"{{{NS}}}settings"):
            for key in sorted(snap.settings):
                _leaf(xf, "setting", to_json(snap.settings[key]), {"key": key})
            for key in snap.omitted:
                _leaf(xf, "omitted", None, {"key": key, "reason": "secret encrypted with the host's key"})
        if snap.secrets:  # format 3: under the admin's passphrase (gallery/archive/secrets.py)
            block = snap.secrets
            with xf.element(f"{{{NS}}}secrets", {k: str(block[k]) for k in ("kdf", "salt", "n", "r", "p", "check")}):
                for key, box in sorted(block["items"].items()):
                    _leaf(xf, "secret", box, {"key": key})
        if snap.watermark:  # format 3: the PNG is a member of the archive at its path
            _leaf(xf, "watermark", None, {k: snap.watermark[k] for k in ("path", "size", "sha256")})
        with xf.element(f"{{{NS}}}albums"):
            for album in snap.albums:
                _write_album(xf, album)
        with xf.element(f"{{{NS}}}media-objects"):
            for media in snap.media:
                _write_media(xf, media)
                if each is not None:
                    each()
        with xf.element(f"{{{NS}}}roles"):
            for role in snap.roles:
                _write_role(xf, role)
        with xf.element(f"{{{NS}}}users"):
            for user in snap.users:
                _write_user(xf, user)


def _write_album(xf, a: dict) -> None:
    ancestors = " ".join(xml_id("album", x) for x in a.get("ancestors") or [])
    attrib = {
        "id": xml_id("album", a["_id"]),
        "parent": xml_id("album", a["parent_id"]) if a.get("parent_id") else None,
        "ancestors": ancestors or None,
        "private": _bool(a.get("private")), "position": int(a.get("position") or 0),
        "sort-field": a.get("sort_field") or "position",
        "sort-direction": int(a.get("sort_direction") or 1),
        "cover": xml_id("media", a["cover_id"]) if a.get("cover_id") else None,
        "owner": a.get("owner_id") or None,
        "created": _time(a["created"]), "updated": _time(a.get("updated") or a["created"]),
    }
    with xf.element(f"{{{NS}}}album", {k: str(v) for k, v in attrib.items() if v is not None}):
        _leaf(xf, "title", a.get("title") or "")
        _leaf(xf, "summary", a.get("summary") or "")
        _leaf(xf, "dirname", a.get("dirname") or "")
        extra = _extra("album", a)
        if extra:
            _leaf(xf, "extra", to_json(extra))


def _write_media(xf, m: dict) -> None:
    attrib = {
        "id": xml_id("media", m["_id"]), "album": xml_id("album", m["album_id"]),
        "kind": m.get("kind") or "other", "state": m.get("state") or "pending",
        "position": int(m.get("position") or 0), "private": _bool(m.get("private")),
        "owner": m.get("owner_id") or None, "uploaded-by": m.get("uploaded_by") or None,
    }
    with xf.element(f"{{{NS}}}media", {k: str(v) for k, v in attrib.items() if v is not None}):
        _leaf(xf, "title", m.get("title") or "")
        _leaf(xf, "caption", m.get("caption") or "")
        with xf.element(f"{{{NS}}}tags"):
            for tag in m.get("tags") or []:
                _leaf(xf, "tag", tag)
        original = m.get("original") or {}
        # Format 2: the file's facts in one element (format 1 had file-name, mime, original).
        _leaf(xf, "original", None, {
            "name": m.get("file_name") or "", "mime": m.get("mime") or None,
            "path": original.get("path"), "size": original.get("size"),
            "sha256": original.get("sha256"),
        })
        for name in ("width", "height", "duration"):
            if m.get(name) is not None:
                _leaf(xf, name, m[name])
        if m.get("date_taken") is not None:
            _leaf(xf, "date-taken", _time(m["date_taken"]))
        taken = m.get("taken") or {}
        if taken.get("local"):
            _leaf(xf, "taken", None, {"local": taken["local"], "offset": taken.get("offset")})
        _leaf(xf, "date-added", _time(m.get("date_added") or m.get("created") or datetime.now(UTC)))
        for name in ("metadata", "probe", "transforms"):
            if m.get(name) is not None:
                _leaf(xf, name, to_json(m[name]))
        if m.get("embed_html"):
            _leaf(xf, "embed-html", m["embed_html"])
        extra = _extra("media", m)
        # What the intake settings did (or are still to do) to the original
        # (gallery/processing/originals.py): the typed element has no place for it, so it
        # travels in extra and goes back on restore.
        intake = {k: original[k] for k in INTAKE_FIELDS if k in original}
        if intake:
            extra["original_intake"] = intake
        if extra:
            _leaf(xf, "extra", to_json(extra))


def _write_role(xf, r: dict) -> None:
    attrib = {"id": xml_id("role", r["_id"])}
    if r.get("builtin"):
        attrib["builtin"] = r["builtin"]
    with xf.element(f"{{{NS}}}role", attrib):
        _leaf(xf, "name", r.get("name") or "")
        for p in r.get("permissions") or []:
            _leaf(xf, "permission", p)
        for album_id in r.get("album_ids") or []:
            _leaf(xf, "grant", None, {"album": xml_id("album", album_id)})
        extra = _extra("role", r)
        if extra:
            _leaf(xf, "extra", to_json(extra))


def _write_user(xf, u: dict) -> None:
    attrib = {"id": xml_id("user", u["_id"]), "status": u.get("status") or "active",
              "email-verified": _bool(u.get("email_verified")), "created": _time(u["created"])}
    with xf.element(f"{{{NS}}}user", attrib):
        _leaf(xf, "name", u.get("username") or "")
        _leaf(xf, "email", u.get("email") or "")
        _leaf(xf, "password-hash", u.get("password_hash") or "")
        for role_id in u.get("role_ids") or []:
            _leaf(xf, "member-of", None, {"role": xml_id("role", role_id)})
        extra = _extra("user", u)
        if extra:
            _leaf(xf, "extra", to_json(extra))


# -- reading (a document already valid under the newest format) ----------------------------


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(el, name: str, default: str = "") -> str:
    child = el.find(_q(name))
    return child.text or "" if child is not None else default


def _extra_of(el) -> dict:
    extra = el.find(_q("extra"))
    value = from_json(extra.text) if extra is not None else {}
    if not isinstance(value, dict):
        raise DocumentError(f"line {extra.sourceline}: extra must be a JSON object")
    return value


def read_backup(root) -> Snapshot:
    """The documents of a whole backup.xml tree (newest format, validated) as the database
    stores them. Restore reads the skeleton (read_skeleton) and the media objects part by
    part instead (gallery/archive/chunked.py)."""
    snap = read_skeleton(root)
    for el in root.find(_q("media-objects")):
        snap.media.append(read_media(el))
    return snap


def read_skeleton(root) -> Snapshot:
    """Everything but the media objects: settings, secrets, watermark, albums, roles, users."""
    gallery = root.find(_q("gallery"))
    snap = Snapshot(slug=gallery.get("slug"), title=_text(gallery, "title"),
                    database_schema=int(root.get("database-schema") or 1))
    for el in root.find(_q("settings")):
        if el.tag == _q("setting"):
            snap.settings[el.get("key")] = from_json(el.text)
        elif el.tag == _q("omitted"):
            snap.omitted.append(el.get("key"))
    block = root.find(_q("secrets"))
    if block is not None:
        snap.secrets = {**{k: block.get(k) for k in ("kdf", "salt", "n", "r", "p", "check")},
                        "items": {el.get("key"): el.text or "" for el in block.iterfind(_q("secret"))}}
    mark = root.find(_q("watermark"))
    if mark is not None:
        snap.watermark = {"path": mark.get("path"), "size": int(mark.get("size")), "sha256": mark.get("sha256")}
    for el in root.find(_q("albums")):
        snap.albums.append(_read_album(el))
    for el in root.find(_q("roles")):
        snap.roles.append({
            **_extra_of(el), "_id": db_id(el.get("id")), "name": _text(el, "name"),
            "permissions": [p.text for p in el.iterfind(_q("permission"))],
            "album_ids": [db_id(g.get("album")) for g in el.iterfind(_q("grant"))],
            "builtin": el.get("builtin"),
        })
    for el in root.find(_q("users")):
        snap.users.append({
            **_extra_of(el), "_id": db_id(el.get("id")), "username": _text(el, "name"),
            "email": _text(el, "email"), "password_hash": _text(el, "password-hash"),
            "role_ids": [db_id(r.get("role")) for r in el.iterfind(_q("member-of"))],
            "status": el.get("status"), "email_verified": el.get("email-verified") in ("true", "1"),
            "created": _parse_time(el.get("created")),
        })
    return snap


def _read_album(el) -> dict:
    return {
        **_extra_of(el), "_id": db_id(el.get("id")), "title": _text(el, "title"),
        "summary": _text(el, "summary"), "dirname": _text(el, "dirname"),
        "parent_id": db_id(el.get("parent")),
        "ancestors": [db_id(x) for x in (el.get("ancestors") or "").split()],
        "private": el.get("private") in ("true", "1"), "position": int(el.get("position")),
        "sort_field": el.get("sort-field"), "sort_direction": int(el.get("sort-direction")),
        "cover_id": db_id(el.get("cover")), "owner_id": el.get("owner"),
        "created": _parse_time(el.get("created")), "updated": _parse_time(el.get("updated")),
    }


_MEDIA_CHILD = {_q(n): n for n in ("title", "caption", "tags", "original", "width", "height", "duration",
                                   "date-taken", "taken", "date-added", "metadata", "probe",
                                   "transforms", "embed-html", "extra")}


def _kid_text(kids: dict, name: str) -> str:
    child = kids.get(name)
    return child.text or "" if child is not None else ""


def read_media(el) -> dict:
    # Its children looked at once, by name (find() per field walked them ~15 times: half
    # of reading a 10,000-object backup).
    kids = {_MEDIA_CHILD.get(child.tag): child for child in el}
    original = kids["original"]
    extra = kids.get("extra")
    doc = from_json(extra.text) if extra is not None else {}
    if not isinstance(doc, dict):
        raise DocumentError(f"line {extra.sourceline}: extra must be a JSON object")
    doc.update({
        "_id": db_id(el.get("id")), "album_id": db_id(el.get("album")),
        "kind": el.get("kind"), "state": el.get("state"), "position": int(el.get("position")),
        "private": el.get("private") in ("true", "1"), "owner_id": el.get("owner"),
        "uploaded_by": el.get("uploaded-by"), "title": _kid_text(kids, "title"),
        "caption": _kid_text(kids, "caption"),
        "tags": [t.text or "" for t in kids["tags"]],
        "file_name": original.get("name"), "mime": original.get("mime"),
        "original": None,
        "date_added": _parse_time(_kid_text(kids, "date-added")),
    })
    intake = doc.pop("original_intake", None)
    if original.get("path"):
        doc["original"] = {"path": original.get("path"), "size": int(original.get("size")),
                           "sha256": original.get("sha256")}
        if isinstance(intake, dict):
            doc["original"].update({k: v for k, v in intake.items() if k in INTAKE_FIELDS})
    for name, cast in (("width", int), ("height", int), ("duration", float)):
        child = kids.get(name)
        if child is not None:
            doc[name] = cast(child.text)
    if "date-taken" in kids:
        doc["date_taken"] = _parse_time(_kid_text(kids, "date-taken"))
    taken = kids.get("taken")
    if taken is not None:
        doc["taken"] = {"local": taken.get("local"), "offset": taken.get("offset")}
    for name in ("metadata", "probe", "transforms"):
        child = kids.get(name)
        if child is not None:
            doc[name] = from_json(child.text)
    if "embed-html" in kids:
        doc["embed_html"] = _kid_text(kids, "embed-html")
    return doc
