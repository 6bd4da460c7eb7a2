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
        "include_projects": "",
        "exclude_projects": "",
        "platform_tags": "",
        "python_versions": "",
        "include_prereleases": "on",
        "latest_versions": "",
        "max_file_size": "",
    }
    data.update(overrides)
    return data


def test_form_stores_normalized_filters():
    form = CollectionForm(data=form_data(include_projects="Django,\n Foo_Bar*", platform_tags="Manylinux*"))
    assert form.is_valid(), form.errors
    collection = form.save()
    assert collection.include_projects == ["django", "foo-bar*"]
    assert collection.platform_tags == ["manylinux*"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("python_versions", "3", "MAJOR.MINOR"),
        ("package_types", ["wheel"], "Select a valid choice"),
        ("include_projects", "[1, ", "one entry a line"),
        ("exclude_projects", "bad/name", "not a name or glob"),
    ],
)
def test_form_rejects_bad_filters_on_the_field(field, value, message):
    form = CollectionForm(data=form_data(**{field: value}))
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])
    assert not Collection.objects.filter(slug="linux").exists()


def test_filters_are_form_fields_not_json():
    form = CollectionForm(instance=Collection(slug="x", include_projects=["django", "requests"]))
    html = form.as_p()
    assert '<textarea name="include_projects"' in html and "django\nrequests</textarea>" in html
    assert 'type="checkbox" name="package_types" value="bdist_wheel"' in html
    data = form_data(package_types=["bdist_wheel", "sdist"], python_versions='["3.12"]')  # a JSON list still reads
    saved = CollectionForm(data=data).save()
    assert saved.package_types == ["bdist_wheel", "sdist"] and saved.python_versions == ["3.12"]
