"""Collection: its filter fields are the filter engine's."""

from __future__ import annotations

from metadata.forms import CollectionForm
from metadata.models import FILTER_FIELDS, Collection
from sync.filters import FilterSpec


def test_filter_spec_reads_the_model_fields():
    collection = Collection(
        include_projects=["numpy"],
        exclude_projects=[],
        package_types=["bdist_wheel"],
        platform_tags=[],
        python_versions=["3.12"],
        include_prereleases=False,
        latest_versions=None,
        max_file_size=1000,
    )
    spec = collection.filter_spec()
    assert spec == FilterSpec(
        include_projects=("numpy",),
        package_types=("bdist_wheel",),
        python_versions=("3.12",),
        include_prereleases=False,
        max_file_size=1000,
    )


def test_the_form_edits_every_filter_field():
    assert set(FILTER_FIELDS) <= set(CollectionForm.Meta.fields)
