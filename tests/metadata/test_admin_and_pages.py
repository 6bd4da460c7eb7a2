"""Collections in the admin (filters checked by FilterSpec) and the public collection page."""

from __future__ import annotations

import pytest

from metadata.forms import CollectionForm
from metadata.models import Collection
from metadata.services import collection_publish
from tests.metadata.conftest import make_collection

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    data = {
        "slug": "linux",
        "title": "Linux wheels",
        "description": "",
        "public": "on",
        "max_lag_seconds": "3600",
        "include_projects": "[]",
        "exclude_projects": "[]",
        "package_types": "[]",
        "platform_tags": "[]",
        "python_versions": "[]",
        "include_prereleases": "on",
        "latest_versions": "",
        "max_file_size": "",
    }
    data.update(overrides)
    return data


def test_form_stores_normalized_filters():
    form = CollectionForm(data=form_data(include_projects='["Django", "Foo_Bar*"]', platform_tags='["Manylinux*"]'))
    assert form.is_valid(), form.errors
    collection = form.save()
    assert collection.include_projects == ["django", "foo-bar*"]
    assert collection.platform_tags == ["manylinux*"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("python_versions", '["3"]', "MAJOR.MINOR"),
        ("package_types", '["wheel"]', "not one of"),
        ("include_projects", '"django"', "must be a list"),
        ("exclude_projects", '["bad name"]', "not a name or glob"),
    ],
)
def test_form_rejects_bad_filters_on_the_field(field, value, message):
    form = CollectionForm(data=form_data(**{field: value}))
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])
    assert not Collection.objects.filter(slug="linux").exists()


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


def test_collection_page_shows_filters_revisions_and_size(client, base_catalogue):
    collection = make_collection("wheels", package_types=["bdist_wheel"], include_prereleases=False)
    revision = collection_publish(collection=collection)
    page = client.get("/collections/wheels/").content.decode()
    assert "bdist_wheel" in page and "Prereleases" in page
    assert revision.repomd_sha256 in page
    assert f"<dd>{revision.files}</dd>" in page
    assert "/pub/wheels/simple/" in page


def test_private_collections_are_hidden(client, admin_user_account):
    make_collection("secret", public=False)
    assert client.get("/collections/secret/").status_code == 404
    assert "secret" not in client.get("/collections/").content.decode()
    client.force_login(admin_user_account)
    assert client.get("/collections/secret/").status_code == 200
