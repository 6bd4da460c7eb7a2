"""Which addresses a fetch may reach, and name resolution (core.net.guard re-exports both)."""

from __future__ import annotations

import ipaddress
import socket

from core.net.errors import FetchFailed

FAMILIES = {0: socket.AF_UNSPEC, 4: socket.AF_INET, 6: socket.AF_INET6}
# Well-known prefixes that embed an IPv4 address; the embedded address is judged instead.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def address_allowed(address: str, *, allow_private: bool) -> bool:
    """Whether a connection to this IP address may be made (False for anything not an IP address)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if ip.is_unspecified or ip.is_multicast:
        return False  # never a real peer, whatever the setting
    if allow_private:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return address_allowed(str(embedded), allow_private=False)
        if ip in _NAT64_LOCAL or ip.is_site_local:
            return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int, family: int = 0) -> list[str]:
    """The addresses a name resolves to (in the resolver's order, without repeats); FetchFailed if none."""
    try:
        infos = socket.getaddrinfo(host, port, FAMILIES[family], socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise FetchFailed(f"could not resolve {host}: {error.strerror or error}") from error
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    if not addresses:
        raise FetchFailed(f"{host} has no {'IPv' + str(family) if family else 'IP'} address")
    return addresses
