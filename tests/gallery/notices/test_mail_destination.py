"""A gallery's own SMTP server cannot be used to probe the host's network (issue 11, item 12):
loopback, link-local and private destinations are refused unless the host allows them, and
every way of not reaching a server gives the same error. Real sockets, a real aiosmtpd."""

from __future__ import annotations

import asyncio

import pytest

from gallery.notices.mail import deliver
from gallery.notices.mail_destination import (
    NOT_REACHED,
    MailDestinationRefused,
    MailServerUnreachable,
    is_public,
)
from gallery.settings import update_settings
from tests.client import text
from tests.mail_server import _free_port, mail_config

INTERNAL = [
    "127.0.0.1",
    "localhost",
    "127.1.2.3",
    "::1",
    "169.254.169.254",
    "10.0.0.5",
    "172.16.4.4",
    "192.168.1.10",
    "100.64.0.1",
    "0.0.0.0",
    "::ffff:127.0.0.1",
    "fe80::1",
    "fd00::1",
    "224.0.0.1",
]


def test_only_public_unicast_addresses_count_as_public():
    assert all(
        not is_public(a)
        for a in [
            "127.0.0.1",
            "::1",
            "169.254.169.254",
            "10.1.1.1",
            "192.168.0.1",
            "100.64.0.1",
            "fe80::1",
            "fd12::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
            "239.1.1.1",
        ]
    )
    assert is_public("93.184.216.34") and is_public("2606:2800:220:1:248:1893:25c8:1946")


@pytest.fixture
def config(make_config, mail_sink):
    # Production's default: galleries may not use private mail servers.
    return mail_config(make_config, mail_sink, **{"smtp.allow_private_tenant_servers": False})


async def _own_server(ctx, host: str, port: int) -> None:
    await update_settings(ctx, {"smtp_host": host, "smtp_port": port})


async def test_internal_destinations_are_refused_without_the_host_setting(
    app, make_gallery, mail_sink
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    for host in INTERNAL:
        await _own_server(ctx, host, mail_sink.port)
        with pytest.raises(MailDestinationRefused):
            await deliver(ctx, app.services.config, ["ops@example.org"], "test", {})
    assert mail_sink.messages == []

    # Through the admin's test message: the refusal is what the page reports.
    await _own_server(ctx, "127.0.0.1", mail_sink.port)
    admin = app.browser()
    await admin.login(gallery["prefix"], "admin", gallery["password"])
    sent = await admin.post_form(gallery["prefix"] + "/admin/email", {"to": "ops@example.org"})
    async with asyncio.timeout(20):
        while "private, loopback or link-local" not in text(
            await admin.get(sent.headers["Location"])
        ):
            await asyncio.sleep(0.05)
    assert mail_sink.messages == []

    # Only a port of the tenant's choosing on the host's server (localhost here) is a
    # probe of the host's own ports too.
    await update_settings(ctx, {"smtp_host": "", "smtp_port": mail_sink.port})
    with pytest.raises(MailDestinationRefused):
        await deliver(ctx, app.services.config, ["ops@example.org"], "test", {})
    assert mail_sink.messages == []

    # The host's own server (no tenant override) is the operator's choice: it is used.
    await update_settings(ctx, {"smtp_host": "", "smtp_port": 0})
    await deliver(ctx, app.services.config, ["ops@example.org"], "test", {})
    await mail_sink.wait_for("ops@example.org", "Test message")


async def test_with_the_host_setting_a_private_server_works(
    app, make_gallery, mail_sink, make_config
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    allowed = mail_config(make_config, mail_sink)
    assert allowed.smtp.allow_private_tenant_servers
    await _own_server(ctx, "127.0.0.1", mail_sink.port)
    await deliver(ctx, allowed, ["ops@example.org"], "test", {})
    await mail_sink.wait_for("ops@example.org", "Test message")


async def test_every_unreachable_server_gives_the_same_error(
    app, make_gallery, make_config, mail_sink
):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    allowed = mail_config(make_config, mail_sink, **{"smtp.timeout": 1})

    async def speaks_http(reader, writer):
        writer.write(b"HTTP/1.1 400 Bad Request\r\nServer: internal-admin\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def hangs_up(reader, writer):
        writer.close()
        await writer.wait_closed()

    async def says_nothing(reader, writer):
        await reader.read()  # until the client gives up
        writer.close()
        await writer.wait_closed()

    servers = [
        await asyncio.start_server(h, "127.0.0.1", 0) for h in (speaks_http, hangs_up, says_nothing)
    ]
    ports = [s.sockets[0].getsockname()[1] for s in servers] + [_free_port()]  # last: closed
    answers = []
    try:
        for port in ports:
            await _own_server(ctx, "127.0.0.1", port)
            with pytest.raises(MailServerUnreachable) as caught:
                await deliver(ctx, allowed, ["ops@example.org"], "test", {})
            answers.append(caught.value.message)
        await _own_server(ctx, "no-such-host.invalid", 25)
        with pytest.raises(MailServerUnreachable) as caught:
            await deliver(ctx, allowed, ["ops@example.org"], "test", {})
        answers.append(caught.value.message)
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()
    assert answers == [NOT_REACHED] * 5
