"""Connecting to the database: the embedded server or a MongoDB URI, with bounded retries."""

from __future__ import annotations

import asyncio
import logging
import time

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from server.config import Config
from server.embedded_db import EmbeddedDatabase

log = logging.getLogger("atrium.db")


class DatabaseUnavailable(Exception):
    """The database could not be reached within the configured time."""


async def connect(config: Config, reuse_embedded: bool = True):
    """Return (client, embedded-or-None) once the database answers `ping`."""
    embedded = None
    uri = config.database.uri
    if not uri:
        embedded = EmbeddedDatabase(config.data_dir)
        uri = await asyncio.to_thread(
            embedded.start, float(config.database.connect_timeout), reuse_embedded
        )
    client = AsyncMongoClient(uri, serverSelectionTimeoutMS=2000, tz_aware=True, connect=False)
    deadline = time.monotonic() + config.database.connect_timeout
    delay = 0.2
    while True:
        try:
            await client.admin.command("ping")
            return client, embedded
        except PyMongoError as exc:
            if time.monotonic() >= deadline:
                await client.close()
                if embedded:
                    embedded.stop()
                raise DatabaseUnavailable(
                    f"database at {_redact(uri)} did not answer within "
                    f"{config.database.connect_timeout}s: {exc.__class__.__name__}"
                ) from None
            log.warning("database not reachable yet (%s); retrying", exc.__class__.__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def _redact(uri: str) -> str:
    """Hide a password in a URI before it is printed."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
