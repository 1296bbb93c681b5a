"""The address a request really came from.

`X-Forwarded-For` is believed only when the direct peer is a trusted proxy, and then only up to
the first hop that is not trusted: otherwise any client could rotate the header to dodge limits.
Addresses are returned in canonical form, so `::1` and `0:0::1` are one client, not two, and an
IPv4 address mapped into IPv6 (`::ffff:203.0.113.5`, what a dual-stack socket reports) is the IPv4
address: one client gets one rate budget whichever way it connected.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache

from starlette.types import Scope

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"


def _parse(text: str) -> tuple[str, IpAddress]:
    """The address `text` names, in canonical form and parsed, IPv4-mapped IPv6 as IPv4;
    ValueError if it names none."""
    text = text.strip()
    try:
        # Most addresses are IPv4 in canonical form already: the C parser checks that in a
        # tenth of ipaddress's time (it is as strict: four decimal parts, no leading zeros).
        packed = socket.inet_pton(socket.AF_INET, text)
    except OSError:
        pass
    else:
        return text, ipaddress.IPv4Address(packed)
    ip = ipaddress.ip_address(text)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip), ip


def _trusted(ip: IpAddress, trusted: Sequence[IpNetwork]) -> bool:
    return any(ip in network for network in trusted)


@lru_cache(maxsize=4096)
def _peer(peer: str) -> tuple[str, IpAddress | None]:
    # The same peers come back request after request, so their parse is cached.
    try:
        return _parse(peer)
    except ValueError:
        return peer, None  # a Unix socket, a test client: kept as it is


def client_ip(scope: Scope, trusted_proxies: Sequence[IpNetwork]) -> str:
    client = scope.get("client")
    peer, peer_ip = _peer(client[0]) if client else (UNKNOWN, None)
    if not trusted_proxies or peer_ip is None or not _trusted(peer_ip, trusted_proxies):
        return peer

    forwarded: list[str] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            forwarded.extend(value.decode("latin-1").split(","))
    # Walk from the nearest hop outwards; the first untrusted address is the client.
    for hop in reversed(forwarded):
        if not hop.strip():
            continue
        try:
            address, ip = _parse(hop)
        except ValueError:
            return peer  # garbage in the header: fall back to what we can see
        if not _trusted(ip, trusted_proxies):
            return address
    return peer
