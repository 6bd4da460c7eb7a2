"""Forms of the metadata app: collection filters as form fields, validated by the filter engine itself."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from metadata.models import FILTER_FIELDS, FILTER_LIST_FIELDS, Collection
from sync.filters import FilterSpec
from sync.models import File

_SEPARATORS = re.compile(r"[,\s]+")


class ListField(forms.CharField):
    """A list of words in a text box: one a line or separated by commas (a JSON list is read too)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        if isinstance(value, str) and value.startswith("["):
            try:
                return "\n".join(str(item) for item in json.loads(value))
            except (ValueError, TypeError):
                return value
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return [str(item) for item in value]
        text = super().to_python(value).strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except ValueError:
                raise forms.ValidationError("Write one entry a line (or separate them with commas).") from None
            if not isinstance(loaded, list):
                raise forms.ValidationError("Write one entry a line (or separate them with commas).")
            return [str(item) for item in loaded]
        return [item for item in _SEPARATORS.split(text) if item]


PACKAGE_TYPE_CHOICES = [(value, label) for value, label in File.PackageType.choices]


class CollectionForm(forms.ModelForm):
    """The admin form: filters go through FilterSpec.from_dict, and are stored normalized."""

    include_projects = ListField(help_text="Names or globs, one a line or comma-separated, e.g. django*, requests.")
    exclude_projects = ListField(help_text="Never these projects (names or globs).")
    package_types = forms.MultipleChoiceField(
        choices=PACKAGE_TYPE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )
    platform_tags = ListField(help_text="Wheel platform tags (globs), e.g. manylinux*_x86_64, any.")
    python_versions = ListField(help_text="MAJOR.MINOR, e.g. 3.11, 3.12.")

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
