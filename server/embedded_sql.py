"""Patches to the SQL the embedded database (nx-27017 on neosqlite) runs, applied in its
child process by server.embedded_db. Each makes a query shape the gallery sends on every
album page take indexed SQL instead of the library's Python path over a whole collection;
tests/server/test_embedded_db.py checks each against the documents it must find.
"""

from __future__ import annotations

import logging
import re
import time

from server import embedded_insert, embedded_wire


def apply(slow_ms: float) -> None:
    """Install every patch (in the child, before the server starts)."""
    _patch_count_pipeline()
    _patch_or_queries()
    _patch_scalar_equality()
    _patch_id_ranges()
    _patch_projection()
    _patch_reply_encoding()
    _patch_json_decoder()
    embedded_insert.apply()
    embedded_wire.apply()
    _log_slow_commands(slow_ms)


class _CountResult(list):
    """The one-document answer of a counting pipeline, shaped like the library's cursor."""

    def to_list(self) -> list[dict]:
        return list(self)

    def batch_size(self, size: int) -> _CountResult:
        return self


def count_pipeline(pipeline) -> tuple[dict, int, int] | None:
    """(filter, skip, limit) when `pipeline` is PyMongo's count_documents pipeline:
    [{$match}, ({$skip}), ({$limit}), {$group: {_id: 1, n: {$sum: 1}}}]; else None."""
    if not isinstance(pipeline, list) or len(pipeline) < 2:
        return None
    if pipeline[-1] != {"$group": {"_id": 1, "n": {"$sum": 1}}}:
        return None
    first = pipeline[0]
    if not (isinstance(first, dict) and set(first) == {"$match"} and isinstance(first["$match"], dict)):
        return None
    skip = limit = 0
    for stage in pipeline[1:-1]:
        if not isinstance(stage, dict) or len(stage) != 1:
            return None
        (name, value), = stage.items()
        if name == "$skip" and isinstance(value, int) and not limit and not skip:
            skip = value
        elif name == "$limit" and isinstance(value, int) and not limit:
            limit = value
        else:
            return None
    return first["$match"], skip, limit


_PLAIN = (str, int, float, bool, type(None))
_SQL_OPS = {"$eq", "$gt", "$gte", "$lt", "$lte"}


def _plain_or_filter(query) -> bool:
    """A filter of plain values joined by $and/$or: equality on any field, and
    $eq/$gt/$gte/$lt/$lte only on fields Atrium never stores as arrays (SCALAR_FIELDS and
    the sort keys), whose SQL comparison means what MongoDB's does. What keyset
    pagination sends. ($ne and $in stay on the library's own path: its SQL for them is
    wrong for missing fields and arrays.)"""
    if not isinstance(query, dict):
        return False
    for key, value in query.items():
        if key in ("$and", "$or"):
            if not (isinstance(value, list) and value and all(_plain_or_filter(v) for v in value)):
                return False
        elif key.startswith("$"):
            return False
        elif isinstance(value, dict):
            if key not in ORDERED_FIELDS or not value or not set(value) <= _SQL_OPS:
                return False
            if not all(isinstance(operand, _PLAIN) for operand in value.values()):
                return False
        elif not isinstance(value, _PLAIN):
            return False
    return True


def _keyset_bound(branches) -> dict | None:
    """For a keyset "after (v, id)" filter, `[{f: {$gt: v}}, {$and: [{f: {$eq: v}},
    {_id: {$gt: id}}]}]` (or $lt), the implied range `{f: {$gte: v}}` (or $lte). Added as
    one more AND clause it changes nothing in the result but lets SQLite walk the
    (album_id, f) index from v instead of sorting every document of the album."""
    if not isinstance(branches, list) or len(branches) != 2:
        return None
    first, second = branches
    if not (isinstance(first, dict) and len(first) == 1):
        return None
    (field, cond), = first.items()
    if field.startswith("$") or not isinstance(cond, dict) or len(cond) != 1:
        return None
    (op, value), = cond.items()
    if op not in ("$gt", "$lt") or value is None:
        return None
    same = {"$and": [{field: {"$eq": value}}, {"_id": {op: _branch_id(second)}}]}
    if second != same:
        return None
    return {field: {"$gte" if op == "$gt" else "$lte": value}}


def _branch_id(branch):
    try:
        return next(iter(branch["$and"][1]["_id"].values()))
    except (KeyError, IndexError, TypeError, AttributeError, StopIteration):
        return object()


