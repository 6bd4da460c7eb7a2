import ipaddress

from hypothesis import given
from hypothesis import strategies as st

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


def _reference(text):
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


@given(
    st.one_of(
        st.text(alphabet="0123456789.:abcdefx \x00", max_size=24),
        st.lists(st.integers(0, 300).map(str) | st.sampled_from(["00", "01", "0x1", "", "1e1"]), min_size=1,
                 max_size=5).map(".".join),
    )
)  # fmt: skip
def test_parse_address_agrees_with_ipaddress(text):
    assert parse_address(text) == _reference(text)
