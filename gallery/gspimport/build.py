"""From a checked GspData to Atrium documents (albums, media, roles, users, settings), in
memory and without I/O; each thing not carried as it was goes into the report with why.

Choices (docs/gsp-import.md): GSP's root album becomes the gallery's root album (its title
and summary); people become tags prefixed `person:`; the rating and every metadata value GSP
stored are kept in the media document (`rating`, `metadata.gsp`); captions and summaries are
stored as typed, HTML included, and shown through gallery/richtext.py like any user HTML;
passwords are never carried.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import nh3

from gallery.errors import Invalid
from gallery.gspimport import checks, mapping
from gallery.gspimport.model import GspData, to_int, to_time
from gallery.gspimport.report import Report
from gallery.gspimport.workfile import WorkFile
from gallery.ids import new_id
from gallery.library.albums import MAX_SUMMARY, MAX_TITLE, album_document
from gallery.library.embeds import sanitize_embed
from gallery.library.filenames import safe_dirname
from gallery.library.media import media_document, safe_filename
from gallery.library.people import MAX_PEOPLE, clean_people, people_fields
from gallery.library.ratings import file_rating
from gallery.library.tags import MAX_TAG_LENGTH, MAX_TAGS, tag_fields
from gallery.people import roles as gallery_roles
from gallery.people.users import (
    USER_VERSION,
    clean_email,
    clean_username,
    user_status,
    username_key,
)

SOURCE = "gsp"


@dataclass
class Built:
    root_update: dict = field(default_factory=dict)
    albums: list = field(default_factory=list)           # new album documents, parents first
    # Media documents, and the file below the media folder each one looks for, are in the
    # WorkFile (on disk: they grow with the media count); here only how many there are.
    media: WorkFile | None = None
    media_count: int = 0
    roles: list = field(default_factory=list)
    users: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def _clip(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def _plain(text: str | None) -> str:
    """A title as text: GSP let titles carry HTML; Atrium's titles are plain (shown escaped)."""
    text = text or ""
    if "<" not in text and "&" not in text:
        return text
    return " ".join(html.unescape(nh3.clean(text, tags=set())).split())


def _tags(values: list[str]) -> list[str]:
    seen, out = set(), []
    for tag in values:
        tag = " ".join(tag.split())[:MAX_TAG_LENGTH]
        key = tag.casefold()
        if tag and key not in seen:
            seen.add(key)
            out.append(tag)
    return out[:MAX_TAGS]


def build(data: GspData, gallery_id: int, tree: checks.Tree, root: dict, *, run: str,
          settings: dict, existing_user_keys: set[str], report: Report) -> Built:
    out = Built(media=data.work)
    albums = _albums(data, tree, root, run, out, report)
    _media(data, albums, tree, run, settings, out, report)
    roles_by_name = _roles(data, albums, root, run, out, report)
    users_by_name = _users(data, gallery_id, roles_by_name, existing_user_keys, run, out, report)
    _personal_albums(data, gallery_id, albums, users_by_name, run, out, report)
    for album_id, doc in albums.items():  # owners named by user name
        owner = data.albums[album_id]["owner"]
        if owner and owner in users_by_name and not doc.get("user_album_of"):
            doc["owner_id"] = users_by_name[owner]["_id"]
    _settings(data, gallery_id, {gsp_id: doc["_id"] for gsp_id, doc in albums.items()}, out, report)
    return out


