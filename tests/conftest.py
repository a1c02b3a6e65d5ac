"""Test fixtures: the real application on a temporary data directory.

One embedded database server (the product's own, started the product's way) serves the
whole test session; every test gets a fresh database prefix and data directory, so
tests never see each other's tenants.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
import pytest_asyncio

from server.config import load_config
from server.embedded_db import EmbeddedDatabase
from tests import template_coverage
from tests.client import Browser

_counter = itertools.count()
template_coverage.install()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """Under pytest-xdist each worker renders its share: the controller gathers them all."""
    template_coverage.rendered.update(getattr(node, "workeroutput", {}).get("rendered_templates", ()))


def pytest_sessionfinish(session, exitstatus):
    """A whole-suite run names any template nothing rendered (tests/template_coverage.py)."""
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: the controller judges the whole run
        worker_output["rendered_templates"] = sorted(template_coverage.rendered)
        return
    whole_suite = not session.config.args or all(
        Path(arg).resolve() == Path(__file__).parent for arg in session.config.args
    )
    option = session.config.option
    # A run of part of the suite cannot judge: -k, -m, --deselect, --last-failed, collect-only.
    narrowed = (option.keyword or option.markexpr or getattr(option, "deselect", None)
                or getattr(option, "lf", False) or option.collectonly)
    if not whole_suite or narrowed or session.testscollected == 0:
        return
    missing = template_coverage.never_rendered()
    # Named even when tests failed (a failed test may have been the one rendering a template:
    # then the list says so too); on an otherwise green run a template nothing rendered fails it.
    if missing and exitstatus != 0:
        print(f"\nRendered by no test in this (failed) run: {', '.join(missing)}")
    elif missing:
        print(f"\nThese templates were rendered by no test (write the test that renders each): "
              f"{', '.join(missing)}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def embedded_db():
    root = Path(tempfile.mkdtemp(prefix="atrium-test-db-"))
    db = EmbeddedDatabase(root)
    db.start()
    yield db
    db.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def make_config(embedded_db, tmp_path):
    """Build a config for this test; keyword overrides use dotted keys."""

    def make(**overrides):
        values = {
            "paths.data_dir": str(tmp_path / "data"),
            "database.uri": embedded_db.uri,
            "database.prefix": f"t{os.getpid()}x{next(_counter)}_",
            "security.host_secret": "test-secret-" + "x" * 40,
            "server.base_domain": "atrium.test",
            "logging.access_log": False,
            "jobs.workers": 0,
            # The cheapest argon2id the service accepts (production refuses it): the suite
            # signs in thousands of times; tests/gallery/people/test_password_cost.py keeps
            # the default cost and the rehash covered.
            "security.password_memory_kb": 1024,
            "security.password_rounds": 1,
            "security.password_parallelism": 1,
        }
        values.update({k.replace("__", "."): v for k, v in overrides.items()})
        return load_config(None, env={}, overrides=values)

    return make


@pytest.fixture
def config(make_config):
    return make_config()


@pytest_asyncio.fixture
async def services(config):
    from server.services import build_services

    services = await build_services(config)
    yield services
    for name in await services.client.list_database_names():
        if name.startswith(config.database.prefix):
            await services.client.drop_database(name)
    await services.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningApp:
    def __init__(self, services, port):
        self.services = services
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def browser(self, host: str | None = None) -> Browser:
        """A client with its own cookie jar; `host` sets the Host header (tenant hostnames)."""
        return Browser(self.base, host=host)


@pytest_asyncio.fixture
async def app(services):
    from tornado.httpserver import HTTPServer

    from server.app import make_app
    from server.runtime import start_background, stop_background

    application = make_app(services)
    port = _free_port()
    server = HTTPServer(application, xheaders=False, max_body_size=services.config.limits.max_request_mb * 1024 * 1024)
    server.listen(port, address="127.0.0.1")
    if services.config.jobs.workers:
        await start_background(services)
    yield RunningApp(services, port)
    server.stop()
    await stop_background(services)
    await server.close_all_connections()


@pytest_asyncio.fixture
async def make_gallery(app):
    """Create and install a tenant; returns a dict with slug, admin credentials and context."""
    from tenants.installer import finish_install
    from tenants.provision import create_tenant

    async def make(slug: str = "alpha", title: str = "Alpha Gallery", hostnames=None):
        registry = app.services.registry
        _record, token = await create_tenant(registry, slug, title, hostnames or [], f"admin@{slug}.test")
        ctx = await registry.context_for_slug(slug)
        password = "Correct-Horse-Battery-9"
        await finish_install(registry, ctx, token, {
            "title": title, "username": "admin", "email": f"admin@{slug}.test",
            "password": password, "password2": password,
        })
        ctx = await registry.context_for_slug(slug)
        return {"slug": slug, "ctx": ctx, "username": "admin", "password": password, "prefix": f"/g/{slug}"}

    return make


@pytest.fixture
def make_jpeg(tmp_path):
    """Write a JPEG of the given size (a colour gradient) and return its path."""
    from PIL import Image

    counter = itertools.count()

    def make(width: int = 640, height: int = 480, name: str | None = None, color=(200, 30, 30)):
        n = next(counter)
        path = tmp_path / (name or f"image-{n}.jpg")
        image = Image.new("RGB", (width, height), color)
        for x in range(0, width, max(1, width // 16)):
            image.paste((x % 256, 120, 255 - x % 256), (x, 0, min(width, x + 4), height))
        # Each call is another photo (its own bytes, same pixels), as a camera's are: uploads
        # of the same content into one album are skipped as duplicates (gallery.intake.duplicates).
        image.save(path, "JPEG", quality=85, comment=f"test photo {n} {tmp_path.name}")
        return path

    return make


@pytest.fixture
def viewer_of():
    """The permission viewer of a user (by name) or of an anonymous visitor (None)."""
    from gallery.people.permissions import viewer_for
    from gallery.settings import get_settings

    async def make(ctx, username: str | None = "admin"):
        user = await ctx.db.users.find_one({"username_key": username.lower()}) if username else None
        return await viewer_for(ctx, user, await get_settings(ctx))

    return make


@pytest.fixture
def mail_sink():
    """A real SMTP server (aiosmtpd) that keeps the messages it receives."""
    from tests.mail_server import MailSink

    sink = MailSink()
    sink.start()
    yield sink
    sink.stop()
