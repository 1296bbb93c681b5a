"""The address a request really came from.

`X-Forwarded-For` is believed only when the direct peer is a trusted proxy, and then only up to
the first hop that is not trusted: otherwise any client could rotate the header to dodge limits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def _is_trusted(address: str, trusted: Sequence[IpNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_ip(scope: Scope, trusted_proxies: Sequence[IpNetwork]) -> str:
    client = scope.get("client")
    peer = client[0] if client else UNKNOWN
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer

    forwarded: list[str] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    # Walk from the nearest hop outwards; the first untrusted address is the client.
    for hop in reversed([hop for hop in forwarded if hop]):
        if not _is_trusted(hop, trusted_proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage in the header: fall back to what we can see
    return peer
