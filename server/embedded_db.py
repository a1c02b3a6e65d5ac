"""The embedded MongoDB-wire server (nx-27017 on SQLite) started as a child process.

With `database.uri` empty, Atrium runs nx-27017 on a free loopback port with one SQLite
file per database under `<data_dir>/db/`. A state file records the child's pid, its
parent's pid and the port, so that

- a CLI command run while the service is up talks to the service's server instead of
  starting a second one on the same files, and
- a child left behind by a service that died hard (kill -9) is recognised as stale
  and stopped before a new one starts. The child also asks the kernel to end it when
  its parent dies (PR_SET_PDEATHSIG), so this is a second line of defence.

A started server is supervised: a thread waits on the child, and when it exits without
being asked to, restarts it on the same files and the same port (so the service's
client reconnects by itself), with a backoff that doubles up to RESTART_MAX_SECONDS
and starts over once a child has stayed up STABLE_SECONDS. `available` and `status()`
say whether the server is up, for the 503 answers and `/_health` while it is not.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

log = logging.getLogger("atrium.db")


#: Seconds before the first restart of a child that exited; doubled for each restart
#: after it, up to RESTART_MAX_SECONDS.
RESTART_MIN_SECONDS = 0.5
RESTART_MAX_SECONDS = 30.0
#: A child that ran this long was healthy: the next restart waits RESTART_MIN_SECONDS again.
STABLE_SECONDS = 60.0
#: SIGTERM, then SIGKILL after this: a hung (or stopped) child must not hold up a shutdown.
STOP_GRACE_SECONDS = 5.0
#: How many ports start-up tries when the one it picked is taken before the child binds it.
PORT_ATTEMPTS = 3


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


def _listens(pid: int, port: int) -> bool:
    try:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in psutil.Process(pid).net_connections(kind="tcp4")
        )
    except psutil.Error:
        return False


def _wait_for_port(port: int, proc: subprocess.Popen | None, timeout: float) -> None:
    """Wait until the server listens: our child itself when we started it (someone else
    may have taken its port meanwhile), else whoever answers on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                raise EmbeddedDatabaseError(
                    f"embedded database exited with code {proc.returncode} at start-up"
                )
            if _listens(proc.pid, port):
                return
            time.sleep(0.05)
            continue
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
        self.restarts = 0
        #: time.monotonic() when the child was found gone; None while it runs
        self.down_since: float | None = None
        self.last_exit: str | None = None
        self._stopping = threading.Event()
        # Held while the child is (re)spawned or stopped, so stop() never misses a child.
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def start(self, timeout: float = 30.0, reuse: bool = True, supervise: bool = True) -> str:
        """Start the server (or attach to a live one of a running service); return its URI.

        A server this process starts is restarted when it dies, unless `supervise` is off.
        """
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
        for attempt in range(PORT_ATTEMPTS):
            # free_port() only finds a port free now: another process may bind it before the
            # child does (parallel CLI runs, tests). The child then exits at start-up saying so
            # in its log, and the next attempt takes another port.
            self.port = free_port()
            self._stopping.clear()
            logged = self.log_path.stat().st_size if self.log_path.exists() else 0
            with self._lock:
                self.process = self._spawn()
            try:
                _wait_for_port(self.port, self.process, timeout)
                break
            except EmbeddedDatabaseError:
                self.stop()
                if attempt + 1 < PORT_ATTEMPTS and self._port_was_taken(logged):
                    log.warning("port %s was taken before the embedded database bound it; trying another", self.port)
                    continue
                raise
        self._write_state()
        log.info("embedded database listening on 127.0.0.1:%s (%s)", self.port, self.db_dir)
        if supervise:
            self._supervisor = threading.Thread(
                target=self._supervise, args=(timeout,), name="atrium-db-supervisor", daemon=True
            )
            self._supervisor.start()
        return self.uri

    def _port_was_taken(self, since: int) -> bool:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return b"address already in use" in f.read(1 << 16)
        except OSError:
            return False

    @property
    def available(self) -> bool:
        """False from the moment the supervisor sees the child gone until it listens again."""
        return self.down_since is None

    def status(self) -> str:
        if self.down_since is None:
            return "ok"
        down = time.monotonic() - self.down_since
        return f"restarting (down {down:.0f}s after it {self.last_exit}; restarts so far: {self.restarts})"

    def _spawn(self) -> subprocess.Popen:
        logfile = open(self.log_path, "ab")
        try:
            return subprocess.Popen(
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

    def _write_state(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"pid": self.process.pid, "parent": os.getpid(), "port": self.port})
        )
        os.replace(tmp, self.state_path)

    def _supervise(self, timeout: float) -> None:
        """Runs in its own thread for the life of the server: restart the child when it dies.

        The restarted child's PR_SET_PDEATHSIG follows this thread, which lives until
        stop(), so a child never outlives the supervision that restarts it.
        """
        try:
            self._supervise_loop(timeout)
        except Exception:  # never die quietly: without this thread nothing restarts the child
            log.exception("embedded database supervision failed; the database is no longer restarted")

    def _supervise_loop(self, timeout: float) -> None:
        delay = RESTART_MIN_SECONDS
        while not self._stopping.is_set():
            proc = self.process
            if proc is None:
                return
            started = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            self.down_since = time.monotonic()
            self.last_exit = _describe_exit(code)
            if self.down_since - started >= STABLE_SECONDS:
                delay = RESTART_MIN_SECONDS
            log.error("embedded database (pid %s) %s; restarting it in %.1fs", proc.pid, self.last_exit, delay)
            while not self._stopping.wait(delay):
                delay = min(delay * 2, RESTART_MAX_SECONDS)
                try:
                    with self._lock:
                        if self._stopping.is_set():
                            return
                        self.process = proc = self._spawn()
                    # Same port as before: the service's client finds the new child by itself.
                    _wait_for_port(self.port, proc, timeout)
                    with self._lock:
                        if self.process is proc:
                            self._write_state()
                except (EmbeddedDatabaseError, OSError) as exc:
                    log.error("embedded database restart failed (%s); next try in %.1fs", exc, delay)
                    self._kill_current()
                    continue
                self.restarts += 1
                self.down_since = None
                log.warning("embedded database restarted (pid %s, port %s)", proc.pid, self.port)
                break

    def _kill_current(self) -> None:
        with self._lock:
            proc = self.process
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop the server if this process started it, within about 2 × STOP_GRACE_SECONDS
        whatever state the child is in (running, hung, stopped, already gone). `grace` is
        what SIGTERM gets before SIGKILL (shorter for a child that no longer answers)."""
        self._stopping.set()
        with self._lock:
            proc, self.process = self.process, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=STOP_GRACE_SECONDS)
            state = self._read_state()
            if state and state.get("pid") == proc.pid:
                self.state_path.unlink(missing_ok=True)
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(timeout=STOP_GRACE_SECONDS)
        if proc is not None:
            log.info("embedded database stopped")


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


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
    from server import embedded_sql

    embedded_sql.apply(float(os.environ.get("ATRIUM_DB_SLOW_MS", "250")))
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


if __name__ == "__main__":
    _run_child(sys.argv[1:])
