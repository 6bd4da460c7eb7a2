"""The operator's own pages: the dashboard, sites, hosts, the verification check and the on/off switch."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mirrors.registry import selectors, services
from mirrors.registry.forms import (
    HostCountryForm,
    HostForm,
    HostURLForm,
    InviteForm,
    NetblockForm,
    SiteForm,
)
from mirrors.registry.views.common import my_host, my_site, run_service


@login_required
def my_sites(request: HttpRequest) -> HttpResponse:
    """The dashboard: my sites and hosts, each with its state and what to do next."""
    sites = list(selectors.dashboard_sites(request.user))
    for site in sites:
        for host in site.hosts.all():
            host.next_step = selectors.host_next_step(host)
    return render(request, "mirrors/registry/dashboard.html", {"sites": sites})


@login_required
def site_create(request: HttpRequest) -> HttpResponse:
    form = SiteForm(request.POST or None, initial={"contact_email": request.user.email})
    if request.method == "POST" and form.is_valid():
        site = run_service(
            request,
            form,
            lambda: services.site_create(actor=request.user, **form.cleaned_data),
            done="Site registered.",
        )
        if site:
            return redirect("registry:site-detail", site.pk)
    return render(request, "mirrors/registry/site_form.html", {"form": form, "title": "Register a site"})


@login_required
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = my_site(request, site_id)
    hosts = list(site.hosts.prefetch_related("urls__collection"))
    for host in hosts:
        host.next_step = selectors.host_next_step(host)
    context = {
        "site": site,
        "hosts": hosts,
        "invite_form": InviteForm(),
        "invitations": site.invitations.filter(accepted_at__isnull=True).order_by("-created_at"),
        "is_owner": site.owner_id == request.user.pk or request.user.is_staff,
    }
    return render(request, "mirrors/registry/site_detail.html", context)


@login_required
def site_edit(request: HttpRequest, site_id: int) -> HttpResponse:
    site = my_site(request, site_id)
    initial = {"name": site.name, "contact_email": site.contact_email, "organization_url": site.organization_url}
    form = SiteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        call = lambda: services.site_update(actor=request.user, site=site, **form.cleaned_data)  # noqa: E731
        if run_service(request, form, call, done="Site saved."):
            return redirect("registry:site-detail", site.pk)
    return render(request, "mirrors/registry/site_form.html", {"form": form, "site": site, "title": f"Edit {site}"})


@login_required
def site_delete(request: HttpRequest, site_id: int) -> HttpResponse:
    site = my_site(request, site_id)
    if request.method == "POST":
        call = lambda: services.site_delete(actor=request.user, site=site)  # noqa: E731
        if run_service(request, None, call, done=f"Site {site.name} deleted."):
            return redirect("my-sites")
        return redirect("registry:site-detail", site.pk)
    return render(request, "mirrors/registry/confirm_delete.html", {"thing": site, "what": "site", "back": site})


@login_required
@require_POST
def site_invite(request: HttpRequest, site_id: int) -> HttpResponse:
    site = my_site(request, site_id)
    form = InviteForm(request.POST)
    if form.is_valid():
        base_url = request.build_absolute_uri("/")
        call = lambda: services.site_invite(actor=request.user, site=site, base_url=base_url, **form.cleaned_data)  # noqa: E731
        run_service(request, form, call, done=f"Invitation sent to {form.cleaned_data['email']}.")
    if form.errors:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("registry:site-detail", site.pk)


@login_required
@require_POST
def site_admin_remove(request: HttpRequest, site_id: int, user_id: int) -> HttpResponse:
    site = my_site(request, site_id)
    user = site.admins.filter(pk=user_id).first()
    if user is not None:
        call = lambda: services.site_admin_remove(actor=request.user, site=site, user=user)  # noqa: E731
        run_service(request, None, call, done=f"{user.get_username()} is no longer a co-admin.")
    return redirect("registry:site-detail", site.pk) if user is None or user != request.user else redirect("my-sites")


@login_required
def host_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = my_site(request, site_id)
    form = HostForm(request.POST or None, admin=request.user.is_staff)
    if request.method == "POST" and form.is_valid():
        call = lambda: services.host_create(actor=request.user, site=site, **form.cleaned_data)  # noqa: E731
        host = run_service(request, form, call, done="Host registered. Now add its URLs and show that you control it.")
        if host:
            return redirect("registry:host-detail", host.pk)
    return render(request, "mirrors/registry/host_form.html", {"form": form, "site": site, "title": "Register a host"})


@login_required
def host_detail(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    context = {
        "host": host,
        "site": host.site,
        "next_step": selectors.host_next_step(host),
        "verification_path": selectors.verification_path(host),
        "web_urls": [u for u in host.urls.all() if u.scheme in ("https", "http")],
        "url_form": HostURLForm(host_name=host.name),
        "netblock_form": NetblockForm(),
        "country_form": HostCountryForm(),
        "trail": selectors.audit_trail(host, limit=20),
    }
    return render(request, "mirrors/registry/host_detail.html", context)


@login_required
def host_edit(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    initial = {
        "country": host.country.code,
        "bandwidth_mbps": host.bandwidth_mbps,
        "asn": host.asn,
        "private": host.private,
    }
    form = HostForm(request.POST or None, initial=initial, admin=request.user.is_staff, editing=True)
    if request.method == "POST" and form.is_valid():
        call = lambda: services.host_update(actor=request.user, host=host, **form.cleaned_data)  # noqa: E731
        if run_service(request, form, call, done="Host saved."):
            return redirect("registry:host-detail", host.pk)
    context = {"form": form, "site": host.site, "host": host, "title": f"Edit {host.name}"}
    return render(request, "mirrors/registry/host_form.html", context)


@login_required
def host_delete(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    if request.method == "POST":
        site_id = host.site_id
        if run_service(
            request, None, lambda: services.host_delete(actor=request.user, host=host), done="Host deleted."
        ):
            return redirect("registry:site-detail", site_id)
    return render(request, "mirrors/registry/confirm_delete.html", {"thing": host, "what": "host", "back": host})


@login_required
@require_POST
def host_verify(request: HttpRequest, host_id: int) -> HttpResponse:
    """The "check now" button: fetch the verification file and say what was found."""
    host = my_host(request, host_id)
    outcome = services.host_verify(actor=request.user, host=host)
    (messages.success if outcome.verified else messages.error)(request, outcome.message)
    return redirect("registry:host-detail", host.pk)


@login_required
@require_POST
def host_switch(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    enabled = request.POST.get("enabled") == "on"
    done = "Host switched on." if enabled else "Host switched off: it is listed to no client until you switch it on."
    run_service(
        request, None, lambda: services.host_set_enabled(actor=request.user, host=host, enabled=enabled), done=done
    )
    return redirect("registry:host-detail", host.pk)


@login_required
@require_POST
def host_new_token(request: HttpRequest, host_id: int) -> HttpResponse:
    host = my_host(request, host_id)
    call = lambda: services.host_token_regenerate(actor=request.user, host=host)  # noqa: E731
    run_service(request, None, call, done="New verification token: serve it and check again.")
    return redirect("registry:host-detail", host.pk)
