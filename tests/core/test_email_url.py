"""EMAIL_URL becomes Django's EMAIL_* settings; a bad value is refused with a message."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from mirrormanager.config import parse_email_url

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def test_unset_is_the_console():
    assert parse_email_url(None) == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", {"EMAIL_HOST": "mail.example.org", "EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
        ("smtp+tls://u%40x:p%2Fw@mail.example.org", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True,
                                                      "EMAIL_HOST_USER": "u@x", "EMAIL_HOST_PASSWORD": "p/w"}),
        ("smtps://mail.example.org:2465", {"EMAIL_PORT": 2465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
        ("smtp+ssl://mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
    ],
)  # fmt: skip
def test_smtp(url, expected):
    config = parse_email_url(url)
    assert config["EMAIL_BACKEND"] == SMTP
    assert {key: config[key] for key in expected} == expected


def test_other_backends():
    assert parse_email_url("locmem://")["EMAIL_BACKEND"].endswith("locmem.EmailBackend")
    assert parse_email_url("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert parse_email_url("file:///srv/mail")["EMAIL_FILE_PATH"] == "/srv/mail"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("imap://mail.example.org", "supported are"),
        ("mail.example.org", "scheme '(none)'"),
        ("smtp://", "names no mail server"),
        ("smtp://mail.example.org:port", "bad port"),
        ("file://", "names no folder"),
    ],
)
def test_bad_values_say_what_is_wrong(url, words):
    with pytest.raises(ImproperlyConfigured, match=re.escape(words)):
        parse_email_url(url)
