"""Where a tenant's own SMTP server may be, and the connection to it.

A tenant admin chooses `smtp_host`/`smtp_port` and sees the outcome of a test message:
without limits that is a port scanner for the host's own network (loopback services,
private ranges, the cloud metadata address at 169.254.169.254), telling open from closed
ports by the error. So for a tenant-level server every address the name resolves to
must be public (unless the host's `smtp.allow_private_tenant_servers` says otherwise),
the connection is made here to an address that was checked (a second lookup by the SMTP
library could answer differently: DNS rebinding), and every way of not reaching the
server ends in one generic error.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from gallery.errors import GalleryError

log = logging.getLogger("atrium.mail")

NOT_REACHED = "Could not connect to the mail server."
LOGIN_REFUSED = "The mail server did not accept the SMTP user name or password."


class MailDestinationRefused(GalleryError):
    """The tenant's SMTP server is on an address tenants may not use."""

    status = 400
    code = "mail_server_refused"


class MailServerUnreachable(GalleryError):
    """Any failure to reach the SMTP server: one message, whatever the cause."""

    status = 502
    code = "mail_server_unreachable"


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (not loopback, link-local, private,
    shared, reserved, multicast or unspecified; IPv4 mapped into IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def connect(
    hostname: str, port: int, timeout: float, *, allow_private: bool
) -> socket.socket:
    """A connected socket to the tenant's SMTP server, on a checked address."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError) as exc:
        log.warning("tenant SMTP server %s:%s not resolved: %s", hostname, port, exc)
        raise MailServerUnreachable(NOT_REACHED) from None
    if not infos:
        raise MailServerUnreachable(NOT_REACHED)
    if not allow_private:
        # Every answer, not just the first: a name with one public and one private
        # address would otherwise be a coin toss away from the private one.
        for *_, sockaddr in infos:
            if not is_public(sockaddr[0]):
                raise MailDestinationRefused(
                    "This mail server is on a private, loopback or link-local address, "
                    "which galleries may not use. Choose a public mail server, or leave "
                    "the SMTP server empty to use the host's."
                )
    last: Exception | None = None
    for family, type_, proto, _, sockaddr in infos:
        sock = socket.socket(family, type_, proto)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(timeout):
                await loop.sock_connect(sock, sockaddr)
            return sock
        except (OSError, TimeoutError) as exc:
            sock.close()
            last = exc
    log.warning("tenant SMTP server %s:%s not reached: %s", hostname, port, last)
    raise MailServerUnreachable(NOT_REACHED)
