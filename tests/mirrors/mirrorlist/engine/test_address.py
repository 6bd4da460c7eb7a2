import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from mirrors.mirrorlist.engine.address import ClientAddress, TrustedNetworks, client_address, parse_address

PROXIES = TrustedNetworks(["127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"])


def test_peer_unless_trusted():
    assert client_address("198.51.100.1", "192.0.2.1", PROXIES) == _reference("198.51.100.1")
    assert client_address("198.51.100.1", "192.0.2.1", TrustedNetworks([])) == _reference("198.51.100.1")
    assert client_address("127.0.0.1", None, PROXIES) == _reference("127.0.0.1")


def test_right_most_untrusted_hop():
    assert _text(client_address("127.0.0.1", "192.0.2.1, 198.51.100.7, 10.0.0.2", PROXIES)) == "198.51.100.7"
    assert _text(client_address("2001:db8::1", "192.0.2.1", PROXIES)) == "192.0.2.1"
    # Every hop a trusted proxy: the left-most one is the best we know.
    assert _text(client_address("127.0.0.1", "10.0.0.9, 10.0.0.2", PROXIES)) == "10.0.0.9"
    # A malformed hop stops the walk at the last trusted one; what lies left of it is never believed.
    assert _text(client_address("127.0.0.1", "192.0.2.1, junk, 10.0.0.2", PROXIES)) == "10.0.0.2"
    assert _text(client_address("127.0.0.1", "192.0.2.1, ", PROXIES)) == "127.0.0.1"


def test_parse_address():
    assert _text(parse_address(" ::ffff:192.0.2.1 ")) == "192.0.2.1"
    assert _text(parse_address("2001:DB8::1")) == "2001:db8::1"
    assert parse_address("192.0.2.300") is None and parse_address("") is None and parse_address("a:b:c") is None


def _reference(text):
    """What ipaddress makes of the text, as a ClientAddress."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return ClientAddress(str(address), address.version, int(address))


def _text(address):
    return None if address is None else address.text


def test_trusted_networks_match_like_ipaddress():
    for text in ["127.0.0.1", "127.255.255.255", "128.0.0.1", "10.1.2.3", "11.0.0.0", "2001:db8::1", "2001:db9::1",
                 "::ffff:10.0.0.1"]:  # fmt: skip
        reference = ipaddress.ip_address(text)
        reference = getattr(reference, "ipv4_mapped", None) or reference
        inside = any(reference in ipaddress.ip_network(cidr) for cidr in PROXIES.cidrs if
                     ipaddress.ip_network(cidr).version == reference.version)  # fmt: skip
        assert (parse_address(text) in PROXIES) == inside, text


@given(
    st.one_of(
        st.text(alphabet="0123456789.:abcdefx \x00", max_size=24),
        st.lists(st.integers(0, 300).map(str) | st.sampled_from(["00", "01", "0x1", "", "1e1"]), min_size=1,
                 max_size=5).map(".".join),
    )
)  # fmt: skip
def test_parse_address_agrees_with_ipaddress(text):
    assert parse_address(text) == _reference(text)
