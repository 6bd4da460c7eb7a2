"""Admin of the mirrorlist: continent redirects (imported from mirrors/admin.py)."""

from django import forms
from django.contrib import admin

from mirrors.geo_tables import CONTINENTS
from mirrors.models import ContinentRedirect


class ContinentRedirectForm(forms.ModelForm):
    class Meta:
        model = ContinentRedirect
        fields = ("country", "continent")

    def clean_continent(self) -> str:
        value = self.cleaned_data["continent"].strip().upper()
        if value not in CONTINENTS:
            raise forms.ValidationError(f"Not a continent code: use one of {', '.join(sorted(CONTINENTS))}.")
        return value


@admin.register(ContinentRedirect)
class ContinentRedirectAdmin(admin.ModelAdmin):
    list_display = ("country", "continent")
    search_fields = ("country", "continent")
    ordering = ("country",)
    form = ContinentRedirectForm

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        from mirrors.signals import registry_changed

        registry_changed.send(sender=ContinentRedirect)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        from mirrors.signals import registry_changed

        registry_changed.send(sender=ContinentRedirect)
