"""Forms of the metadata app: collection filters validated by the filter engine itself."""

from __future__ import annotations

from django import forms

from metadata.models import FILTER_FIELDS, FILTER_LIST_FIELDS, Collection
from sync.filters import FilterSpec


class CollectionForm(forms.ModelForm):
    """The admin form: filters go through FilterSpec.from_dict, and are stored normalized."""

    class Meta:
        model = Collection
        fields = (
            "slug",
            "title",
            "description",
            "public",
            "upstream",
            "max_lag_seconds",
            *FILTER_FIELDS,
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        data = {field: cleaned.get(field) for field in FILTER_FIELDS if field in cleaned}
        for field in FILTER_LIST_FIELDS:
            if data.get(field) is None:
                data[field] = []
        if data.get("include_prereleases") is None:
            data["include_prereleases"] = True
        try:
            spec = FilterSpec.from_dict(data)
        except ValueError as error:
            message = str(error)
            field = message.split(":", 1)[0]
            self.add_error(field if field in FILTER_FIELDS else None, message)
            return cleaned
        # Store what the engine will use: normalized names, lower-case tags, no duplicates.
        for field, value in spec.to_dict().items():
            if field in cleaned:
                cleaned[field] = value
        return cleaned
