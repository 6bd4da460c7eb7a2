import os

from mirrors.mirrorlist.engine import geo
from mirrors.mirrorlist.engine.geo import NO_GEO, GeoResolver

from ..geodb import write_asn_db, write_country_db


def test_country_city_and_asn(tmp_path):
    country = write_country_db(tmp_path / "c.mmdb", {"192.0.2.0/24": {"country": "DE", "continent": "EU"}})
    city = write_country_db(
        tmp_path / "city.mmdb",
        {"192.0.2.0/24": {"country": "DE", "continent": "EU", "latitude": 52.5, "longitude": 13.4}},
        city=True,
    )
    asn = write_asn_db(tmp_path / "a.mmdb", {"192.0.2.0/24": 64500, "2001:db8::/32": 64501})
    info = GeoResolver(str(country), str(asn)).lookup("192.0.2.9")
    assert (info.country, info.continent, info.asn, info.latitude) == ("DE", "EU", 64500, None)
    info = GeoResolver(str(city), None).lookup("192.0.2.9")
    assert (info.country, info.latitude, info.longitude) == ("DE", 52.5, 13.4)
    assert GeoResolver(str(country), str(asn)).lookup("2001:db8::5").asn == 64501
    assert GeoResolver(str(country), None).lookup("203.0.113.1") is NO_GEO


def test_missing_or_wrong_databases_mean_geo_off(tmp_path):
    resolver = GeoResolver(str(tmp_path / "absent.mmdb"), None)
    assert resolver.lookup("192.0.2.1") is NO_GEO
    status = resolver.location.status()
    assert not status.loaded and "cannot read" in status.error
    (tmp_path / "junk.mmdb").write_bytes(b"junk")
    assert GeoResolver(str(tmp_path / "junk.mmdb"), None).lookup("192.0.2.1") is NO_GEO
    # An ASN database given as the country database: the wrong call is never made.
    asn = write_asn_db(tmp_path / "a.mmdb", {"192.0.2.0/24": 64500})
    assert GeoResolver(str(asn), None).lookup("192.0.2.1") is NO_GEO


def test_replaced_file_is_reloaded(tmp_path, monkeypatch):
    path = tmp_path / "c.mmdb"
    write_country_db(path, {"192.0.2.0/24": {"country": "DE", "continent": "EU"}})
    resolver = GeoResolver(str(path), None)
    assert resolver.lookup("192.0.2.1").country == "DE"
    # As geoipupdate does: write a new file beside it, rename over.
    write_country_db(tmp_path / "new.mmdb", {"192.0.2.0/24": {"country": "FR", "continent": "EU"}})
    os.replace(tmp_path / "new.mmdb", path)
    monkeypatch.setattr(geo, "CHECK_INTERVAL_SECONDS", 0.0)
    assert resolver.lookup("192.0.2.1").country == "FR"


def test_fields_of_the_wrong_type_count_as_unknown(tmp_path):
    """A damaged or foreign database must not put odd values into answers (the JSON is built by hand)."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    city = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    city.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": 'D"E'}, "continent": {"code": 7},
                                                  "location": {"latitude": "north", "longitude": 13.4}})  # fmt: skip
    city.insert_network(IPSet(["198.51.100.0/24"]), {"country": {"iso_code": "FR"}, "continent": {"code": "EU"},
                                                     "location": {"latitude": 123.0, "longitude": 2.0}})  # fmt: skip
    city.to_db_file(str(tmp_path / "city.mmdb"))
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    asn.insert_network(IPSet(["192.0.2.0/24"]), {"autonomous_system_number": "64500"})
    asn.to_db_file(str(tmp_path / "asn.mmdb"))
    resolver = GeoResolver(str(tmp_path / "city.mmdb"), str(tmp_path / "asn.mmdb"))
    assert resolver.lookup("192.0.2.9") is NO_GEO
    info = resolver.lookup("198.51.100.9")
    assert (info.country, info.continent, info.latitude, info.longitude) == ("FR", "EU", None, None)
