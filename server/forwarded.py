"""Client address and scheme from a reverse proxy's headers, believed only from our proxies.

Tornado's own `xheaders=True` believes `X-Real-Ip` and `X-Forwarded-For` from whoever
connects, so a client could choose the address the sign-in throttle counts. Here, with
`server.xheaders` on, the headers count only when the connection comes from an address in
`server.trusted_proxies`; the client is then the right-most address of `X-Forwarded-For`
that is not itself a trusted proxy (each proxy appends the address it saw, so everything to
the left of that is the client's to invent), else the proxy's `X-Real-IP`.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks (`127.0.0.1, 10.0.0.0/8, ::1`); ValueError names
    the first that is neither."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(networks)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address, proxies: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in proxies)


def apply_forwarded(request, proxies: tuple[Network, ...]) -> None:
    """Set `request.remote_ip` and `request.protocol` from the proxy's headers, if the peer
    is a trusted proxy; otherwise leave the connection's own values."""
    if not _trusted(_address(request.remote_ip or ""), proxies):
        return
    headers = request.headers
    client = None
    hops = ",".join(headers.get_list("X-Forwarded-For")).split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a malformed hop: what lies left of it cannot be told apart from invention
        if not _trusted(address, proxies):
            client = address
            break
    if client is None:
        client = _address(headers.get("X-Real-Ip", ""))
    if client is not None:
        request.remote_ip = str(client)
    proto = headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    if proto in ("http", "https"):
        request.protocol = proto
