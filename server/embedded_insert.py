"""Inserts into the embedded database: one SQLite transaction per insert command, and each
document serialized once (applied in its child process from server.embedded_sql.apply).

nx-27017 inserts a command's documents one by one (so that a duplicate key becomes a
write error of that document), and neosqlite commits each one by itself (the connection
is in autocommit mode), deep-copies it, walks it again for bytes and asks SQLite whether
the JSON it has just written is valid: restoring 10,000 media documents took ~5 s of the
database's CPU, a third of it the copies, a third the 20,000 statements and their
commits. Here the command's inserts share one transaction (a savepoint, released at the
end: whatever was inserted stays, as before, and a document refused stops or skips as
before) and a document becomes its JSON in one pass. MongoDB promises no more than this
of a batch: a crash before its answer may keep any part of it, here none of it.
"""

from __future__ import annotations

import threading

_SAVEPOINT = "atrium_insert"


def apply() -> None:
    _patch_document_insert()
    _patch_insert_command()


def _patch_insert_command() -> None:
    """The documents of one insert command in one transaction, opened before its first
    INSERT (after the table is made and the write concern set) and released after its
    last, under the database's lock, so no other command's statement joins it."""
    from nx_27017.handler import NeoSQLiteHandler, _msg_db_name

    original = NeoSQLiteHandler.handle_insert

    def handle_insert(self, msg):
        db_name = _msg_db_name(msg) if isinstance(msg, dict) else "test"
        with self._lock_for(db_name):
            _BATCH.open = []
            try:
                return original(self, msg)
            finally:
                opened, _BATCH.open = _BATCH.open, None
                for conn in opened:
                    _release(conn)

    NeoSQLiteHandler.handle_insert = handle_insert
    convert = NeoSQLiteHandler._convert_objectids

    def convert_objectids(self, doc):
        # In an insert command the document is copied into its JSON once, where its BSON
        # ObjectIds become neosqlite's (internal_insert): no second copy of it first.
        return doc if _BATCH.open is not None else convert(self, doc)

    NeoSQLiteHandler._convert_objectids = convert_objectids


class _Batch(threading.local):
    # The connections an insert command opened its savepoint on (None: not in a command).
    open: list | None = None


_BATCH = _Batch()


def _join_batch(conn) -> None:
    """Open the command's savepoint on `conn` before its first insert, unless the client
    runs a transaction of its own there (then the inserts are that transaction's)."""
    opened = _BATCH.open
    if opened is None or conn in opened or conn.in_transaction:
        return
    conn.execute(f"SAVEPOINT {_SAVEPOINT}")
    opened.append(conn)


def _release(conn) -> None:
    try:
        conn.execute(f"RELEASE {_SAVEPOINT}")
    except Exception:
        # Never leave the shared connection inside a transaction nobody ends.
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
            conn.execute(f"RELEASE {_SAVEPOINT}")
        raise


def _patch_document_insert() -> None:
    """neosqlite's `_internal_insert` for dict documents, the same rows and results:
    the stored document is the caller's with its `_id` (generated when missing or None;
    the caller's document gets it only when the key was missing, as the library does),
    bytes stored as Binary, BSON ObjectIds (left in place by the insert command) as
    neosqlite's; JSON that SQLite's json_valid refuses (NaN, Infinity) raises
    ValueError as before, by the encoder instead of a query per document."""
    from bson import ObjectId as BsonObjectId
    from neosqlite.binary import Binary
    from neosqlite.collection.json_helpers import NeoSQLiteJSONEncoder
    from neosqlite.collection.query_helper.crud_operations import CRUDOperationsMixin
    from neosqlite.objectid import ObjectId
    from neosqlite.sql_utils import quote_table_name

    original = CRUDOperationsMixin._internal_insert

    class Encoder(NeoSQLiteJSONEncoder):
        def default(self, obj):
            if isinstance(obj, bytes) and not isinstance(obj, Binary):
                obj = Binary(obj)  # what _convert_bytes_to_binary made of it
            elif isinstance(obj, BsonObjectId):
                obj = ObjectId(obj.binary)  # what nx-27017's _convert_objectids made of it
            return super().default(obj)

    encode = Encoder(allow_nan=False).encode

    def internal_insert(self, document):
        if type(document) is not dict:
            return original(self, document)  # the library's own refusal or handling
        has_key = "_id" in document
        doc_id = document["_id"] if has_key else None
        if doc_id is None or isinstance(doc_id, BsonObjectId):
            doc_id = ObjectId() if doc_id is None else ObjectId(doc_id.binary)
            stored = {**document, "_id": doc_id}  # in place of a None, at the end if missing
        else:
            stored = document
        try:
            text = encode(stored)
        except ValueError:
            raise ValueError("Invalid JSON document") from None
        conn = self.collection.db
        _join_batch(conn)
        cursor = conn.execute(
            f"INSERT INTO {quote_table_name(self.collection.name)}(data, _id) VALUES (?, ?)",
            (text, str(doc_id)))
        if cursor.lastrowid is None:
            import sqlite3

            raise sqlite3.Error("Failed to get last row id.")
        if not has_key:
            document["_id"] = doc_id
        return doc_id

    CRUDOperationsMixin._internal_insert = internal_insert

