import pytest

from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db
PAGE = "/moderation/mirrorlist/"


def test_staff_only(client):
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"] == "/accounts/login/?next=/moderation/mirrorlist/"
    client.force_login(UserFactory())
    refused = client.get(PAGE)
    assert refused.status_code == 403 and "this page is for project admins" in refused.content.decode()


def test_explains_an_address(client, network, geo_dbs):
    client.force_login(AdminFactory())
    response = client.get(PAGE, {"collection": "full", "ip": "192.0.2.7", "country": "", "protocol": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert "net.mirror.example.org" in page and "client address in netblock 192.0.2.0/24" in page
    assert "Left out" in page


def test_bad_input_is_shown_on_the_field(client, network):
    client.force_login(AdminFactory())
    response = client.get(PAGE, {"collection": "full", "ip": "300.1.1.1", "country": "XX"})
    form = response.context["form"]
    assert form.errors["ip"] == ["Not an IPv4 or IPv6 address."]
    assert "country code" in form.errors["country"][0]
    assert response.context["result"] is None
