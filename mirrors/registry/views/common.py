"""What the registry's views share: scoped lookups (404 for what is not yours) and running a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from mirrors.models import Host, Site
from mirrors.registry import selectors
from mirrors.registry.errors import TransitionRefused
from mirrors.registry.forms import errors_apply


def my_site(request: HttpRequest, site_id: int) -> Site:
    return get_object_or_404(selectors.sites_for_user(request.user), pk=site_id)


def my_host(request: HttpRequest, host_id: int) -> Host:
    return get_object_or_404(selectors.hosts_for_user(request.user).select_related("site__owner"), pk=host_id)


def run_service(request: HttpRequest, form: forms.Form | None, call: Callable[[], Any], *, done: str) -> Any:
    """Call a service; on success flash `done`; on refusal put the message on the form (or flash it); None then."""
    try:
        result = call()
    except ValidationError as exc:
        if form is not None:
            errors_apply(form, exc)
        else:
            messages.error(request, " ".join(exc.messages))
        return None
    except TransitionRefused as exc:
        messages.error(request, exc.message)
        return None
    except PermissionDenied:
        raise Http404("not found") from None
    messages.success(request, done)
    return result if result is not None else True
