"""What makes a GSP backup's album tree or file names unfit, found before anything is written.

Refused (the file is damaged; nothing is imported): duplicate album or media ids, no root
album, two roots, album parents forming a cycle. Skipped with a reason: albums whose parent
names no album (and everything below them), media whose FKAlbumId names no album.
Directory and file names that could leave the media folder, or that Windows could never have
written (`..`, absolute paths, backslashes, reserved device names, NTFS-illegal characters),
are never used to look for files; such an album gets a safe directory name of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gallery.gspimport.errors import GspRefused

_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?$", re.IGNORECASE)
_NTFS_ILLEGAL = set('<>:"|?*') | {chr(c) for c in range(32)}


def name_problem(name: str, what: str = "directory name") -> str | None:
    """Why a path component from the backup must not be used to find a file, or None."""
    if name is None or name == "":
        return f"the {what} is empty"
    if name in (".", ".."):
        return f"the {what} {name!r} would leave its folder"
    if name.startswith(("/", "\\\\")) or (len(name) > 1 and name[1] == ":"):
        return f"the {what} {name!r} is an absolute path"
    if "\\" in name or "/" in name:
        return f"the {what} {name!r} contains a path separator"
    if _RESERVED.match(name.strip()):
        return f"the {what} {name!r} is a reserved Windows device name"
    bad = sorted({c for c in name if c in _NTFS_ILLEGAL})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"the {what} {name!r} contains characters Windows does not allow ({shown})"
    if name.endswith((" ", ".")):
        return f"the {what} {name!r} ends with a space or a dot"
    return None


@dataclass
class Tree:
    root_id: int
    order: list = field(default_factory=list)        # album ids, parents before children
    depth: dict = field(default_factory=dict)        # album id -> depth (root 0)
    skipped: list = field(default_factory=list)      # (album id, reason)
    unsafe: dict = field(default_factory=dict)       # album id -> reason its files are not looked for


def check_duplicates(data) -> None:
    for table in ("Album", "MediaObject", "gs_Album", "gs_MediaObject"):
        ids = sorted({str(i) for t, i in data.duplicates if t in (table, table.removeprefix("gs_"))})
        if ids:
            kind = "album" if "Album" in table else "media object"
            raise GspRefused(f"The backup is damaged: the {kind} id {', '.join(ids[:10])} appears more than once.")


def album_tree(data, gallery_id: int) -> Tree:
    """The gallery's album tree from its root, or GspRefused for a tree that cannot be one."""
    check_duplicates(data)
    albums = {i: a for i, a in data.albums.items() if a["gallery_id"] == gallery_id}
    roots = sorted(i for i, a in albums.items() if a["parent_id"] is None)
    if not roots:
        if albums:
            raise GspRefused(f"The backup is damaged: gallery {gallery_id} has no root album "
                             "(every album has a parent, so the parents form a cycle).")
        raise GspRefused(f"Gallery {gallery_id} has no albums in this backup.")
    if len(roots) > 1:
        raise GspRefused(f"The backup is damaged: gallery {gallery_id} has {len(roots)} root albums "
                         f"(ids {', '.join(map(str, roots[:10]))}); a gallery has exactly one.")
    children: dict[int, list[int]] = {}
    for album_id, album in albums.items():
        if album["parent_id"] is not None:
            children.setdefault(album["parent_id"], []).append(album_id)
    tree = Tree(roots[0])
    stack = [(roots[0], 0)]
    while stack:
        album_id, depth = stack.pop()
        tree.order.append(album_id)
        tree.depth[album_id] = depth
        parent = albums[album_id]["parent_id"]
        inherited = tree.unsafe.get(parent) if parent is not None else None
        problem = None if depth == 0 else name_problem(albums[album_id]["dirname"])
        if inherited:
            tree.unsafe[album_id] = inherited
        elif problem:
            tree.unsafe[album_id] = problem
        for child in sorted(children.get(album_id, []), key=lambda c: (albums[c]["seq"], c), reverse=True):
            stack.append((child, depth + 1))
    reached = set(tree.order)
    unreached = [i for i in albums if i not in reached]
    if unreached:
        in_cycle = _cycle_members(albums, unreached)
        if in_cycle:
            raise GspRefused("The backup is damaged: the parents of albums "
                             f"{', '.join(map(str, sorted(in_cycle)[:10]))} form a cycle.")
        for album_id in sorted(unreached):
            parent = albums[album_id]["parent_id"]
            reason = (f"its parent album {parent} is not in the backup" if parent not in albums
                      else "it is below an album that is not in the backup")
            tree.skipped.append((album_id, reason))
    return tree


def _cycle_members(albums: dict, candidates: list[int]) -> set[int]:
    cycle: set[int] = set()
    for start in candidates:
        seen: list[int] = []
        node = start
        while node in albums and node not in seen and node not in cycle:
            seen.append(node)
            node = albums[node]["parent_id"]
        if node in seen:
            cycle.update(seen[seen.index(node):])
    return cycle
