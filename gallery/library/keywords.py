"""Search keys: the words a media object is found by, lower-cased and accent-folded.

Kept in `search_keys` on every media object (its words plus their prefixes from
PREFIX_MIN letters, so "ros" finds "Rosé"), set wherever a document is made or its words
change (gallery.library.media, gallery.processing.process). gallery.library.search queries them.
"""

from __future__ import annotations

import re
import unicodedata

from gallery.metadata_fields import edited_paths

PREFIX_MIN = 2
MAX_WORD = 40
MAX_KEYS = 800  # every listing query reads whole documents: keep them lean
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # words and numbers; "_" separates
# Metadata entries that are not words people search for.
_SKIP_METADATA = frozenset({"map_url", "orientation", "width", "height", "date_taken"})


def fold(text: str) -> str:
    """Lower-case and without accents: "Rosé Ÿ" -> "rose y"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The searchable words of a text, folded, each at most MAX_WORD characters."""
    return [w[:MAX_WORD] for w in _WORD.findall(fold(text))]


def _strings(value, key: str = "", path: str = "", skip: frozenset | set = frozenset()):
    if key in _SKIP_METADATA or path in skip:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k), f"{path}.{k}" if path else str(k), skip)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v, key, path, skip)


def search_keys(media: dict) -> list[str]:
    """The keys a media object is found by (its words and their prefixes)."""
    # Most telling first: past MAX_KEYS, the tail of a long caption is what gets dropped.
    texts = [media.get("title") or ""]
    texts += [t for t in media.get("tags") or [] if isinstance(t, str)]
    texts += [media.get("file_name") or ""]
    # Editors' corrections (gallery/metadata_fields.py) replace what the file says: search
    # finds what the page shows.
    edits = media.get("meta_edits")
    texts += [v for v in edits.values() if isinstance(v, str)] if isinstance(edits, dict) else []
    texts += list(_strings(media.get("metadata") or {}, skip=edited_paths(media)))
    texts += [media.get("caption") or ""]
    keys: dict[str, None] = {}
    for text in texts:
        for word in words(text):
            for end in range(min(PREFIX_MIN, len(word)), len(word) + 1):
                keys[word[:end]] = None
            if len(keys) >= MAX_KEYS:
                return list(keys)[:MAX_KEYS]
    return list(keys)


def keyword_fields(media: dict) -> dict:
    """The stored search field of a (possibly partly updated) media document."""
    return {"search_keys": search_keys(media)}
