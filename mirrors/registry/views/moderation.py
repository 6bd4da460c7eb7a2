"""Project admins' pages: the moderation queue and one host's review with its audit trail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.permissions import staff_required
from mirrors.models import Host, HostState
from mirrors.registry import selectors, services
from mirrors.registry.forms import ApproveForm, ReasonForm
from mirrors.registry.views.common import run_service

ACTIONS = {
    "approve": (ApproveForm, services.host_approve, "Approved {name}; its operators are told."),
    "reject": (ReasonForm, services.host_reject, "Rejected {name}; its operators are told why."),
    "disable": (ReasonForm, services.host_disable, "Disabled {name}; its operators are told why."),
    "enable": (ApproveForm, services.host_enable, "Enabled {name} again; its operators are told."),
}


@staff_required
def moderation(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", HostState.PENDING)
    if state not in HostState.values:
        state = HostState.PENDING
    hosts = list(selectors.moderation_queue(state=state))
    for host in hosts:
        host.trail = selectors.audit_trail(host, limit=5)
    tabs = [(value, label) for value, label in HostState.choices]
    return render(request, "mirrors/registry/moderation.html", {"hosts": hosts, "state": state, "tabs": tabs})


@staff_required
def moderation_host(request: HttpRequest, host_id: int) -> HttpResponse:
    rows = Host.objects.select_related("site__owner").prefetch_related(
        "urls__collection", "netblocks", "allowed_countries", "peer_asns"
    )
    host = get_object_or_404(rows, pk=host_id)
    context = {
        "host": host,
        "approve_form": ApproveForm(),
        "reason_form": ReasonForm(),
        "trail": selectors.audit_trail(host),
        "verification_path": selectors.verification_path(host),
    }
    return render(request, "mirrors/registry/moderation_host.html", context)


@staff_required
@require_POST
def moderation_decide(request: HttpRequest, host_id: int, action: str) -> HttpResponse:
    host = get_object_or_404(Host, pk=host_id)
    if action not in ACTIONS:
        return redirect("registry:moderation-host", host.pk)
    form_class, service, done = ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        context = {
            "host": host,
            "approve_form": form if form_class is ApproveForm else ApproveForm(),
            "reason_form": form if form_class is ReasonForm else ReasonForm(),
            "failed_action": action,
            "trail": selectors.audit_trail(host),
            "verification_path": selectors.verification_path(host),
        }
        return render(request, "mirrors/registry/moderation_host.html", context, status=400)
    data = dict(form.cleaned_data)
    if action == "enable":
        data.pop("override", None)
    if run_service(
        request, None, lambda: service(actor=request.user, host=host, **data), done=done.format(name=host.name)
    ):
        return (
            redirect("moderation") if action in ("approve", "reject") else redirect("registry:moderation-host", host.pk)
        )
    return redirect("registry:moderation-host", host.pk)
