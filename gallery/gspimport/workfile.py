"""The import's working set on disk: what grows with the number of records (media rows, their
Metadata rows and MetadataTag links, and the media documents built from them) goes into one
temporary SQLite file instead of Python dicts, so a backup of 500 MB reads in the memory of one
of 5 MB. Albums, roles, users and settings stay in memory (model.py): albums are few.

Rows are written in batches as the iterparse stream passes, indexed once the stream ends (bulk
inserts without indexes are faster), and read back in order, a batch at a time. The file is
ours alone (the tenant's tmp/ under the process's identity, so a killed run's file goes with
the next sweep, gallery/intake/tmpsweep.py) and holds nothing durable: no journal, no fsync.
Documents are stored as BSON, the shape they are inserted in, datetimes and all.

One connection, used by one thread at a time (the import's steps run one after another in
`asyncio.to_thread`), hence check_same_thread=False.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import bson
from bson.codec_options import CodecOptions

#: Rows kept in memory before they go to the file.
BATCH = 2000
#: Media objects (with their metadata), or documents, held at once: what memory depends on.
DOCS = 500
_DECODE = CodecOptions(tz_aware=True)

_TABLES = """
CREATE TABLE media (id INTEGER NOT NULL, album_id INTEGER, row BLOB NOT NULL);
CREATE TABLE meta (media_id INTEGER NOT NULL, code INTEGER NOT NULL, value TEXT NOT NULL);
CREATE TABLE tag_owner (metadata_id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL, code INTEGER NOT NULL);
CREATE TABLE tag (metadata_id INTEGER NOT NULL, name TEXT NOT NULL);
CREATE TABLE doc (seq INTEGER PRIMARY KEY, folder TEXT, parts TEXT, rel TEXT, doc BLOB NOT NULL);
CREATE INDEX doc_by_folder ON doc (folder, seq);
"""
_INDEXES = """
CREATE INDEX media_by_id ON media (id);
CREATE INDEX meta_by_media ON meta (media_id);
CREATE INDEX tag_by_metadata ON tag (metadata_id);
"""


def _encode(doc: dict) -> bytes:
    return bson.encode(doc)


def _decode(blob: bytes) -> dict:
    return bson.decode(blob, codec_options=_DECODE)


class WorkFile:
    """The temporary SQLite file: rows while reading, then the media documents."""

    def __init__(self, path: Path | None = None):
        if path is None:
            fd, name = tempfile.mkstemp(prefix="atrium-gsp-", suffix=".sqlite")
            os.close(fd)
            path = Path(name)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        # A scratch file: nothing to recover after a crash, so no journal and no fsync.
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;")
        self.db.executescript(_TABLES)
        self._pending: dict[str, list[tuple]] = {"media": [], "meta": [], "tag_owner": [], "tag": []}
        self.docs = 0
        self._doc_batch: list[tuple] = []

    # -- reading the backup -------------------------------------------------------------------

    def add_media(self, media_id: int, album_id: int | None, row: dict) -> None:
        self._queue("media", (media_id, album_id, _encode(row)))

    def add_meta(self, media_id: int, code: int, value: str) -> None:
        self._queue("meta", (media_id, code, value))

    def add_tag_owner(self, metadata_id: int, media_id: int, code: int) -> None:
        self._queue("tag_owner", (metadata_id, media_id, code))

    def add_tag(self, metadata_id: int, name: str) -> None:
        self._queue("tag", (metadata_id, name))

    def _queue(self, table: str, values: tuple) -> None:
        pending = self._pending[table]
        pending.append(values)
        if len(pending) >= BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._pending[table]
        if not rows:
            return
        marks = ", ".join("?" * len(rows[0]))
        verb = "INSERT OR REPLACE" if table == "tag_owner" else "INSERT"  # a later row wins, as in a dict
        with self.db:
            self.db.executemany(f"{verb} INTO {table} VALUES ({marks})", rows)
        rows.clear()

    def finish_reading(self) -> list[int]:
        """Flush, index, and keep the first of each duplicated media id; returns those ids."""
        for table in self._pending:
            self._flush(table)
        self.db.executescript(_INDEXES)
        duplicates = [i for (i,) in self.db.execute(
            "SELECT id FROM media GROUP BY id HAVING COUNT(*) > 1 ORDER BY id")]
        if duplicates:
            with self.db:
                self.db.execute("DELETE FROM media WHERE rowid NOT IN (SELECT MIN(rowid) FROM media GROUP BY id)")
        return duplicates

    def media_per_album(self) -> dict[int | None, int]:
        return dict(self.db.execute("SELECT album_id, COUNT(*) FROM media GROUP BY album_id"))

    def media_rows(self) -> Iterator[tuple[dict, dict, dict]]:
        """(row, {code: value}, {code: [tag names]}) of every media object, by id, a batch at a
        time (Metadata rows in file order: a later value of a code wins)."""
        last = None
        while True:
            if last is None:
                batch = self.db.execute("SELECT id, row FROM media ORDER BY id LIMIT ?", (DOCS,)).fetchall()
            else:
                batch = self.db.execute("SELECT id, row FROM media WHERE id > ? ORDER BY id LIMIT ?",
                                        (last, DOCS)).fetchall()
            if not batch:
                return
            low, last = batch[0][0], batch[-1][0]
            meta: dict[int, dict] = {}
            for media_id, code, value in self.db.execute(
                    "SELECT media_id, code, value FROM meta WHERE media_id BETWEEN ? AND ? ORDER BY rowid",
                    (low, last)):
                meta.setdefault(media_id, {})[code] = value
            tags: dict[int, dict] = {}
            for media_id, code, name in self.db.execute(
                    "SELECT o.media_id, o.code, t.name FROM tag t JOIN tag_owner o ON o.metadata_id = t.metadata_id "
                    "WHERE o.media_id BETWEEN ? AND ? ORDER BY t.rowid", (low, last)):
                if name.strip():
                    tags.setdefault(media_id, {}).setdefault(code, []).append(name)
            for media_id, blob in batch:
                yield _decode(blob), meta.get(media_id, {}), tags.get(media_id, {})

    # -- the media documents ------------------------------------------------------------------

    def add_doc(self, doc: dict, folder: str | None = None, parts: list[str] | None = None) -> None:
        """A media document; `parts` (its file below the media folder) when a file is looked for,
        with the `folder` its copy goes to."""
        self.docs += 1
        self._doc_batch.append((self.docs, folder, json.dumps(parts) if parts is not None else None,
                                _encode(doc)))
        if len(self._doc_batch) >= DOCS:
            self.flush_docs()

    def flush_docs(self) -> None:
        if self._doc_batch:
            with self.db:
                self.db.executemany("INSERT INTO doc (seq, folder, parts, doc) VALUES (?, ?, ?, ?)",
                                    self._doc_batch)
            self._doc_batch.clear()

    def file_count(self) -> int:
        self.flush_docs()
        return self.db.execute("SELECT COUNT(*) FROM doc WHERE parts IS NOT NULL").fetchone()[0]

    def sample_parts(self, n: int) -> list[list[str]]:
        self.flush_docs()
        return [json.loads(p) for (p,) in self.db.execute(
            "SELECT parts FROM doc WHERE parts IS NOT NULL ORDER BY seq LIMIT ?", (n,))]

    def _batches(self, where: str, columns: str, by_folder: bool) -> Iterator[list[tuple]]:
        """Rows of doc by seq (or by folder, then seq), DOCS at a time, each batch a query of
        its own after the last one's key: a batch may be updated before the next is read."""
        self.flush_docs()
        order = "folder, seq" if by_folder else "seq"
        after = "(folder, seq) > (?, ?)" if by_folder else "seq > ?"
        key: tuple = ()
        while True:
            rows = self.db.execute(
                f"SELECT seq, folder, {columns} FROM doc WHERE ({where}){' AND ' + after if key else ''} "
                f"ORDER BY {order} LIMIT {DOCS}", key).fetchall()
            if not rows:
                return
            key = (rows[-1][1], rows[-1][0]) if by_folder else (rows[-1][0],)
            yield [(row[0], *row[2:]) for row in rows]

    def files(self) -> Iterator[list[tuple[int, str, list[str], dict]]]:
        """(seq, folder, parts, doc) of the documents whose file is looked for, by folder."""
        for rows in self._batches("parts IS NOT NULL", "folder, parts, doc", True):
            yield [(seq, folder, json.loads(parts), _decode(blob)) for seq, folder, parts, blob in rows]

    def planned(self) -> Iterator[list[tuple[int, str, list[str], dict]]]:
        """(seq, rel, parts, doc) of the documents whose file was found and given a place."""
        for rows in self._batches("rel IS NOT NULL", "rel, parts, doc", False):
            yield [(seq, rel, json.loads(parts), _decode(blob)) for seq, rel, parts, blob in rows]

    def documents(self) -> Iterator[list[dict]]:
        for rows in self._batches("1", "doc", False):
            yield [_decode(blob) for _seq, blob in rows]

    def staged_paths(self) -> Iterator[str]:
        """The staged path of every document whose file was copied."""
        for rows in self._batches("rel IS NOT NULL", "rel", False):
            yield from (rel for _seq, rel in rows)

    def update(self, changes: list[tuple[int, dict, str | None]]) -> None:
        """(seq, document, rel) written back; rel None: no file to copy for it."""
        if changes:
            with self.db:
                self.db.executemany("UPDATE doc SET doc = ?, rel = ? WHERE seq = ?",
                                    [(_encode(doc), rel, seq) for seq, doc, rel in changes])

    def drop(self, seqs: list[int]) -> None:
        if seqs:
            with self.db:
                self.db.executemany("DELETE FROM doc WHERE seq = ?", [(s,) for s in seqs])

    def count(self) -> int:
        self.flush_docs()
        return self.db.execute("SELECT COUNT(*) FROM doc").fetchone()[0]

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self.path.unlink(missing_ok=True)