def _patch_or_queries() -> None:
    """neosqlite's find gives every filter with $or to its Python fallback, which decodes
    and sorts the whole collection: "the 60 items after this cursor" in a 10,000-item album
    took most of a second. Its SQL translator does handle $or, but without parentheses
    around it ("a AND x OR y"); with each top-level condition made its own $and clause the
    parentheses are right. Only plain filters (see _plain_or_filter) take this path.
    """
    from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin

    original = SqlQueryBuilderMixin._build_simple_where_clause

    def build(self, query, *args, **kwargs):
        found = original(self, query, *args, **kwargs)
        if found is not None or not _has_or(query) or not _plain_or_filter(query):
            return found
        clauses = [{key: value} for key, value in query.items()]
        bound = _keyset_bound(query.get("$or"))
        if bound is not None:
            clauses.append(bound)
        where, params = self.collection.query_engine.sql_translator.translate_match(
            {"$and": clauses}
        )
        if where is None:
            return None
        return where, list(params), []

    SqlQueryBuilderMixin._build_simple_where_clause = build


# Fields Atrium only ever stores as one value (never an array): see docs/data-model.md.
SCALAR_FIELDS = frozenset({
    "album_id", "parent_id", "user_id", "owner_id", "media_id", "upload_id", "state",
    "status", "kind", "builtin", "username_key", "email_key", "name_key", "sid", "tenant",
    "slug", "dedupe", "taken_key",
})
# Scalar fields that pages are sorted by (gallery.library.listing's sort keys and the like).
ORDERED_FIELDS = SCALAR_FIELDS | {
    "_id", "position", "title", "file_name", "date_taken", "date_added", "updated",
    "created", "name",
}
_ARRAY_ARM = re.compile(
    r" OR EXISTS \(SELECT 1 FROM \w+\(CASE WHEN json_type\((\w+), '\$\.(\w+)'\) = 'array' "
    r"THEN \w+\(\1, '\$\.\2'\) END\) WHERE value = \?\)"
)


def drop_scalar_array_arms(where: str, params: list) -> tuple[str, list]:
    """Remove the "or an array containing it" arm of equality tests on SCALAR_FIELDS.

    MongoDB's `{field: v}` also matches arrays holding v, so neosqlite writes
    `(json_extract(data,'$.f') = ? OR EXISTS (SELECT 1 FROM json_each(...) ...))`, and that
    OR keeps SQLite from using the field's index: every album page scanned the whole
    media table. For fields never stored as arrays the arm can never match.
    """
    if " OR EXISTS (SELECT 1 FROM " not in where:
        return where, params
    params = list(params)
    for match in reversed(list(_ARRAY_ARM.finditer(where))):
        if match.group(2) not in SCALAR_FIELDS:
            continue
        index = where.count("?", 0, match.start())
        del params[index]
        where = where[: match.start()] + where[match.end():]
    return where, params


def _patch_scalar_equality() -> None:
    from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin
    from neosqlite.collection.sql_translator_unified import SQLTranslator

    translate = SQLTranslator.translate_match

    def translate_match(self, *args, **kwargs):
        where, params = translate(self, *args, **kwargs)
        if where is None:
            return where, params
        return drop_scalar_array_arms(where, params)

    SQLTranslator.translate_match = translate_match
    build = SqlQueryBuilderMixin._build_simple_where_clause

    def build_where(self, *args, **kwargs):
        found = build(self, *args, **kwargs)
        if found is None:
            return None
        where, params, tables = found
        where, params = drop_scalar_array_arms(where, params)
        return where, params, tables

    SqlQueryBuilderMixin._build_simple_where_clause = build_where


_ID_RANGES = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def id_range_clause(id_col: str, value) -> tuple[str, list] | None:
    """SQL for a range of `_id`s with string bounds ({"$gt": "…", "$lte": "…"}), or None
    for any other shape. The library leaves every `_id` range to its Python path, which
    loads and sorts the whole collection for each page: a keyset walk over a gallery's
    media (migration steps, in batches keyed by `_id`) became quadratic, ~1.6 s per
    500-document page of a 10,000-media gallery (0.08 s as SQL on the unique index).
    SQLite's BINARY collation is MongoDB's byte order for strings. The `_id` column holds
    every id as text (the library's unique index already takes 5 and "5" for one id), so
    unlike MongoDB a numeric id would fall in a string range by its digits: Atrium's ids
    are all strings (gallery.ids, slugs, host names, fixed names like "schema")."""
    from neosqlite.collection.query_helper._sql_query_builder import _normalize_id_value

    if not isinstance(value, dict) or not value or any(op not in _ID_RANGES for op in value):
        return None
    if not all(isinstance(bound, str) for bound in value.values()):
        return None
    clauses = [f"{id_col} {_ID_RANGES[op]} ?" for op in value]
    return " AND ".join(clauses), [_normalize_id_value(bound) for bound in value.values()]


