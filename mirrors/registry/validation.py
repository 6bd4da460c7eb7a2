"""Every check of operator input, in one place: forms, serializers and services all call these.

Each function returns the normalised value or raises django.core.exceptions.ValidationError with a message
that says what is wrong and, where there is one, what would be right.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django_countries import countries

from mirrors.models import URLScheme

# Operators may not register networks wider than these; admins may (an IXP or a national research network).
OPERATOR_MIN_PREFIX = {4: 16, 6: 32}
ASN_MAX = 4_294_967_295
# Reserved or special-purpose AS numbers (RFC 7607, 6793, 5398, 6996, 7300): why each is refused.
RESERVED_ASNS: tuple[tuple[int, int, str], ...] = (
    (0, 0, "AS0 is reserved (RFC 7607)"),
    (23456, 23456, "AS23456 is AS_TRANS, a placeholder for 4-byte AS numbers (RFC 6793)"),
    (64496, 64511, "AS64496-64511 are reserved for documentation (RFC 5398)"),
    (64512, 65534, "AS64512-65534 are for private use (RFC 6996)"),
    (65535, 65535, "AS65535 is reserved (RFC 7300)"),
    (65536, 65551, "AS65536-65551 are reserved for documentation (RFC 5398)"),
    (4_200_000_000, 4_294_967_294, "AS4200000000-4294967294 are for private use (RFC 6996)"),
    (4_294_967_295, 4_294_967_295, "AS4294967295 is reserved (RFC 7300)"),
)
DEFAULT_PORTS = {"https": 443, "http": 80, "rsync": 873}


@dataclass(frozen=True)
class CheckedURL:
    """A mirror URL after validation: normalised, with its scheme and host name."""

    url: str
    scheme: str
    hostname: str


def cidr_normalise(value: str, *, admin: bool = False) -> str:
    """Parse a network strictly; refuse host bits (suggesting the network) and, for operators, wide prefixes."""
    text = (value or "").strip()
    if not text:
        raise ValidationError("Enter a network such as 192.0.2.0/24 or 2001:db8::/48.", code="required")
    if "/" not in text:
        raise ValidationError(
            f"{text!r} has no prefix length: write the network with one, such as {text}/32 or {text}/128.",
            code="no_prefix",
        )
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValidationError(f"{text!r} is not an IP network: {exc}.", code="invalid") from None
        raise ValidationError(
            f"{text!r} has host bits set; the network is {loose.with_prefixlen}.", code="host_bits"
        ) from None
    minimum = OPERATOR_MIN_PREFIX[network.version]
    if not admin and network.prefixlen < minimum:
        raise ValidationError(
            f"{network.with_prefixlen} is wider than /{minimum}: operators may register IPv{network.version} "
            f"networks of /{minimum} or narrower; ask a project admin for a wider one.",
            code="too_wide",
        )
    return network.with_prefixlen


def asn_check(value: int | str | None, *, admin: bool = False) -> int | None:
    """An autonomous system number in 1..4294967295; reserved and private ones are for admins only."""
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip().upper().removeprefix("AS"))
    except ValueError:
        raise ValidationError(
            f"{value!r} is not an AS number (write it as 64500 or AS64500).", code="invalid"
        ) from None
    if number == 0:
        raise ValidationError("AS0 cannot be registered: it is reserved (RFC 7607).", code="reserved")
    if not 1 <= number <= ASN_MAX:
        raise ValidationError(f"AS{number} is out of range: AS numbers run from 1 to {ASN_MAX}.", code="range")
    if not admin:
        for low, high, why in RESERVED_ASNS:
            if low <= number <= high:
                raise ValidationError(f"AS{number} cannot be registered: {why}.", code="reserved")
    return number


def country_check(value: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased."""
    code = (value or "").strip().upper()
    if not code:
        raise ValidationError("Choose a country (ISO 3166-1 alpha-2, such as DE).", code="required")
    if code not in dict(countries):
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (such as DE or US).")
    return code


def host_name_check(value: str) -> str:
    """A fully qualified host name, lower-cased, without a trailing dot; no IP addresses."""
    name = (value or "").strip().lower().rstrip(".")
    if not name:
        raise ValidationError("Enter the host's fully qualified name, such as mirror.example.org.", code="required")
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValidationError(f"{value!r} is an IP address: register the host by its DNS name.", code="ip")
    labels = name.split(".")
    valid = len(name) <= 253 and len(labels) >= 2 and all(_label_ok(label) for label in labels)
    if not valid or labels[-1].isdigit():
        raise ValidationError(
            f"{value!r} is not a fully qualified host name (letters, digits and hyphens in dot-separated "
            "labels, such as mirror.example.org).",
            code="invalid",
        )
    return name


def _label_ok(label: str) -> bool:
    return 0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-" and all(c.isalnum() or c == "-" for c in label)


def url_check(value: str, *, host_name: str | None = None) -> CheckedURL:
    """A mirror base URL: https, http or rsync; no credentials, query or fragment; on the host; one trailing slash."""
    text = (value or "").strip()
    if not text:
        raise ValidationError("Enter the URL of the collection's tree, such as https://mirror.example.org/pypi/full/.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"{text!r} is not a URL: {exc}.", code="invalid") from None
    scheme = parts.scheme.lower()
    if scheme not in URLScheme.values:
        raise ValidationError(f"{text!r} has scheme {scheme or '(none)'!r}: use https, http or rsync.", code="scheme")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("The URL must not contain a user name or password.", code="credentials")
    if parts.query or text.endswith("?"):
        raise ValidationError("The URL must not have a query (the part after ?).", code="query")
    if parts.fragment or "#" in text:
        raise ValidationError("The URL must not have a fragment (the part after #).", code="fragment")
    hostname = (parts.hostname or "").rstrip(".")
    if not hostname:
        raise ValidationError(f"{text!r} names no host.", code="no_host")
    if host_name is not None and hostname != host_name.lower():
        raise ValidationError(
            f"The URL's host is {hostname!r} but this host is {host_name!r}: a host's URLs must be on its own name.",
            code="other_host",
        )
    netloc = hostname if port in (None, DEFAULT_PORTS[scheme]) else f"{hostname}:{port}"
    path = "/" + "/".join(segment for segment in parts.path.split("/") if segment)
    if not path.endswith("/"):
        path += "/"
    return CheckedURL(url=urlunsplit((scheme, netloc, path, "", "")), scheme=scheme, hostname=hostname)


def url_unique_check(*, host_id: int, collection_id: int, scheme: str, exclude_id: int | None = None) -> None:
    """One URL per host, collection and scheme."""
    from mirrors.models import HostURL

    clash = HostURL.objects.filter(host_id=host_id, collection_id=collection_id, scheme=scheme)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise ValidationError(
            f"This host already has a {scheme} URL for that collection: edit or delete it instead.", code="unique"
        )
