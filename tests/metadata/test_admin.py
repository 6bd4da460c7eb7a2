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
    response = client.post("/admin/metadata/collection/add/", form_data(slug="other", python_versions="x", **INLINE))
    assert response.status_code == 200
    assert b"MAJOR.MINOR" in response.content
    assert client.get("/admin/metadata/revision/").status_code == 200


def test_publish_now_queues_a_publish_of_the_chosen_collections(admin_client, monkeypatch):
    from django_q import tasks as q_tasks

    from metadata.models import Revision

    calls = []

    def run_now(func, *args, **kwargs):
        calls.append((func, args))
        return q_tasks.async_task(func, *args, sync=True, **kwargs)

    monkeypatch.setattr("metadata.admin.async_task", run_now)
    full = Collection.objects.get(slug="full")
    answer = admin_client.post(
        "/admin/metadata/collection/", {"action": "publish_now", "_selected_action": [full.pk]}, follow=True
    )
    assert calls == [("metadata.tasks.publish_task", ("full", False))]
    assert "Publish of full queued" in answer.content.decode()
    assert Revision.objects.filter(collection=full, number=1).exists()
    admin_client.post("/admin/metadata/collection/", {"action": "publish_full_now", "_selected_action": [full.pk]})
    assert calls[-1] == ("metadata.tasks.publish_task", ("full", True))


def test_filters_are_form_fields_in_the_admin(admin_client):
    page = admin_client.get("/admin/metadata/collection/add/").content.decode()
    assert '<textarea name="include_projects"' in page and 'type="checkbox" name="package_types"' in page
    assert "JSON" not in page
