"""The client address: the socket peer, or from X-Forwarded-For when (and only as far as) proxies are trusted."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def parse_address(text: str) -> Address | None:
    """An address, with IPv4-mapped IPv6 turned back into IPv4; None when it is not one."""
    text = text.strip()
    if ":" not in text:
        # inet_pton takes exactly the dotted quads ipaddress takes (no leading zeros, no short forms) at a
        # quarter of the cost; every request parses one or two.
        try:
            return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
        except (OSError, ValueError):  # ValueError: an embedded NUL
            return None
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


@lru_cache(maxsize=256)
def _trusted_peer(peer: str, proxies: tuple[Network, ...]) -> tuple[Address | None, bool]:
    """The peer is one of a few proxies, or a client: cached, as the same peers come back all the time."""
    address = parse_address(peer)
    return address, address is not None and _trusted(address, proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]) -> Address | None:
    """The peer, unless it is a trusted proxy: then the right-most X-Forwarded-For entry that is not a trusted
    proxy. A malformed entry stops the walk (what lies left of it cannot be trusted): the last trusted hop is
    the answer then, as it is when every entry is trusted."""
    if not forwarded_for or not proxies:
        return parse_address(peer)
    address, trusted = _trusted_peer(peer, proxies)
    if not trusted:
        return address
    for item in reversed(forwarded_for.split(",")):
        hop = parse_address(item)
        if hop is None:
            return address
        address = hop
        if not _trusted(hop, proxies):
            return hop
    return address