def _albums(data, tree, root, run, out, report) -> dict:
    docs: dict[int, dict] = {}
    siblings: dict[str, set[str]] = {}
    for album_id, reason in tree.skipped:
        report.item("albums", "skipped", album_id, data.albums[album_id]["dirname"], reason)
    for album_id in tree.order:
        row = data.albums[album_id]
        meta = data.album_meta.get(album_id, {})
        title = meta.get(mapping.TITLE, row["title"]) or row["dirname"] or "Album"
        summary = meta.get(mapping.CAPTION, row["summary"]) or ""
        if len(title.strip()) > MAX_TITLE or len(summary.strip()) > MAX_SUMMARY:
            report.item("albums", "note", album_id, title[:80], "title or summary shortened to fit")
        sort_field = mapping.SORT_FIELDS.get(row["sort_meta"], "position")
        common = {
            "title": _clip(_plain(title), MAX_TITLE), "summary": _clip(summary, MAX_SUMMARY),
            "position": row["seq"], "sort_field": sort_field,
            "sort_direction": 1 if row["sort_asc"] else -1,
            "gsp": {"id": album_id, "metadata": _meta_names(meta)},
        }
        if row["date_added"]:
            common["created"] = row["date_added"]
        if row["modified"]:
            common["updated"] = row["modified"]
        if tree.depth[album_id] == 0:
            out.root_update = {**common, "private": row["private"]}
            docs[album_id] = {**root, **out.root_update}
            continue
        parent = docs[row["parent_id"]]
        taken = siblings.setdefault(parent["_id"], set())
        dirname = row["dirname"]
        if checks.name_problem(dirname) or dirname.casefold() in taken:
            why = checks.name_problem(dirname) or "another album beside it has the same directory name"
            dirname = safe_dirname(title, taken)
            report.item("albums", "note", album_id, title[:80],
                        f"{why}; its directory is {dirname!r} here"
                        + ("; its files were not looked for" if album_id in tree.unsafe else ""))
        taken.add(dirname.casefold())
        doc = album_document(common["title"], parent, dirname=dirname)
        doc.update(common)
        doc["private"] = bool(row["private"] or parent.get("private"))
        doc["import_run"] = run
        docs[album_id] = doc
        out.albums.append(doc)
        report.count("albums")
    report.count("albums")  # the root
    return docs


def _meta_names(meta: dict) -> dict:
    return {mapping.META_NAMES.get(code, f"Code{code}"): value for code, value in sorted(meta.items())}


def _gsp_dir(data, tree, album_id) -> list[str] | None:
    """The album's directory below the media folder, or None when it must not be used."""
    if album_id in tree.unsafe:
        return None
    parts: list[str] = []
    while tree.depth.get(album_id, 0) > 0:
        parts.append(data.albums[album_id]["dirname"])
        album_id = data.albums[album_id]["parent_id"]
    return list(reversed(parts))


def _media(data, albums, tree, run, settings, out, report) -> None:
    hosts = settings.get("embed_hosts") or []
    included = set(tree.order)
    gallery_id = data.albums[tree.root_id]["gallery_id"]
    skipped_albums = {a for a, _ in tree.skipped}
    dirs: dict[int, list[str] | None] = {}
    # The folder under originals/ each album's files go to (the root's is originals/ itself).
    folders = {doc["_id"]: "/".join(p for p in ("originals", doc["dirpath"]) if p) for doc in out.albums}
    thumbs = {row["thumb_id"] for row in data.albums.values() if row["thumb_id"]}
    covers: dict[int, str] = {}
    for row, meta, linked in data.media_rows():
        media_id = row["id"]
        album_row = data.albums.get(row["album_id"])
        if album_row is not None and album_row["gallery_id"] != gallery_id:
            continue  # another gallery's media
        if row["album_id"] not in included:
            reason = ("its album was skipped" if row["album_id"] in skipped_albums
                      else f"its album (FKAlbumId {row['album_id']}) is not in the backup")
            report.item("media", "skipped", media_id, row["file"], reason)
            continue
        album = albums[row["album_id"]]
        parts = None
        title = meta.get(mapping.TITLE, row["title"]) or ""
        caption = meta.get(mapping.CAPTION) or ""
        tags = linked.get(mapping.TAGS) or mapping.split_list(meta.get(mapping.TAGS, ""))
        people = linked.get(mapping.PEOPLE) or mapping.split_list(meta.get(mapping.PEOPLE, ""))
        all_tags = _tags([*tags, *(mapping.PERSON_PREFIX + p for p in people)])
        external = row["external_html"] or (meta.get(mapping.HTML_SOURCE) if not row["file"] else "")
        common = {"title": _clip(_plain(title), 500), "caption": (caption or "")[:10_000],
                  "position": row["seq"], "import_run": run}
        if external:
            try:
                embed = sanitize_embed(external, hosts)
            except Invalid as exc:
                report.item("media", "skipped", media_id, title or "external media", f"unsafe embed: {exc.message}")
                continue
            doc = media_document(album, kind="external", mime="text/html", extension="", file_name="",
                                 original_path=None, title=common["title"], caption=common["caption"],
                                 tags=all_tags, position=row["seq"], state="ready")
            doc["embed_html"] = embed
        else:
            name = safe_filename(row["file"]) if row["file"] else ""
            doc = media_document(album, kind="other", mime="", extension="", file_name=name,
                                 original_path=None, title=common["title"] or name.rsplit(".", 1)[0],
                                 caption=common["caption"], tags=all_tags, position=row["seq"],
                                 state="pending")
            if row["album_id"] not in dirs:
                dirs[row["album_id"]] = _gsp_dir(data, tree, row["album_id"])
            folder = dirs[row["album_id"]]
            problem = checks.name_problem(row["file"], "file name")
            if folder is None or problem:
                _missing(doc, report, media_id, row["file"],
                         problem or tree.unsafe.get(row["album_id"], "unsafe directory"))
            else:
                parts = [*folder, row["file"]]
        doc["import_run"] = run
        doc["private"] = bool(row["private"] or album.get("private"))
        doc.update(tag_fields(all_tags))
        # People also fill the people field (library/people.py); the `person:` tags stay so
        # that searches and links made before the field existed keep finding them.
        try:
            doc.update(people_fields(clean_people(people[:MAX_PEOPLE])))
        except Invalid:
            report.item("files", "note", media_id, title, "people names too long: left as tags")
        rating = to_int(meta.get(mapping.RATING))
        if rating is not None:
            doc["rating"] = max(0, min(5, rating))
            # The import's rating seeds the average until members vote (library/ratings.py).
            if file_rating(doc["rating"]):
                doc["rating_avg"] = float(doc["rating"])
        added = to_time(meta.get(mapping.DATE_ADDED)) or row["date_added"]
        if added:
            doc["date_added"] = added
        # Beside `metadata`, which processing replaces with what it reads from the file.
        doc["gsp"] = {"id": media_id, "metadata": _meta_names(meta)}
        if media_id in thumbs:
            covers[media_id] = doc["_id"]
        out.media.add_doc(doc, folders.get(doc["album_id"], "originals") if parts else None, parts)
        out.media_count += 1
    out.media.flush_docs()
    for album_id, doc in albums.items():
        thumb = data.albums[album_id]["thumb_id"]
        if thumb and thumb in covers:
            doc["cover_id"] = covers[thumb]
            if album_id == tree.root_id:
                out.root_update["cover_id"] = covers[thumb]