def _patch_id_ranges() -> None:
    from neosqlite.collection.query_helper._sql_query_builder import SqlQueryBuilderMixin

    build = SqlQueryBuilderMixin._build_id_operator_clause

    def build_id_operator_clause(self, value):
        found = build(self, value)
        return found if found is not None else id_range_clause(self._id_column_ref(), value)

    SqlQueryBuilderMixin._build_id_operator_clause = build_id_operator_clause


def projector(projection):
    """A function applying `projection` to a document by MongoDB's rules, for a projection
    of plain 1/0 values (True/False too); None for any other (expressions, `$slice`,
    "$field" strings, inclusion mixed with exclusion, paths that collide such as "a" with
    "a.b"), which the library's own code keeps.

    Inclusion keeps the named fields in the document's own order, and `_id` unless
    `_id: 0`; "a.b" keeps `b` inside the embedded document `a`, or inside each document
    of an array `a` (a scalar `a` is left out). Exclusion leaves out the named fields and,
    with `_id: 0`, `_id`. The document is never copied whole: an inclusion builds only what
    it keeps, an exclusion copies only the documents along its paths (the one passed in
    is left as it was)."""
    if not isinstance(projection, dict) or not projection:
        return None
    keep_id, modes, paths = True, set(), []
    for key, value in projection.items():
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(key, str) or not isinstance(value, (int, float)):
            return None
        parts = key.split(".")
        if "" in parts or any(p.startswith("$") for p in parts):
            return None
        if key == "_id":
            keep_id = bool(value)
        else:
            modes.add(bool(value))
            paths.append(parts)
    if len(modes) > 1:
        return None
    ordered = sorted(paths)
    for shorter, longer in zip(ordered, ordered[1:]):
        if longer[: len(shorter)] == shorter:
            return None  # MongoDB refuses these ("Path collision")
    include = modes.pop() if modes else keep_id  # {"_id": 1} alone keeps only `_id`
    if keep_id == include:
        paths.append(["_id"])  # kept by an inclusion, left out by an exclusion
    tree = _tree(paths)
    if include:
        return lambda document: _include(document, tree)
    return lambda document: _exclude(document, tree)


def _tree(paths: list[list[str]]) -> dict:
    """{"a": {"b": True}, "c": True} of [["a", "b"], ["c"]]: True where a path ends."""
    tree: dict = {}
    for parts in paths:
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = True
    return tree


_NOTHING = object()


def _include(value, tree: dict):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            sub = tree.get(key)
            if sub is True:
                out[key] = item
            elif sub is not None and (kept := _include(item, sub)) is not _NOTHING:
                out[key] = kept
        return out
    if isinstance(value, list):
        return [kept for item in value if (kept := _include(item, tree)) is not _NOTHING]
    return _NOTHING  # a scalar where a dotted path goes on: left out


def _exclude(value, tree: dict):
    if isinstance(value, dict):
        out = dict(value)
        for key, sub in tree.items():
            if key in out:
                if sub is True:
                    del out[key]
                else:
                    out[key] = _exclude(out[key], sub)
        return out
    if isinstance(value, list):
        return [_exclude(item, tree) for item in value]
    return value


def _patch_projection() -> None:
    """The library applies any projection as a deep copy of each whole document followed
    by picking fields (16 of 21 ms of a timeline page of 60 media), and an included "a.b"
    came back as a top-level key "a.b" rather than `{"a": {"b": …}}`. Plain projections
    (see projector) are applied by projector's function instead."""
    from neosqlite.collection.cursor import Cursor

    original = Cursor._apply_projection

    def apply_projection(self, docs):
        project = projector(self._projection)
        if project is None:
            return original(self, docs)
        return [project(doc) for doc in docs]

    Cursor._apply_projection = apply_projection


