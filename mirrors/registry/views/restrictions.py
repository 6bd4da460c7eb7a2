"""Adding, changing and removing a host's URLs, netblocks and allowed countries."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mirrors.registry import selectors, services
from mirrors.registry.forms import HostCountryForm, HostURLForm, NetblockForm
from mirrors.registry.views.common import my_host, run_service


def _add(request: HttpRequest, host, form, call, *, done: str, title: str) -> HttpResponse:
    """Run an add form posted from the host page; on a refusal show the form again with its messages."""
    if form.is_valid() and run_service(request, form, lambda: call(form.cleaned_data), done=done):
        return redirect("registry:host-detail", host.pk)
    return render(
        request, "mirrors/registry/host_part_form.html", {"form": form, "host": host, "title": title}, status=400
    )


@login_required
@require_POST
def url_create(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    form = HostURLForm(request.POST, host_name=host.name)
    return _add(
        request, host, form, lambda data: services.host_url_create(actor=request.user, host=host, **data),
        done="URL added.", title=f"Add a URL to {host.name}",
    )  # fmt: skip


@login_required
def url_edit(request: HttpRequest, url_id: int) -> HttpResponse:
    row = get_object_or_404(selectors.host_urls_for_user(request.user), pk=url_id)
    host = row.host
    form = HostURLForm(
        request.POST or None, host_name=host.name, initial={"collection": row.collection, "url": row.url}
    )
    if request.method == "POST" and form.is_valid():
        call = lambda: services.host_url_update(actor=request.user, host_url=row, **form.cleaned_data)  # noqa: E731
        if run_service(request, form, call, done="URL saved."):
            return redirect("registry:host-detail", host.pk)
    return render(request, "mirrors/registry/host_part_form.html", {"form": form, "host": host, "title": "Edit URL"})


@login_required
@require_POST
def url_delete(request: HttpRequest, url_id: int) -> HttpResponse:
    row = get_object_or_404(selectors.host_urls_for_user(request.user), pk=url_id)
    run_service(request, None, lambda: services.host_url_delete(actor=request.user, host_url=row), done="URL removed.")
    return redirect("registry:host-detail", row.host_id)


@login_required
@require_POST
def netblock_create(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    form = NetblockForm(request.POST, admin=request.user.is_staff)
    return _add(
        request, host, form, lambda data: services.netblock_create(actor=request.user, host=host, **data),
        done="Netblock added.", title=f"Add a netblock to {host.name}",
    )  # fmt: skip


@login_required
@require_POST
def netblock_delete(request: HttpRequest, netblock_id: int) -> HttpResponse:
    row = get_object_or_404(selectors.netblocks_for_user(request.user), pk=netblock_id)
    run_service(
        request, None, lambda: services.netblock_delete(actor=request.user, netblock=row), done="Netblock removed."
    )
    return redirect("registry:host-detail", row.host_id)


@login_required
@require_POST
def country_create(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    form = HostCountryForm(request.POST)
    return _add(
        request, host, form, lambda data: services.host_country_create(actor=request.user, host=host, **data),
        done="Country allowed.", title=f"Allow a country for {host.name}",
    )  # fmt: skip


@login_required
@require_POST
def country_delete(request: HttpRequest, country_id: int) -> HttpResponse:
    row = get_object_or_404(selectors.host_countries_for_user(request.user), pk=country_id)
    call = lambda: services.host_country_delete(actor=request.user, host_country=row)  # noqa: E731
    run_service(request, None, call, done="Country removed.")
    return redirect("registry:host-detail", row.host_id)
