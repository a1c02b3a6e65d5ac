"""Patches to the SQL the embedded database (nx-27017 on neosqlite) runs, applied in its
child process by server.embedded_db. Each makes a query shape the gallery sends on every
album page take indexed SQL instead of the library's Python path over a whole collection;
tests/server/test_embedded_db.py checks each against the documents it must find.
"""

from __future__ import annotations

import logging
import re
import time


def apply(slow_ms: float) -> None:
    """Install every patch (in the child, before the server starts)."""
    _patch_count_pipeline()
    _patch_or_queries()
    _patch_scalar_equality()
    _patch_id_ranges()
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
