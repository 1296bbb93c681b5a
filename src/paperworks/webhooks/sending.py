"""Sending one signed message to an endpoint, safely: no DB, no settings (an engine module).

Server-side request forgery is what an endpoint URL invites: a workspace admin names
`https://169.254.169.254/...` or a host whose DNS answers `10.0.0.5`, and the service posts from
inside the network. So the host is resolved here, at send time, every address it resolves to is
checked (private, loopback, link-local, multicast, reserved, cloud metadata: refused), and the
connection goes to the checked address itself, with the original name in the `Host` header and
as the TLS server name (SNI, and the certificate is verified against it). A resolver that
answers differently a second time (DNS rebinding) changes nothing: nothing resolves it again.
Proxies from the environment are ignored for the same reason. `allow_private` (tests,
on-premises) skips the checks and connects by name.

Redirects are never followed (a 3xx is a failed attempt: a redirect could point anywhere), a
response body is read up to `MAX_RESPONSE_BYTES` and kept in part, and the whole attempt has
one deadline.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import certifi
import httpx

MAX_RESPONSE_BYTES = 64 * 1024  # read at most this much of an answer
EXCERPT_CHARACTERS = 1024  # and keep this much of it
USER_AGENT = "Paperworks-Webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services, refused whatever else is said about their ranges.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)

Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: a status code (and part of the body), or an error, never both
    missing."""

    duration_ms: int
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class AddressRefused(Exception):
    """The endpoint's host is or resolves to an address deliveries may not go to."""


def refusal(address: IPAddress) -> str | None:
    """Why deliveries may not go to `address` (None: they may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for reason, flagged in (
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("an unspecified address", address.is_unspecified),
        ("a reserved address", address.is_reserved),
        ("a private address", address.is_private),
        ("not a public address", not address.is_global),
    ):
        if flagged:
            return reason
    return None


def literal_refusal(host: str) -> str | None:
    """For a host written as an IP address, why it is refused (None for a name or a public IP):
    what can be said when the URL is given, before any DNS."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    reason = refusal(address)
    return f"{address} is {reason}" if reason else None


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 scope id is no part of the check
        if address not in addresses:
            addresses.append(address)
    return addresses


async def checked_addresses(host: str, port: int, resolver: Resolver = resolve) -> list[str]:
    """The addresses to connect to for `host`: all of them public, else `AddressRefused`."""
    try:
        addresses = await resolver(host, port)
    except OSError as exc:
        raise AddressRefused(f"{host} could not be resolved: {exc}") from exc
    if not addresses:
        raise AddressRefused(f"{host} resolves to no address")
    for address in addresses:
        reason = refusal(ipaddress.ip_address(address))
        if reason is not None:
            raise AddressRefused(f"{host} resolves to {address}, {reason}: refused")
    return addresses


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for the process (making one reads the CA bundle: ~10 ms)."""
    return ssl.create_default_context(cafile=certifi.where())


async def send(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    time_limit: float,
    allow_private: bool = False,
    resolver: Resolver = resolve,
) -> Outcome:
    """POST `body` to `url` once; never raises for what the endpoint or the network does."""
    started = time.perf_counter()

    def outcome(**values: object) -> Outcome:
        elapsed = round((time.perf_counter() - started) * 1000)
        return Outcome(duration_ms=elapsed, **values)  # type: ignore[arg-type]

    try:
        async with asyncio.timeout(time_limit):
            return await _send(url, body, headers, time_limit, allow_private, resolver, outcome)
    except TimeoutError:
        return outcome(error=f"No answer within {time_limit:g} s (timed out).")
    except AddressRefused as exc:
        return outcome(error=str(exc))


async def _send(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    time_limit: float,
    allow_private: bool,
    resolver: Resolver,
    outcome: Callable[..., Outcome],
) -> Outcome:
    target = httpx.URL(url)
    host = target.host
    port = target.port or (443 if target.scheme == "https" else 80)
    sent_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",  # the capped read is of the body as sent, not inflated
        **headers,
        "Host": target.netloc.decode("ascii"),
    }
    # (URL to connect to, request extensions): by name, or each checked address in turn.
    tries: list[tuple[httpx.URL, dict[str, object]]]
    if allow_private:
        tries = [(target, {})]
    else:
        addresses = await checked_addresses(host, port, resolver)
        sni = {"sni_hostname": host} if target.scheme == "https" else {}
        tries = [(target.copy_with(host=address), dict(sni)) for address in addresses]
    last_error = "no address to connect to"
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(time_limit),
        follow_redirects=False,
        trust_env=False,  # no proxy from the environment: the checked address is where we go
        verify=_tls_context(),
    ) as client:
        for connect_to, extensions in tries:
            try:
                request = client.build_request(
                    "POST", connect_to, content=body, headers=sent_headers, extensions=extensions
                )
                response = await client.send(request, stream=True)
            except httpx.ConnectError as exc:  # this address is down: the next one may answer
                last_error = f"Could not connect: {exc or type(exc).__name__}"
                continue
            except httpx.TimeoutException:
                return outcome(error=f"No answer within {time_limit:g} s (timed out).")
            except httpx.HTTPError as exc:
                return outcome(error=f"{type(exc).__name__}: {exc}"[:500])
            try:
                excerpt = await _read_capped(response)
            except httpx.HTTPError as exc:
                return outcome(status_code=response.status_code, error=f"Reading the answer: {exc}")
            finally:
                await response.aclose()
            return outcome(status_code=response.status_code, response_body=excerpt)
    return outcome(error=last_error[:500])


async def _read_capped(response: httpx.Response) -> str:
    """Up to `MAX_RESPONSE_BYTES` of the body (the rest is never read), its start as text."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= MAX_RESPONSE_BYTES:
            break
    text = bytes(kept[:MAX_RESPONSE_BYTES]).decode("utf-8", errors="replace")
    return text[:EXCERPT_CHARACTERS]
