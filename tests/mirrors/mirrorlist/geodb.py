"""Small GeoIP databases for tests and the benchmark, written with mmdb-writer (geoip2 reads them)."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def write_country_db(path: Path, networks: dict[str, dict], *, city: bool = False) -> Path:
    """networks: CIDR -> {"country": "DE", "continent": "EU", "latitude": .., "longitude": ..}."""
    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City" if city else "GeoLite2-Country"
    )
    for cidr, info in networks.items():
        record: dict = {
            "country": {"iso_code": info["country"], "names": {"en": info["country"]}},
            "continent": {"code": info["continent"], "names": {"en": info["continent"]}},
        }
        if city and "latitude" in info:
            record["location"] = {"latitude": float(info["latitude"]), "longitude": float(info["longitude"])}
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


def write_asn_db(path: Path, networks: dict[str, int]) -> Path:
    """networks: CIDR -> autonomous system number."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    for cidr, asn in networks.items():
        writer.insert_network(
            IPSet([cidr]), {"autonomous_system_number": asn, "autonomous_system_organization": f"AS{asn} example"}
        )
    writer.to_db_file(str(path))
    return path
