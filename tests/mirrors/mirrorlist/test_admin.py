import pytest

from mirrors.models import ContinentRedirect
from mirrors.signals import registry_changed
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/mirrors/continentredirect/add/"


def test_admins_edit_continent_redirects(client):
    client.force_login(AdminFactory())
    assert client.get("/admin/mirrors/continentredirect/").status_code == 200
    response = client.post(ADD, {"country": "BR", "continent": "XX"})
    assert response.status_code == 200
    assert "Not a continent code" in str(response.context["adminform"].form.errors["continent"])
    assert not ContinentRedirect.objects.filter(country="BR").exists()
    sent = []

    def record(**kwargs):
        sent.append(kwargs["sender"])

    registry_changed.connect(record)
    try:
        response = client.post(ADD, {"country": "BR", "continent": "na"})
    finally:
        registry_changed.disconnect(record)
    assert response.status_code == 302
    assert ContinentRedirect.objects.get(country="BR").continent == "NA"
    assert sent == [ContinentRedirect]  # the table is rebuilt with the change
