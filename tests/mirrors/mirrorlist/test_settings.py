"""The mirrorlist's settings are parsed with a clear error for bad values."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from mirrormanager.config import env_cidrs, env_url


def test_trusted_proxies():
    assert env_cidrs({"TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8 ,2001:db8::/32"}, "TRUSTED_PROXIES") == [
        "127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"
    ]  # fmt: skip
    assert env_cidrs({}, "TRUSTED_PROXIES") == []
    with pytest.raises(ImproperlyConfigured, match="'10.0.0.0/33' is not a network"):
        env_cidrs({"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES")
    with pytest.raises(ImproperlyConfigured, match="'proxy.example' is not a network"):
        env_cidrs({"TRUSTED_PROXIES": "proxy.example"}, "TRUSTED_PROXIES")


def test_origin_base_url():
    assert env_url({"ORIGIN_BASE_URL": "https://origin.example"}, "ORIGIN_BASE_URL") == "https://origin.example/"
    assert env_url({}, "ORIGIN_BASE_URL") is None
    for bad in ("origin.example", "ftp://origin.example/", "https://origin.example/?x=1"):
        with pytest.raises(ImproperlyConfigured, match="must be an http"):
            env_url({"ORIGIN_BASE_URL": bad}, "ORIGIN_BASE_URL")
