"""Forms of the operator and moderation pages; their checks are mirrors.registry.validation's."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django_countries import countries

from metadata.models import Collection
from mirrors.models import URLScheme
from mirrors.registry.validation import asn_check, cidr_normalise, host_name_check, url_check

COUNTRY_CHOICES = [("", "Choose a country…"), *countries]


def errors_apply(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (or above the form for other keys)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class SignupForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="Letters, digits and @ . + - _ only.")
    email = forms.EmailField(help_text="We send a confirmation link here; decisions about your mirrors go here too.")
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )  # fmt: skip
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords differ.")
        return data


class SiteForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="The organisation or project that runs the mirror.")
    contact_email = forms.EmailField(help_text="Where project admins reach the people who run the site.")
    organization_url = forms.URLField(required=False, label="Organisation URL", assume_scheme="https")


class HostForm(forms.Form):
    name = forms.CharField(
        max_length=253, label="Host name", help_text="Fully qualified, such as mirror.example.org; cannot change later."
    )
    country = forms.ChoiceField(choices=COUNTRY_CHOICES, help_text="Where the host is.")
    bandwidth_mbps = forms.IntegerField(
        min_value=1, max_value=10_000_000, initial=1000, label="Bandwidth (Mbit/s)", help_text="Used to weigh mirrors."
    )
    asn = forms.CharField(
        required=False, label="AS number", help_text="Your host's own autonomous system, such as 64500 (optional)."
    )
    private = forms.BooleanField(
        required=False, help_text="Only clients inside its netblocks (or peer ASNs) are sent to a private host."
    )

    def __init__(self, *args, admin: bool = False, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin
        if editing:
            del self.fields["name"]

    def clean_name(self) -> str:
        return host_name_check(self.cleaned_data["name"])

    def clean_asn(self):
        return asn_check(self.cleaned_data.get("asn"), admin=self.admin)


class HostURLForm(forms.Form):
    collection = forms.ModelChoiceField(queryset=Collection.objects.all(), to_field_name="slug", empty_label=None)
    url = forms.CharField(
        max_length=500, label="URL", help_text="https, http or rsync URL of the collection's tree on this host."
    )

    def __init__(self, *args, host_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.host_name = host_name
        self.fields["url"].widget.attrs["placeholder"] = f"https://{host_name}/pypi/full/"

    def clean_url(self) -> str:
        return url_check(self.cleaned_data["url"], host_name=self.host_name).url


class NetblockForm(forms.Form):
    cidr = forms.CharField(max_length=49, label="Network", help_text="Such as 192.0.2.0/24 or 2001:db8::/48.")

    def __init__(self, *args, admin: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin

    def clean_cidr(self) -> str:
        return cidr_normalise(self.cleaned_data["cidr"], admin=self.admin)


class HostCountryForm(forms.Form):
    country = forms.ChoiceField(choices=COUNTRY_CHOICES, label="Allowed country")


class InviteForm(forms.Form):
    email = forms.EmailField(label="Co-admin's email address")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Sent to the host's operators.")


class ApproveForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Reason (optional)")
    override = forms.BooleanField(required=False, label="Approve although control was never shown")


class StatusFilterForm(forms.Form):
    """The public status page's filters (GET)."""

    country = forms.ChoiceField(choices=[("", "Any country"), *countries], required=False)
    collection = forms.ModelChoiceField(
        queryset=Collection.objects.filter(public=True),
        to_field_name="slug",
        required=False,
        empty_label="Any collection",
    )
    protocol = forms.ChoiceField(choices=[("", "Any protocol"), *URLScheme.choices], required=False)