def reply_encoder():
    """encode(reply) for nx-27017's replies: neosqlite's ObjectId and decimal.Decimal become
    BSON ObjectId and Decimal128 inside the C encoder (its fallback for what it cannot
    encode) instead of a Python walk over every value of every document first, which was a
    fifth of the database's CPU on a page of 60 media (3.1 ms of encoding against 0.6). A
    reply's cursor id 0 is sent as int64, as nx-27017 sends it."""
    from decimal import Decimal

    from bson import CodecOptions, Decimal128, Int64, encode
    from bson import ObjectId as BsonObjectId
    from bson.codec_options import TypeRegistry
    from neosqlite.objectid import ObjectId as NeoObjectId

    def fallback(value):
        if isinstance(value, NeoObjectId):
            return BsonObjectId(value.binary)
        if isinstance(value, Decimal):
            return Decimal128(value)
        return value  # the encoder then refuses it, as it did

    options = CodecOptions(type_registry=TypeRegistry(fallback_encoder=fallback))

    def encode_reply(document: dict) -> bytes:
        cursor = document.get("cursor")
        if isinstance(cursor, dict) and cursor.get("id") == 0 and type(cursor["id"]) is int:
            document = {**document, "cursor": {**cursor, "id": Int64(0)}}
        return encode(document, codec_options=options)

    return encode_reply


def _patch_reply_encoding() -> None:
    import struct

    from nx_27017 import wire_protocol

    encode_reply = reply_encoder()
    op_msg = wire_protocol.WireProtocol.OP_MSG

    def build_op_msg_reply(request_id: int, response_to: int, document: dict, flags: int = 0) -> bytes:
        body = struct.pack("<I", flags) + b"\x00" + encode_reply(document)
        return struct.pack("<iiii", 16 + len(body), request_id, response_to, op_msg) + body

    wire_protocol.ResponseBuilder.build_op_msg_reply = staticmethod(build_op_msg_reply)


def _patch_json_decoder() -> None:
    """neosqlite decodes each stored document with json.loads and a new decoder (its own
    object hook for dates, ObjectIds and binaries) every time; one decoder with that same
    hook is kept instead (a third of the decoding time of a page of 60 media)."""
    import json

    import neosqlite.collection as collection

    original = collection.neosqlite_json_loads
    hooks = []

    class Capture(json.JSONDecoder):
        def __init__(self, *, object_hook=None, **kwargs):
            hooks.append(object_hook)
            super().__init__(object_hook=object_hook, **kwargs)

    original("{}", cls=Capture)
    if not hooks or hooks[0] is None:
        return  # not the library this was written for: leave it as it is
    decode = json.JSONDecoder(object_hook=hooks[0]).decode

    def loads(s, **kwargs):
        if kwargs or not isinstance(s, str):
            return original(s, **kwargs)
        return decode(s)

    collection.neosqlite_json_loads = loads


def _log_slow_commands(threshold_ms: float) -> None:
    """Log each command slower than `threshold_ms` (with its filter and sort) to the
    embedded database's log: the queries the SQLite translation could not take are the
    ones that scan a whole collection in Python. 0 turns it off."""
    if threshold_ms <= 0:
        return
    from nx_27017.handler import NeoSQLiteHandler

    original = NeoSQLiteHandler.handle_command
    slow = logging.getLogger("atrium.db.slow")

    def handle_command(self, msg, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, msg, *args, **kwargs)
        finally:
            took = (time.perf_counter() - start) * 1000
            if took > threshold_ms:
                try:
                    body = msg["sections"][0] if isinstance(msg, dict) and msg.get("sections") else msg
                    text = repr(body)
                except Exception:  # noqa: BLE001 - the log line must never break the command
                    text = "?"
                slow.warning("slow command (%.0f ms): %s", took, text[:1000])

    NeoSQLiteHandler.handle_command = handle_command


def _has_or(value) -> bool:
    # neosqlite's SQL translation of $or drops the parentheses around it
    # ("a AND x OR y"), so filters with $or/$nor keep the library's own path.
    if isinstance(value, dict):
        return any(k in ("$or", "$nor") or _has_or(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_or(v) for v in value)
    return False


def _patch_count_pipeline() -> None:
    """PyMongo's count_documents sends an aggregate pipeline whose $group neosqlite runs in
    Python over deep copies of every matching document: counting a 10,000-item album took
    about a second. That exact shape is answered with the library's SQL COUNT instead
    (which itself falls back to filtering in Python for filters SQL cannot express).
    """
    from neosqlite.collection import Collection

    original = Collection.aggregate

    def aggregate(self, pipeline, *args, **kwargs):
        shape = count_pipeline(pipeline)
        if shape is None or args or kwargs.get("session") is not None or _has_or(shape[0]):
            return original(self, pipeline, *args, **kwargs)
        match, skip, limit = shape
        n = max(0, self.count_documents(match) - skip)
        if limit:
            n = min(n, limit)
        return _CountResult([{"_id": 1, "n": n}] if n else [])

    Collection.aggregate = aggregate
