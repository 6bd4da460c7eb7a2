"""The public status page: approved public mirrors, filterable; private hosts never appear."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mirrors.registry import selectors
from mirrors.registry.forms import StatusFilterForm


def mirror_status(request: HttpRequest) -> HttpResponse:
    form = StatusFilterForm(request.GET or None)
    filters = {"country": "", "collection": "", "protocol": ""}
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters = {
                "country": data["country"] or "",
                "collection": data["collection"].slug if data["collection"] else "",
                "protocol": data["protocol"] or "",
            }
        else:
            status = 400
    hosts = list(selectors.public_hosts(**filters)) if status == 200 else []
    filtered = any(filters.values())
    context = {"form": form, "hosts": hosts, "filtered": filtered}
    return render(request, "mirrors/registry/status.html", context, status=status)
