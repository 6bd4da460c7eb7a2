"""The staff page's question: which mirrors would a client at this address (or country) get, and why."""

from __future__ import annotations

from django import forms

from mirrors.geo_tables import COUNTRY_CONTINENT
from mirrors.mirrorlist.engine.address import parse_address
from mirrors.mirrorlist.engine.select import PROTOCOLS


class ExplainForm(forms.Form):
    collection = forms.ChoiceField(choices=())
    ip = forms.CharField(label="Client address", max_length=64, help_text="IPv4 or IPv6, e.g. 192.0.2.7")
    country = forms.CharField(
        label="Country (optional)", max_length=2, required=False, help_text="ISO 3166-1 alpha-2, as country= in the API"
    )
    protocol = forms.ChoiceField(
        choices=[("", "https and http")] + [(p, p) for p in PROTOCOLS], required=False, label="Protocol"
    )

    def __init__(self, *args, collections: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = [(slug, slug) for slug in collections]

    def clean_ip(self) -> str:
        value = self.cleaned_data["ip"].strip()
        if parse_address(value) is None:
            raise forms.ValidationError("Not an IPv4 or IPv6 address.")
        return value

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if value and value not in COUNTRY_CONTINENT:
            raise forms.ValidationError("Not an ISO 3166-1 alpha-2 country code (for example DE).")
        return value
