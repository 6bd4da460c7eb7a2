"""Writes of the mirror registry: every change and state transition, each in a transaction, each audited."""

from mirrors.registry.services.accounts import account_confirm, account_signup, api_token_regenerate, api_token_revoke
from mirrors.registry.services.hosts import (
    host_approve,
    host_create,
    host_delete,
    host_disable,
    host_enable,
    host_reject,
    host_set_enabled,
    host_update,
)
from mirrors.registry.services.restrictions import (
    host_country_create,
    host_country_delete,
    host_peer_asn_create,
    host_peer_asn_delete,
    host_url_create,
    host_url_delete,
    host_url_update,
    netblock_create,
    netblock_delete,
)
from mirrors.registry.services.sites import (
    site_admin_remove,
    site_create,
    site_delete,
    site_invitation_accept,
    site_invite,
    site_update,
)
from mirrors.registry.services.verification import VerificationOutcome, host_token_regenerate, host_verify

__all__ = [
    "VerificationOutcome",
    "account_confirm",
    "account_signup",
    "api_token_regenerate",
    "api_token_revoke",
    "host_approve",
    "host_country_create",
    "host_country_delete",
    "host_create",
    "host_delete",
    "host_disable",
    "host_enable",
    "host_peer_asn_create",
    "host_peer_asn_delete",
    "host_reject",
    "host_set_enabled",
    "host_token_regenerate",
    "host_update",
    "host_url_create",
    "host_url_delete",
    "host_url_update",
    "host_verify",
    "netblock_create",
    "netblock_delete",
    "site_admin_remove",
    "site_create",
    "site_delete",
    "site_invitation_accept",
    "site_invite",
    "site_update",
]
