"""The admin of collections and revisions."""

from __future__ import annotations

import pytest

from metadata.models import Collection
from tests.metadata.test_forms import form_data

pytestmark = pytest.mark.django_db


INLINE = {"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}


def test_admin_edits_collections(client, admin_user_account):
    client.force_login(admin_user_account)
    response = client.post("/admin/metadata/collection/add/", form_data(python_versions='["3.12"]', **INLINE))
    assert response.status_code == 302, response.content[:2000]
    assert Collection.objects.get(slug="linux").python_versions == ["3.12"]
    response = client.post(
        "/admin/metadata/collection/add/", form_data(slug="other", python_versions='["x"]', **INLINE)
    )
    assert response.status_code == 200
    assert b"MAJOR.MINOR" in response.content
    assert client.get("/admin/metadata/revision/").status_code == 200
