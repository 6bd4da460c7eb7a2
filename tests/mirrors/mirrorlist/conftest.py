"""Fixtures of the mirrorlist tests: a fresh per-process holder, no poller thread, a revision of `full`."""

from __future__ import annotations

import pytest

from mirrors.mirrorlist import runtime


@pytest.fixture(autouse=True)
def fresh_runtime(settings):
    settings.MIRRORLIST_REDIS_URL = None
    settings.ORIGIN_BASE_URL = "https://origin.example/"
    settings.TRUSTED_PROXIES = []
    settings.GEOIP_DB = None
    settings.GEOIP_ASN_DB = None
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def geo_dbs(tmp_path, settings):
    """Country and ASN databases: 192.0.2.0/24 is in DE (AS64500), 203.0.113.0/24 in IL, 2001:db8::/32 in DE."""
    from tests.mirrors.mirrorlist.geodb import write_asn_db, write_country_db

    country = write_country_db(
        tmp_path / "country.mmdb",
        {
            "192.0.2.0/24": {"country": "DE", "continent": "EU"},
            "203.0.113.0/24": {"country": "IL", "continent": "AS"},
            "2001:db8::/32": {"country": "DE", "continent": "EU"},
        },
    )
    asn = write_asn_db(tmp_path / "asn.mmdb", {"192.0.2.0/24": 64500, "2001:db8::/32": 64500})
    settings.GEOIP_DB, settings.GEOIP_ASN_DB = str(country), str(asn)
    runtime.reset()
    return country, asn


@pytest.fixture
def network(db):
    """A small network of current mirrors of `full`, one per tier for a client at 192.0.2.7, and the table."""
    from metadata.models import Collection
    from mirrors.mirrorlist.services import mirrorlist_build
    from tests.factories import HostFactory, HostURLFactory, NetblockFactory, RevisionFactory

    full = Collection.objects.get(slug="full")
    RevisionFactory(collection=full, number=1)
    RevisionFactory(collection=full, number=2)
    hosts = {}
    for key, country, continent, extra in [
        ("net", "FR", "EU", {"private": True}),
        ("asn", "US", "NA", {"asn": 64500}),
        ("de", "DE", "EU", {}),
        ("nl", "NL", "EU", {}),
        ("jp", "JP", "AS", {}),
    ]:
        hosts[key] = HostFactory(approved=True, name=f"{key}.mirror.example.org", country=country,
                                 continent=continent, **extra)  # fmt: skip
        HostURLFactory(host=hosts[key], current=True, reachable_ipv6=True)
    NetblockFactory(host=hosts["net"], cidr="192.0.2.0/24")
    mirrorlist_build()
    return hosts
