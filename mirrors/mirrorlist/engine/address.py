"""The client address: the socket peer, or from X-Forwarded-For when (and only as far as) proxies are trusted.

Every mirrorlist request parses one or two addresses, so this avoids ipaddress objects on the way: IPv4 goes
through inet_pton (which takes exactly the dotted quads ipaddress takes: no leading zeros, no short forms),
and trust is a mask test on integers.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple


class ClientAddress(NamedTuple):
    text: str  # the canonical form (IPv4-mapped IPv6 given as IPv4)
    family: int  # 4 or 6
    value: int


class TrustedNetworks:
    """The proxies whose X-Forwarded-For is believed, as (family, network, mask) integers. Hashed by identity
    (the settings' copy is made once), so that lookups keyed by it stay cheap."""

    __slots__ = ("_ranges", "cidrs")

    def __init__(self, cidrs: Sequence[str]) -> None:
        networks = [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]
        self.cidrs = tuple(str(network) for network in networks)
        self._ranges = tuple((n.version, int(n.network_address), int(n.netmask)) for n in networks)

    def __bool__(self) -> bool:
        return bool(self._ranges)

    def __contains__(self, address: ClientAddress) -> bool:
        family, value = address.family, address.value
        for version, network, mask in self._ranges:
            if family == version and value & mask == network:
                return True
        return False


def parse_address(text: str) -> ClientAddress | None:
    """An address, with IPv4-mapped IPv6 turned back into IPv4; None when it is not one."""
    text = text.strip()
    if ":" not in text:
        try:
            return ClientAddress(text, 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big"))
        except (OSError, ValueError):  # ValueError: an embedded NUL
            return None
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    mapped = address.ipv4_mapped
    if mapped is not None:
        return ClientAddress(str(mapped), 4, int(mapped))
    return ClientAddress(str(address), 6, int(address))


@lru_cache(maxsize=256)
def _trusted_peer(peer: str, proxies: TrustedNetworks) -> tuple[ClientAddress | None, bool]:
    """The peer is one of a few proxies, or a client: cached, as the same peers come back all the time."""
    address = parse_address(peer)
    return address, address is not None and address in proxies


def client_address(peer: str, forwarded_for: str | None, proxies: TrustedNetworks) -> ClientAddress | None:
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
        if hop not in proxies:
            return hop
    return address
