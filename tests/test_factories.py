"""The shared factories build valid rows."""

import pytest

from tests.factories import AdminFactory, HostURLFactory, NetblockFactory, RevisionFactory

pytestmark = pytest.mark.django_db


def test_factories_build_a_small_network():
    url = HostURLFactory(host__approved=True, current=True)
    NetblockFactory(host=url.host)
    RevisionFactory(collection=url.collection)
    assert url.host.state == "approved" and url.url.endswith("/pypi/full/")
    assert url.host.site.owner.check_password("pass-word-1234")
    assert AdminFactory().is_staff
