"""The real service as a child process (`python -m server run`) on a test's data directory
and database, to be killed with SIGKILL at a chosen moment and started again on the same
data: what a crash or `kill -9` does to a deployment.

A moment is chosen with a failpoint (gallery/failpoints.py): the process freezes there
and prints "failpoint NAME reached", and the test kills it then.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from tests.client import Browser

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """One run of the service; `start` again after `kill` for the restart."""

    def __init__(self, config, **settings):
        self.config = config
        self.settings = settings  # extra keys: {"jobs.workers": 1, ...}
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        # Its log goes to a file, not a pipe: children a killed service leaves behind would
        # hold a pipe open.
        self.log_path = Path(config.paths.data_dir).parent / f"service-{self.port}.log"
        self._log_start = 0

    def env(self, failpoint: str | None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATRIUM_")}
        values = {
            "database.uri": self.config.database.uri,
            "database.prefix": self.config.database.prefix,
            "security.host_secret": self.config.security.host_secret,
            "security.password_memory_kb": self.config.security.password_memory_kb,
            "security.password_rounds": self.config.security.password_rounds,
            "security.password_parallelism": self.config.security.password_parallelism,
            "server.base_domain": self.config.server.base_domain,
            "server.port": self.port,
            "logging.access_log": "false",
            "jobs.workers": 1,
            "limits.image_workers": 1,
            **self.settings,
        }
        for key, value in values.items():
            env["ATRIUM_" + key.replace(".", "_").upper()] = str(value)
        if failpoint:
            env["ATRIUM_FAILPOINT"] = failpoint
        return env

    async def start(self, failpoint: str | None = None) -> None:
        """Start and wait until it answers /_health."""
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = await asyncio.to_thread(open, self.log_path, "ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "server", "--data-dir", str(self.config.paths.data_dir),
                "run", "--port", str(self.port),
                cwd=ROOT, env=self.env(failpoint),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )
        finally:
            log.close()  # the child has its own descriptor
        client = AsyncHTTPClient()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while True:
            assert self.proc.returncode is None, "the service exited:\n" + "\n".join(self.lines)
            try:
                response = await client.fetch(f"{self.base}/_health", raise_error=False)
                if response.code == 200:
                    return
            except (OSError, HTTPClientError):
                pass
            assert loop.time() < deadline, "the service did not start:\n" + "\n".join(self.lines)
            await asyncio.sleep(0.1)

    @property
    def lines(self) -> list[str]:
        """What this run of the service has logged so far."""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace").splitlines()

    async def wait_for_line(self, text: str, timeout: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.returncode is None, f"exited before {text!r}:\n" + "\n".join(self.lines)
            assert loop.time() < deadline, f"never printed {text!r}:\n" + "\n".join(self.lines)
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL, as `kill -9`: nothing of the service runs after it."""
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                await self.kill()

    def browser(self) -> Browser:
        return Browser(self.base)


async def cli_killed_at(config, failpoint: str, *args: str) -> None:
    """Run `python -m server --data-dir … ARGS` as its own process until it reports
    `failpoint`, then `kill -9` it: the command's worst moment, for crash tests."""
    env = ServiceProcess(config).env(failpoint)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--data-dir", str(config.paths.data_dir), *args,
        cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    seen = []
    try:
        while True:
            line = await asyncio.wait_for(proc.stderr.readline(), 60)
            assert line, f"{args[:2]} ended before its failpoint:\n" + "".join(seen)
            seen.append(line.decode())
            if f"failpoint {failpoint} reached" in seen[-1]:
                break
    finally:
        proc.kill()
        await proc.wait()
