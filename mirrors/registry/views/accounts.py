"""Sign-up with a confirmation link, co-admin invitations and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from rest_framework.authtoken.models import Token

from mirrors.models import SiteInvitation
from mirrors.registry import services
from mirrors.registry.forms import SignupForm
from mirrors.registry.views.common import run_service


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("my-sites")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        call = lambda: services.account_signup(  # noqa: E731
            username=data["username"], email=data["email"], password=data["password1"],
            base_url=request.build_absolute_uri("/"),
        )  # fmt: skip
        user = run_service(request, form, call, done=f"We sent a confirmation link to {data['email']}.")
        if user:
            return render(request, "registration/signup_sent.html", {"email": user.email})
    return render(request, "registration/signup.html", {"form": form})


def signup_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = services.account_confirm(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "registration/signup_invalid.html", status=400)
    messages.success(request, f"Your address is confirmed, {user.get_username()}: log in to register your mirrors.")
    return redirect("login")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Signed out: say to log in or sign up first. Signed in: a button that accepts (a POST)."""
    invitation = SiteInvitation.objects.select_related("site", "invited_by").filter(token=token).first()
    if request.method == "POST" and request.user.is_authenticated:
        call = lambda: services.site_invitation_accept(actor=request.user, token=token)  # noqa: E731
        site = run_service(request, None, call, done="You are now a co-admin of this site.")
        if site:
            return redirect("registry:site-detail", site.pk)
    status = 200 if invitation is not None and invitation.accepted_at is None else 400
    return render(request, "mirrors/registry/invitation.html", {"invitation": invitation}, status=status)


@login_required
def api_token(request: HttpRequest) -> HttpResponse:
    """Show, regenerate or revoke my API token."""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.api_token_revoke(user=request.user)
            messages.success(request, "Your API token is revoked: scripts that used it are refused now.")
        else:
            services.api_token_regenerate(user=request.user)
            messages.success(request, "A new API token is ready; the old one no longer works.")
        return redirect("registry:api-token")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "mirrors/registry/api_token.html", {"token": token})
