"""Fixtures of the mirrorlist tests: a fresh per-process holder, no poller thread, a revision of `full`."""

from __future__ import annotations

import pytest

from mirrors.mirrorlist import runtime


@pytest.fixture(autouse=True)
def fresh_runtime(settings):
    settings.MIRRORLIST_POLL = False
    settings.MIRRORLIST_REDIS_URL = None
    settings.ORIGIN_BASE_URL = "https://origin.example/"
    settings.TRUSTED_PROXIES = []
    settings.GEOIP_DB = None
    settings.GEOIP_ASN_DB = None
    runtime.reset()
    yield
    runtime.reset()
