"""The host database's schema (gallery/migrations/host_steps/): recorded at start-up, and a
host database written by a newer release stops start-up with one clear line, untouched."""

from __future__ import annotations

import asyncio
import sys

from gallery.migrations import runner
from tests.service_process import ROOT, ServiceProcess


async def test_start_records_the_host_schema_and_refuses_a_newer_one(config, services):
    host_db = services.host_db
    service = ServiceProcess(config)
    await service.start()
    await service.stop()
    assert await runner.stored_version(host_db) == runner.HOST_SCHEMA_VERSION

    await host_db.meta.update_one({"_id": "schema"}, {"$set": {"version": runner.HOST_SCHEMA_VERSION + 1}})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--data-dir", str(config.paths.data_dir), "run", "--port", str(service.port),
        cwd=ROOT, env=service.env(None), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert "host database: the database has schema version" in err.decode() and "newer" in err.decode()
    assert await runner.stored_version(host_db) == runner.HOST_SCHEMA_VERSION + 1
    assert await runner.claim_state(host_db) is None or (await runner.claim_state(host_db))["owner"] is None