def _missing(doc: dict, report: Report, media_id, name: str, reason: str) -> None:
    doc.update(state="failed", missing=True, failure=f"File missing: {reason}")
    report.item("files", "skipped", media_id, name, reason)


def _roles(data, albums, root, run, out, report) -> dict:
    by_gsp_album = {gsp_id: doc["_id"] for gsp_id, doc in albums.items()}
    grants: dict[str, list[str]] = {}
    for role_name, album_id in data.grants:
        if album_id in by_gsp_album:
            grants.setdefault(role_name, []).append(by_gsp_album[album_id])
            report.count("grants")
        elif album_id not in data.albums:
            report.item("grants", "skipped", album_id, role_name, "the album it names is not in the backup")
    reserved = {username_key(gallery_roles.ADMINISTRATORS), username_key(gallery_roles.AUTHENTICATED)}
    by_name: dict[str, dict] = {}
    for name, columns in sorted(data.roles.items()):
        album_ids = grants.get(name, [])
        site_admin = columns.get("AllowAdministerSite")
        if not album_ids and not site_admin:
            report.item("roles", "skipped", name, name, "it grants nothing on an album of this gallery")
            continue
        if site_admin:
            album_ids = [root["_id"]]
        permissions = sorted({mapping.PERMISSIONS[c] for c, on in columns.items() if on})
        label = " ".join(name.split())[: gallery_roles.ROLE_NAME_MAX] or "Imported role"
        if username_key(label) in reserved:
            label = f"{label} (GSP)"
        doc = gallery_roles.role_document(label, permissions, sorted(set(album_ids)))
        doc.update(import_run=run, gsp={"name": name})
        by_name[name] = doc
        out.roles.append(doc)
        report.count("roles")
    return by_name


