"""The client address: the socket peer, or from X-Forwarded-For when (and only as far as) proxies are trusted."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def parse_address(text: str) -> Address | None:
    """An address, with IPv4-mapped IPv6 turned back into IPv4; None when it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: tuple[Network, ...]) -> Address | None:
    """The peer, unless it is a trusted proxy: then the right-most X-Forwarded-For entry that is not a trusted
    proxy. A malformed entry stops the walk (what lies left of it cannot be trusted): the last trusted hop is
    the answer then, as it is when every entry is trusted."""
    address = parse_address(peer)
    if address is None or not forwarded_for or not proxies or not _trusted(address, proxies):
        return address
    for item in reversed(forwarded_for.split(",")):
        hop = parse_address(item)
        if hop is None:
            return address
        address = hop
        if not _trusted(hop, proxies):
            return hop
    return address
