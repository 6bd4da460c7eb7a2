"""Pages of the mirrorlist: the staff page that explains an answer."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.permissions import staff_required
from mirrors.mirrorlist import runtime
from mirrors.mirrorlist.answer import mirrorlist_answer
from mirrors.mirrorlist.forms import ExplainForm


@staff_required
def mirrorlist_explain(request: HttpRequest) -> HttpResponse:
    """Which mirrors would a client at this address get, and why (the same answer as `explain=1`)."""
    table = runtime.holder().table()
    collections = sorted(table.collections) if table else []
    form = ExplainForm(request.GET or None, collections=collections)
    result = None
    if request.GET and form.is_valid():
        params = {"ip": form.cleaned_data["ip"], "explain": "1"}
        for name in ("country", "protocol"):
            if form.cleaned_data[name]:
                params[name] = form.cleaned_data[name]
        answer = mirrorlist_answer(
            form.cleaned_data["collection"],
            params,
            peer=request.META.get("REMOTE_ADDR", ""),
            forwarded_for=None,
            request_base_url=request.build_absolute_uri("/"),
            is_admin=True,
        )
        result = json.loads(answer.body)
        if answer.status != 200:
            form.add_error(None, result["detail"])
            result = None
    return render(
        request,
        "mirrors/mirrorlist_explain.html",
        {"form": form, "result": result, "table": table, "holder_error": runtime.holder().last_error},
    )