def _users(data, gallery_id, roles_by_name, existing, run, out, report) -> dict:
    roles_of: dict[str, list[str]] = {}
    for user_id, role_id in data.user_roles:
        name = data.role_ids.get(role_id)
        if name in roles_by_name:
            roles_of.setdefault(user_id, []).append(roles_by_name[name]["_id"])
    by_name: dict[str, dict] = {}
    taken = set(existing)
    if data.users:
        report.notes.append("Imported users hold their GSP roles only, not the gallery's "
                            "'Authenticated Users' role (it opens every album, private ones too); "
                            "give it to them on the Users page if that is wanted.")
    for user_id, row in sorted(data.users.items(), key=lambda kv: kv[1]["username"]):
        member = data.members.get(user_id, {})
        try:
            username = clean_username(row["username"])
        except Invalid as exc:
            report.item("users", "skipped", row["username"], row["username"], f"user name not allowed: {exc.message}")
            continue
        if username_key(username) in taken:
            report.item("users", "skipped", username, username, "a user with this name is already in the gallery")
            continue
        taken.add(username_key(username))
        try:
            email = clean_email(member.get("email") or "", required=False)
        except Invalid:
            email = ""
        if not email:
            report.item("users", "note", username, username, "user without e-mail: the report carries "
                        "their set-password link")
        pending = [] if member.get("approved", True) else ["approve"]
        doc = {
            "_id": new_id(), "username": username, "username_key": username_key(username),
            "email": email, "email_key": email.lower(), "email_verified": bool(email),
            "password_hash": None,  # never imported: every user sets a new password
            "role_ids": sorted(set(roles_of.get(user_id, []))), "status": "active",
            "pending": pending, "created": member.get("created"),
            "version": USER_VERSION, "import_run": run, "gsp": {"id": user_id,
                                                                 "password_format": member.get("password_format")},
        }
        if doc["created"] is None:
            doc.pop("created")
        doc["disabled"] = bool(member.get("locked"))
        doc["status"] = user_status(doc)
        if member.get("locked"):
            report.item("users", "note", username, username, "locked out in GSP: imported disabled")
        by_name[row["username"]] = doc
        out.users.append(doc)
        report.count("users")
    return by_name


def _personal_albums(data, gallery_id, albums, users_by_name, run, out, report) -> None:
    for (username, gid), values in data.profiles.items():
        if gid != gallery_id or username not in users_by_name:
            continue
        album_id = to_int(values.get("UserAlbumId"), 0)
        if not album_id:
            continue
        if album_id not in albums:
            report.item("albums", "note", album_id, username, "the personal album it names is not in the backup")
            continue
        user, album = users_by_name[username], albums[album_id]
        if album.get("import_run") != run:
            continue  # the root is nobody's personal album
        role = gallery_roles.role_document(f"Owner of {album['title'][:60]} ({album['_id'][-6:]})",
                                           gallery_roles.OWNER_PERMISSIONS, [album["_id"]], builtin="owner")
        role.update(owner_album_id=album["_id"], import_run=run)
        out.roles.append(role)
        album.update(user_album_of=user["_id"], owner_id=user["_id"])
        user["role_ids"].append(role["_id"])
        user["album_id"] = album["_id"]
        user["gsp"]["user_album_enabled"] = str(values.get("EnableUserAlbum", "")).lower() == "true"


def _settings(data, gallery_id, album_ids: dict, out, report) -> None:
    from gallery import settings as gallery_settings

    values = dict(data.settings.get(gallery_id, {}))
    enabled = data.mime_enabled.get(gallery_id)
    if enabled and "AllowedFileExtensions" not in values:
        values["AllowedFileExtensions"] = ",".join(sorted(
            {data.mime_types[i] for i in enabled if data.mime_types.get(i)}))
    for name, raw in sorted(values.items()):
        if name in mapping.ALBUM_SETTINGS:
            album_id = album_ids.get(to_int(raw, 0))
            if album_id:
                out.settings[mapping.ALBUM_SETTINGS[name]] = album_id
                report.count("settings")
            else:
                report.item("settings", "skipped", name, name, f"album {raw!r} is not imported")
            continue
        target = mapping.SETTINGS.get(name)
        if target is None:
            report.item("settings", "skipped", name, name, "no Atrium equivalent")
            continue
        key, convert = target
        try:
            value = convert(raw)
            if key == "allowed_extensions":
                value = [e for e in value if e in gallery_settings.BY_KEY[key].default] or \
                    list(gallery_settings.BY_KEY[key].default)
            if key == "gallery_title" and not str(value).strip():
                continue
            gallery_settings.validate({key: value})
        except (ValueError, TypeError, Invalid) as exc:
            report.item("settings", "failed", name, name, f"value {str(raw)[:60]!r} not usable for "
                        f"{key}: {getattr(exc, 'message', exc)}")
            continue
        out.settings[key] = value
        report.count("settings")
