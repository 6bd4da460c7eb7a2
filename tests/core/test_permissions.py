"""One rule for every staff page: anonymous visitors to the site's log-in with next, others the site's 403."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/moderation/", "/moderation/?state=approved", "/moderation/mirrorlist/", "/admin/", "/admin/sync/file/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_visitors_go_to_the_sites_own_login_with_next(path):
    answer = Client().get(path)
    assert answer.status_code == 302
    location = answer["Location"]
    assert location.startswith("/accounts/login/?next=") and "/admin/login/" not in location
    follow = Client().get(path, follow=True)
    assert follow.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "<h1>Log in</h1>" in follow.content.decode()


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_signed_in_non_admins_get_the_sites_403_page(path):
    client = Client()
    client.force_login(UserFactory(username="operator"))
    answer = client.get(path)
    page = answer.content.decode()
    assert answer.status_code == 403
    assert "<h1>Not allowed</h1>" in page and "this page is for project admins" in page
    assert "Signed in as <strong>operator</strong>" in page  # the site's own page, with its navigation
    assert "not authorized" not in page and "Django" not in page


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_admins_get_the_page(path):
    client = Client()
    client.force_login(AdminFactory())
    assert client.get(path).status_code == 200


def test_the_admins_login_url_goes_on_to_next_once_signed_in():
    client = Client()
    assert client.get("/admin/login/?next=/admin/sync/").url == "/accounts/login/?next=/admin/sync/"
    client.force_login(AdminFactory())
    assert client.get("/admin/login/?next=/admin/sync/").url == "/admin/sync/"
    assert client.get("/admin/login/?next=https://elsewhere.example/").url == "/admin/"
