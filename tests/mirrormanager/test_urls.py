"""The page shell: every page renders with navigation, uses no CDN, and refuses forged posts."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/mirrors/", "/collections/", "/api/docs/"])
def test_public_pages_render_without_external_resources(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL.search(html), f"{path} loads something from another host"


def test_shell_has_navigation_and_landmarks(client):
    html = client.get("/").content.decode()
    assert '<nav class="site-nav" aria-label="Main">' in html
    assert '<main id="main"' in html
    assert 'href="#main"' in html  # skip link
    assert '<html lang="en">' in html


@pytest.mark.parametrize(
    ("path", "login_path"), [("/my/sites/", "/accounts/login/"), ("/moderation/", "/accounts/login/")]
)
def test_private_pages_need_login(client, path, login_path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(login_path)


def test_moderation_is_for_admins_only(client, operator_user, admin_user_account):
    client.force_login(operator_user)
    assert client.get("/moderation/").status_code == 403
    client.force_login(admin_user_account)
    assert client.get("/moderation/").status_code == 200


def test_forged_login_post_without_csrf_token_is_refused(operator_user):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "operator", "password": "operator-pass-1234"})
    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session


def test_logout_needs_post(client, operator_user):
    client.force_login(operator_user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session
