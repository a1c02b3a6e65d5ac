"""The real service (`python -m server run`) on its own data directory with its own
embedded database, as `./atrium start` runs it: for tests that kill the service, its
database child or its other children, and look at the processes left.

Data is put in before the service starts, in this process, through the product's own
functions (tenants.installer, gallery.intake.ingest) on the same data directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from tests.client import Browser

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-Battery-9"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnDbService:
    def __init__(self, data_dir: Path, **settings):
        self.data_dir = Path(data_dir)
        self.settings = {"logging.access_log": False, "jobs.workers": 0, **settings}
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task | None = None
        self.killed = False

    def _values(self) -> dict:
        return {"paths.data_dir": str(self.data_dir), **self.settings, "jobs.workers": 0}

    async def prepare(self, slug: str = "alpha", files: list[Path] = ()) -> list[str]:
        """Install a tenant and ingest `files` into its root album (each queues its
        processing job for the service's workers); return the media ids."""
        from gallery.intake.ingest import ingest_file
        from gallery.library.albums import root_album
        from server.config import load_config
        from server.services import build_services
        from tenants.installer import finish_install
        from tenants.provision import create_tenant

        config = load_config(None, env={}, overrides=self._values())
        services = await build_services(config, reuse_embedded=False)
        ids = []
        try:
            _, token = await create_tenant(services.registry, slug, "Alpha", [], f"admin@{slug}.test")
            ctx = await services.registry.context_for_slug(slug)
            await finish_install(services.registry, ctx, token, {
                "title": "Alpha", "username": "admin", "email": f"admin@{slug}.test",
                "password": PASSWORD, "password2": PASSWORD,
            })
            ctx = await services.registry.context_for_slug(slug)
            admin = await ctx.db.users.find_one({"username_key": "admin"})
            root = await root_album(ctx)
            for path in files:
                data = path.read_bytes()
                tmp = ctx.storage.tmp / f"{path.name}.incoming"
                tmp.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, tmp)
                doc = await ingest_file(ctx, services, admin, root, tmp, path.name,
                                        size=len(data), sha256=hashlib.sha256(data).hexdigest())
                ids.append(doc["_id"])
        finally:
            await services.close()
        return ids

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
        for key, value in self.settings.items():
            env["ATRIUM_" + key.replace(".", "_").upper()] = str(value)
        return env

    async def start(self) -> None:
        """Start and wait until `/_health` answers 200."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", "--data-dir", str(self.data_dir), "run", "--port", str(self.port),
            cwd=ROOT, env=self.env(), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read(self.proc))
        await self.wait_health(200, timeout=60)

    async def _read(self, proc) -> None:
        while line := await proc.stderr.readline():
            self.lines.append(line.decode(errors="replace").rstrip())

    def log(self) -> str:
        return "\n".join(self.lines[-40:])

    async def health(self):
        response = await AsyncHTTPClient().fetch(f"{self.base}/_health", raise_error=False, request_timeout=30)
        return response

    async def wait_health(self, code: int, timeout: float = 30):
        """Poll `/_health` until it answers `code`; return that response."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            assert self.proc.returncode is None, "the service exited:\n" + self.log()
            try:
                response = await self.health()
                if response.code == code:
                    return response
            except (OSError, HTTPClientError):
                pass
            assert loop.time() < deadline, f"/_health never answered {code}:\n" + self.log()
            await asyncio.sleep(0.1)

    def db_pid(self) -> int:
        return json.loads((self.data_dir / "db" / "embedded.json").read_text())["pid"]

    def db_port(self) -> int:
        return json.loads((self.data_dir / "db" / "embedded.json").read_text())["port"]

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    async def kill(self) -> None:
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)
        # Not proc.wait(): asyncio returns from it only once the pipes are closed too, and
        # a surviving child (what the tests look for) keeps stderr open.
        await wait_gone([psutil.Process(self.proc.pid)], timeout=30)
        await self._end_reader()

    async def _end_reader(self) -> None:
        # A surviving child holds the service's stderr open: don't wait for its end forever.
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), 2)
            except TimeoutError:
                self._reader.cancel()

    async def stop(self, timeout: float = 60) -> float:
        """SIGTERM; return the seconds until the process was gone (SIGKILL after `timeout`)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.proc is not None and not self.killed:
            self.killed = True
            try:
                process = psutil.Process(self.proc.pid)
                os.kill(self.proc.pid, signal.SIGTERM)
            except (psutil.NoSuchProcess, ProcessLookupError):
                pass
            else:
                if await wait_gone([process], timeout):
                    process.kill()
                    await wait_gone([process], 10)
        await self._end_reader()
        return loop.time() - started

    def browser(self) -> Browser:
        return Browser(self.base)


def survivors(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


async def wait_gone(processes: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    """Wait until none of `processes` runs; return those still running after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (alive := survivors(processes)) and loop.time() < deadline:
        await asyncio.sleep(0.1)
    return alive


def kill_all(processes: list[psutil.Process]) -> None:
    """Clean up after a failed test: no process of ours outlives it."""
    for proc in survivors(processes):
        try:
            proc.kill()
        except psutil.Error:
            pass
