import ipaddress

import pytest

from paperworks.kit.client_ip import client_ip

TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")]


def scope(peer: str | None, forwarded: str | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"client": (peer, 1234) if peer else None, "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", None, TRUSTED, "203.0.113.9"),
        # An untrusted peer cannot claim another address.
        ("203.0.113.9", "198.51.100.1", TRUSTED, "203.0.113.9"),
        # Nothing is trusted by default, not even a proxy on a private address.
        ("10.0.0.2", "198.51.100.1", [], "10.0.0.2"),
        ("10.0.0.2", "198.51.100.1", TRUSTED, "198.51.100.1"),
        # The client prepends whatever it likes; the nearest untrusted hop is the truth.
        ("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.7", TRUSTED, "198.51.100.1"),
        ("::1", "2001:db8::5", TRUSTED, "2001:db8::5"),
        ("10.0.0.2", "10.0.0.3", TRUSTED, "10.0.0.2"),
        ("10.0.0.2", "not-an-address", TRUSTED, "10.0.0.2"),
        ("10.0.0.2", "", TRUSTED, "10.0.0.2"),
        (None, None, TRUSTED, "unknown"),
        # An IPv4 client on a dual-stack socket is the same client, with the same rate budget.
        ("::ffff:203.0.113.5", None, TRUSTED, "203.0.113.5"),
        ("::ffff:cb00:7105", None, [], "203.0.113.5"),
        ("0:0::1", None, [], "::1"),
        # A mapped proxy is the proxy; a mapped forwarded hop is the IPv4 client.
        ("::ffff:10.0.0.2", "198.51.100.1", TRUSTED, "198.51.100.1"),
        ("10.0.0.2", "::ffff:198.51.100.1", TRUSTED, "198.51.100.1"),
        ("10.0.0.2", "::ffff:10.0.0.3", TRUSTED, "10.0.0.2"),
    ],
)
def test_client_ip(
    peer: str | None, forwarded: str | None, trusted: list[object], expected: str
) -> None:
    assert client_ip(scope(peer, forwarded), trusted) == expected  # type: ignore[arg-type]
