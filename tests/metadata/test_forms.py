"""The collection form validates filters with the filter engine and stores them normalized."""

from __future__ import annotations

import pytest

from metadata.forms import CollectionForm
from metadata.models import Collection

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
