import ipaddress

from mirrors.mirrorlist.engine.address import client_address, parse_address, parse_networks

PROXIES = parse_networks(["127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"])


def test_peer_unless_trusted():
    assert client_address("198.51.100.1", "192.0.2.1", PROXIES) == ipaddress.ip_address("198.51.100.1")
    assert client_address("198.51.100.1", "192.0.2.1", ()) == ipaddress.ip_address("198.51.100.1")
    assert client_address("127.0.0.1", None, PROXIES) == ipaddress.ip_address("127.0.0.1")


def test_right_most_untrusted_hop():
    assert str(client_address("127.0.0.1", "192.0.2.1, 198.51.100.7, 10.0.0.2", PROXIES)) == "198.51.100.7"
    assert str(client_address("2001:db8::1", "192.0.2.1", PROXIES)) == "192.0.2.1"
    # Every hop a trusted proxy: the left-most one is the best we know.
    assert str(client_address("127.0.0.1", "10.0.0.9, 10.0.0.2", PROXIES)) == "10.0.0.9"
    # A malformed hop stops the walk at the last trusted one; what lies left of it is never believed.
    assert str(client_address("127.0.0.1", "192.0.2.1, junk, 10.0.0.2", PROXIES)) == "10.0.0.2"
    assert str(client_address("127.0.0.1", "192.0.2.1, ", PROXIES)) == "127.0.0.1"


def test_parse_address():
    assert str(parse_address(" ::ffff:192.0.2.1 ")) == "192.0.2.1"
    assert str(parse_address("2001:DB8::1")) == "2001:db8::1"
    assert parse_address("192.0.2.300") is None and parse_address("") is None and parse_address("a:b:c") is None
