"""The address a request really came from.

`X-Forwarded-For` is believed only when the direct peer is a trusted proxy, and then only up to
the first hop that is not trusted: otherwise any client could rotate the header to dodge limits.
Addresses are returned in canonical form, so `::1` and `0:0::1` are one client, not two.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.types import Scope

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def _trusted(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[IpNetwork]
) -> bool:
    return any(ip in network for network in trusted)


@lru_cache(maxsize=1024)
def _is_trusted_peer(peer: str, trusted: tuple[IpNetwork, ...]) -> bool:
    # Peers are few (the proxies themselves), so the parse is cached; forwarded hops are not.
    try:
        return _trusted(ipaddress.ip_address(peer), trusted)
    except ValueError:
        return False


def client_ip(scope: Scope, trusted_proxies: Sequence[IpNetwork]) -> str:
    client = scope.get("client")
    peer = client[0] if client else UNKNOWN
    if not trusted_proxies or not _is_trusted_peer(peer, tuple(trusted_proxies)):
        return peer

    forwarded: list[str] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            forwarded.extend(value.decode("latin-1").split(","))
    # Walk from the nearest hop outwards; the first untrusted address is the client.
    for hop in reversed(forwarded):
        hop = hop.strip()
        if not hop:
            continue
        try:
            ip = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # garbage in the header: fall back to what we can see
        if not _trusted(ip, trusted_proxies):
            return str(ip)
    return peer
