"""Operator accounts: sign-up with an emailed confirmation link, and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework.authtoken.models import Token


class ConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Like the password reset token, but spent once the account is active."""

    key_salt = "mirrors.registry.account-confirmation"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{user.pk}{user.is_active}{user.email}{timestamp}"


confirmation_tokens = ConfirmationTokenGenerator()


def account_signup(*, username: str, email: str, password: str, base_url: str):
    """Create an inactive account and email its confirmation link; it can log in once confirmed."""
    user_model = get_user_model()
    username = (username or "").strip()
    email = (email or "").strip()
    errors: dict[str, str] = {}
    try:
        user_model.username_validator(username)
    except ValidationError as exc:
        errors["username"] = exc.messages[0]
    if not errors and user_model.objects.filter(username__iexact=username).exists():
        errors["username"] = "That user name is taken."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = f"{email!r} is not an email address."
    else:
        if user_model.objects.filter(email__iexact=email).exists():
            errors["email"] = "An account with this address exists already: log in or reset its password."
    if errors:
        raise ValidationError(errors)
    user = user_model(username=username, email=email, is_active=False)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password1": exc.error_list}) from None
    user.set_password(password)
    with transaction.atomic():
        user.save()
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        link = base_url.rstrip("/") + reverse(
            "registry:signup-confirm", args=[uid, confirmation_tokens.make_token(user)]
        )
        body = (
            f"Someone (we hope you) signed up for a mirror operator account {username!r} at mirrormanager.\n\n"
            f"Confirm your address by following this link:\n{link}\n\n"
            "If it was not you, ignore this message: the account stays locked.\n"
        )
        transaction.on_commit(
            lambda: send_mail("[mirrormanager] Confirm your account", body, settings.DEFAULT_FROM_EMAIL, [email])
        )
    return user


def account_confirm(*, uidb64: str, token: str):
    """Activate the account a confirmation link names; None when the link is not valid (or used)."""
    user_model = get_user_model()
    try:
        user = user_model.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError, user_model.DoesNotExist):
        return None
    if user.is_active or not confirmation_tokens.check_token(user, token):
        return None
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


def api_token_regenerate(*, user) -> Token:
    """Replace the user's API token (the old one stops working at once)."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def api_token_revoke(*, user) -> None:
    """Remove the user's API token."""
    Token.objects.filter(user=user).delete()
