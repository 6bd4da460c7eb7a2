"""Each bad input gets a message that says what is wrong (and, where it can, what would be right)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_countries import countries

from mirrors.geo_tables import COUNTRY_CONTINENT, GEOIP_ONLY_COUNTRIES, continent_of
from mirrors.registry.validation import asn_check, cidr_normalise, country_check, host_name_check, url_check


def message(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return " ".join(caught.value.messages)


def test_every_country_has_a_continent():
    assert {code for code, _name in countries} == set(COUNTRY_CONTINENT) - set(GEOIP_ONLY_COUNTRIES)
    assert set(COUNTRY_CONTINENT.values()) == {"AF", "AN", "AS", "EU", "NA", "OC", "SA"}
    assert (continent_of("de"), continent_of("BR"), continent_of("NZ"), continent_of("ZA")) == ("EU", "SA", "OC", "AF")


@pytest.mark.parametrize(
    ("given", "normalised"),
    [("192.0.2.0/24", "192.0.2.0/24"), (" 10.0.0.0/16 ", "10.0.0.0/16"), ("2001:DB8::/32", "2001:db8::/32")],
)
def test_networks_are_normalised(given, normalised):
    assert cidr_normalise(given) == normalised


def test_host_bits_are_refused_with_the_network_suggested():
    assert "host bits set; the network is 192.0.2.0/24" in message(cidr_normalise, "192.0.2.1/24")
    assert "the network is 2001:db8::/32" in message(cidr_normalise, "2001:db8::1/32")


@pytest.mark.parametrize(("wide", "limit"), [("10.0.0.0/8", "/16"), ("2001:db8::/29", "/32"), ("0.0.0.0/0", "/16")])
def test_wide_networks_are_for_admins_only(wide, limit):
    assert f"wider than {limit}" in message(cidr_normalise, wide)
    assert cidr_normalise(wide, admin=True) == wide


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "Enter a network"),
        ("banana/24", "not an IP network"),
        ("192.0.2.7", "no prefix length"),
        ("192.0.2.0/33", "not an IP network"),
    ],
)
def test_unparsable_networks(bad, words):
    assert words in message(cidr_normalise, bad)


@pytest.mark.parametrize(
    ("given", "url", "scheme"),
    [
        ("https://Mirror.Example.org/pypi/full", "https://mirror.example.org/pypi/full/", "https"),
        ("http://mirror.example.org//pypi//full///", "http://mirror.example.org/pypi/full/", "http"),
        ("rsync://mirror.example.org/pypi/full/", "rsync://mirror.example.org/pypi/full/", "rsync"),
        ("https://mirror.example.org:443/x/", "https://mirror.example.org/x/", "https"),
        ("https://mirror.example.org:8443/x", "https://mirror.example.org:8443/x/", "https"),
        ("HTTPS://mirror.example.org", "https://mirror.example.org/", "https"),
    ],
)
def test_urls_are_normalised(given, url, scheme):
    checked = url_check(given, host_name="mirror.example.org")
    assert (checked.url, checked.scheme) == (url, scheme)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("ftp://mirror.example.org/pypi/", "use https, http or rsync"),
        ("mirror.example.org/pypi/", "use https, http or rsync"),
        ("https://user:secret@mirror.example.org/pypi/", "user name or password"),
        ("https://mirror.example.org/pypi/?x=1", "must not have a query"),
        ("https://mirror.example.org/pypi/#top", "must not have a fragment"),
        ("https://other.example.org/pypi/", "this host is 'mirror.example.org'"),
        ("https://mirror.example.org:99999/", "not a URL"),
        ("", "Enter the URL"),
    ],
)
def test_bad_urls(bad, words):
    assert words in message(url_check, bad, host_name="mirror.example.org")


@pytest.mark.parametrize(
    ("asn", "words"),
    [
        (0, "AS0 cannot be registered: it is reserved"),
        (23456, "AS_TRANS"),
        (64500, "documentation"),
        (65000, "private use"),
        (65551, "documentation"),
        (4200000001, "private use"),
        (4294967296, "out of range"),
        (-1, "out of range"),
        ("AS-x", "not an AS number"),
    ],
)
def test_bad_asns_say_why(asn, words):
    assert words in message(asn_check, asn)


def test_asns_admins_and_spellings():
    assert asn_check("AS3320") == 3320 and asn_check(None) is None and asn_check(64500, admin=True) == 64500
    assert "reserved" in message(asn_check, 0, admin=True)


def test_countries_and_host_names():
    assert country_check(" de ") == "DE"
    assert "not an ISO 3166-1 alpha-2" in message(country_check, "XX")
    assert "Choose a country" in message(country_check, "")
    assert host_name_check("Mirror.Example.ORG.") == "mirror.example.org"
    assert "is an IP address" in message(host_name_check, "192.0.2.1")
    assert "not a fully qualified host name" in message(host_name_check, "localhost")
    assert "not a fully qualified host name" in message(host_name_check, "bad_name.example.org")
