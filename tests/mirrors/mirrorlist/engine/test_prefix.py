import ipaddress

import pytest

from mirrors.mirrorlist.engine.prefix import PrefixIndex, parse_cidr


def _lookup(index, ip):
    address = ipaddress.ip_address(ip)
    return [(m.cidr, m.host_ids) for m in index.lookup(address.version, int(address))]


def test_most_specific_first_and_families_apart():
    index = PrefixIndex(
        [parse_cidr("10.0.0.0/8", 1), parse_cidr("10.1.0.0/16", 2), parse_cidr("10.1.2.0/24", 3),
         parse_cidr("10.1.2.0/24", 4), parse_cidr("2001:db8::/32", 5), parse_cidr("0.0.0.0/0", 6)]
    )  # fmt: skip
    assert _lookup(index, "10.1.2.3") == [
        ("10.1.2.0/24", (3, 4)), ("10.1.0.0/16", (2,)), ("10.0.0.0/8", (1,)), ("0.0.0.0/0", (6,))
    ]  # fmt: skip
    assert _lookup(index, "10.9.0.1") == [("10.0.0.0/8", (1,)), ("0.0.0.0/0", (6,))]
    assert _lookup(index, "2001:db8:1::1") == [("2001:db8::/32", (5,))]
    assert _lookup(index, "2001:db9::1") == []
    assert index.size == 6 and len(index.entries()) == 6


def test_host_bits_are_cleared_and_garbage_refused():
    assert parse_cidr("192.0.2.77/24", 1).cidr == "192.0.2.0/24"
    with pytest.raises(ValueError):
        parse_cidr("not-a-network", 1)


def test_against_ipaddress_on_random_blocks():
    import random

    rng = random.Random(7)
    blocks = []
    for host_id in range(300):
        length = rng.randint(8, 30)
        net = ipaddress.ip_network((rng.getrandbits(32), length), strict=False)
        blocks.append((net, host_id))
    index = PrefixIndex(parse_cidr(str(net), host_id) for net, host_id in blocks)
    for _ in range(300):
        ip = ipaddress.ip_address(rng.getrandbits(32)) if rng.random() < 0.5 else rng.choice(blocks)[0][1]
        expected = {host_id for net, host_id in blocks if ip in net}
        got = [host_id for match in index.lookup(4, int(ip)) for host_id in match.host_ids]
        assert set(got) == expected


def test_parse_cidr_agrees_with_ipaddress():
    for text in ["192.0.2.77/24", "10.0.0.0/8", "0.0.0.0/0", "192.0.2.1", "2001:db8::1/32", "::/0", "2001:db8::5",
                 "::ffff:192.0.2.1/120"]:  # fmt: skip
        expected = ipaddress.ip_network(text, strict=False)
        assert parse_cidr(text, 1).cidr == str(expected), text
    for bad in ["192.0.2.0/33", "192.0.2.0/-1", "192.0.2/24", "2001:db8::/129", "x/8", "192.0.2.0/ 8", ""]:
        with pytest.raises(ValueError):
            parse_cidr(bad, 1)
