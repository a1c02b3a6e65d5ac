"""The embedded MongoDB-wire server (nx-27017 on SQLite) started as a child process.

With `database.uri` empty, Atrium runs nx-27017 on a free loopback port with one SQLite
file per database under `<data_dir>/db/`. A state file records the child's pid, its
parent's pid and the port, so that

- a CLI command run while the service is up talks to the service's server instead of
  starting a second one on the same files, and
- a child left behind by a service that died hard (kill -9) is recognised as stale
  and stopped before a new one starts. The child also asks the kernel to end it when
  its parent dies (PR_SET_PDEATHSIG), so this is a second line of defence.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

log = logging.getLogger("atrium.db")


class EmbeddedDatabaseError(Exception):
    """The embedded database server could not be started."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _is_our_server(pid: int, db_dir: Path) -> bool:
    try:
        cmdline = psutil.Process(pid).cmdline()
    except psutil.Error:
        return False
    return "server.embedded_db" in cmdline and str(db_dir) in cmdline


def _wait_for_port(port: int, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise EmbeddedDatabaseError(
                f"embedded database exited with code {proc.returncode} at start-up"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise EmbeddedDatabaseError(f"embedded database did not listen on port {port} in {timeout:.0f}s")


class EmbeddedDatabase:
    """Start, reuse or stop the embedded server for one data directory."""

    def __init__(self, data_dir: Path, max_open_databases: int = 4000):
        self.max_open_databases = max_open_databases
        self.db_dir = Path(data_dir).resolve() / "db"
        self.state_path = self.db_dir / "embedded.json"
        self.log_path = self.db_dir / "embedded.log"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def start(self, timeout: float = 30.0, reuse: bool = True) -> str:
        """Start the server (or attach to a live one of a running service); return its URI."""
        try:
            self.db_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmbeddedDatabaseError(f"cannot create {self.db_dir}: {exc.strerror}") from None
        state = self._read_state()
        if state and _alive(state.get("pid")) and _is_our_server(state["pid"], self.db_dir):
            if reuse and _alive(state.get("parent")) and state.get("parent") != os.getpid():
                # A running service owns it: share it rather than open the files twice.
                self.port = state["port"]
                _wait_for_port(self.port, None, timeout)
                log.info("using the running service's embedded database on port %s", self.port)
                return self.uri
            log.warning("stopping a stale embedded database (pid %s)", state["pid"])
            _terminate(state["pid"])
        self.port = free_port()
        logfile = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server.embedded_db",
                    "--data-dir",
                    str(self.db_dir),
                    "--port",
                    str(self.port),
                    "--parent",
                    str(os.getpid()),
                    "--max-open-databases",
                    str(self.max_open_databases),
                ],
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=logfile,
                cwd=Path(__file__).resolve().parent.parent,
            )
        finally:
            logfile.close()
        try:
            _wait_for_port(self.port, self.process, timeout)
        except EmbeddedDatabaseError:
            self.stop()
            raise
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"pid": self.process.pid, "parent": os.getpid(), "port": self.port})
        )
        os.replace(tmp, self.state_path)
        log.info("embedded database listening on 127.0.0.1:%s (%s)", self.port, self.db_dir)
        return self.uri

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self.process is None:
            return
        proc, self.process = self.process, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        state = self._read_state()
        if state and state.get("pid") == proc.pid:
            self.state_path.unlink(missing_ok=True)
        log.info("embedded database stopped")


def _terminate(pid: int) -> None:
    try:
        proc = psutil.Process(pid)
        proc.terminate()
        proc.wait(timeout=10)
    except psutil.TimeoutExpired:
        proc.kill()
    except psutil.Error:
        pass


def _run_child(argv: list[str]) -> None:
    """Entry point of the child: quiet logging, die with the parent, run nx-27017."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--max-open-databases", type=int, default=4000)
    args = parser.parse_args(argv)

    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != args.parent:
        sys.exit("parent already gone")

    # nx-27017 logs every command at INFO; configure the root logger first so its own
    # basicConfig() is a no-op and only warnings reach the log file.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _patch_neosqlite()
    _patch_count_pipeline()
    _patch_or_queries()
    _patch_scalar_equality()
    _log_slow_commands(float(os.environ.get("ATRIUM_DB_SLOW_MS", "250")))
    _allow_open_databases(args.max_open_databases)
    from nx_27017 import nx_27017 as nx

    sys.argv = [
        "nx-27017",
        "--data-dir",
        args.data_dir,
        "--host",
        "127.0.0.1",
        "--port",
        args.port,
        "--pid-file",
        os.path.join(args.data_dir, "nx-27017.pid"),
        "--log-file",
        os.path.join(args.data_dir, "nx-27017.log"),
    ]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    nx.main()


def _contains_datetime(value) -> bool:
    from datetime import date

    if isinstance(value, date):
        return True
    if isinstance(value, dict):
        return any(_contains_datetime(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_datetime(v) for v in value)
    return False


def _allow_open_databases(count: int) -> None:
    """Keep every tenant's SQLite file open. nx-27017 closes all but its 100 most recently
    used databases; with more tenants than that, requests on random tenants reopened a
    file (and its WAL) nearly every time. Each open database holds about three file
    descriptors, so the soft descriptor limit is raised to match.
    """
    import resource

    from nx_27017 import handler

    handler._MAX_OPEN_DBS = max(handler._MAX_OPEN_DBS, count)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count * 3 + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


def _patch_neosqlite() -> None:
    """Work around a neosqlite bug: its SQL fast path for updates binds a datetime as plain
    text, so `$set: {"at": datetime}` stored a string that no longer compares as a date.
    Updates that carry a datetime take the library's Python path, which stores it properly.
    """
    from neosqlite.collection.query_helper._sql_updates import SqlUpdatesMixin

    original = SqlUpdatesMixin._can_use_sql_updates

    def can_use_sql_updates(self, update_spec, doc_id, original_doc=None):
        if _contains_datetime(update_spec):
            return False
        return original(self, update_spec, doc_id, original_doc)

    SqlUpdatesMixin._can_use_sql_updates = can_use_sql_updates


class _CountResult(list):
    """The one-document answer of a counting pipeline, shaped like the library's cursor."""

    def to_list(self) -> list[dict]:
        return list(self)

    def batch_size(self, size: int) -> "_CountResult":
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
    "slug", "dedupe",
})
# Scalar fields that pages are sorted by (gallery.listing's sort keys and the like).
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
                except Exception:  # the log line must never break the command
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


if __name__ == "__main__":
    _run_child(sys.argv[1:])
