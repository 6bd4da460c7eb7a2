"""Seeding of the demo network: accounts and, as later parts land, a tiny upstream, its sync and publication."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from mirrors.probing.demo import demo_network_ensure
from mirrors.registry.demo import demo_registry_ensure

DEMO_ACCOUNTS = (
    # username, email, is_staff/superuser
    ("admin", "admin@mirrors.example", True),
    ("operator", "operator@mirrors.example", False),
)
DEMO_UPSTREAM_NAME = "demo"


@dataclass
class DemoResult:
    """What a demo run did, for the command to print."""

    new_passwords: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def credentials_file() -> Path:
    """Where first-run passwords are kept (under var/, never committed) so a later `make run` can show them."""
    return Path(settings.VAR_DIR) / "demo-credentials.txt"


@transaction.atomic
def demo_accounts_ensure() -> dict[str, str]:
    """Create the demo admin and operator when missing; returns the passwords of the accounts it created."""
    user_model = get_user_model()
    created: dict[str, str] = {}
    for username, email, is_admin in DEMO_ACCOUNTS:
        if user_model.objects.filter(username=username).exists():
            continue
        password = secrets.token_urlsafe(12)
        if is_admin:
            user_model.objects.create_superuser(username, email, password)
        else:
            user_model.objects.create_user(username, email, password)
        created[username] = password
    if created:
        path = credentials_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            for username, password in created.items():
                handle.write(f"{username} {password}\n")
        path.chmod(0o600)
    return created


def demo_upstream_ensure(log: Callable[[str], None]) -> None:
    """Write a tiny local upstream of valid packages, register it, sync it and publish every collection."""
    from metadata.models import Collection
    from metadata.services import collections_publish_all
    from sync.models import Upstream
    from sync.sample_packages import DEMO_PACKAGES, write_static_index
    from sync.services import upstream_add, upstream_sync

    root = Path(settings.VAR_DIR) / "demo-upstream"
    if not (root / "simple" / "index.html").exists():
        write_static_index(root, list(DEMO_PACKAGES))
        log(f"wrote a demo upstream of {len(DEMO_PACKAGES)} files under {root}")
    upstream = Upstream.objects.filter(name=DEMO_UPSTREAM_NAME).first()
    if upstream is None:
        upstream = upstream_add(name=DEMO_UPSTREAM_NAME, url=(root / "simple").resolve().as_uri() + "/")
        log(f"registered upstream {upstream.name} at {upstream.url}")
    run = upstream_sync(upstream=upstream)
    log(f"synced {upstream.name}: {run.outcome}, {run.files_new} new files, {run.files_failed} failed")
    Collection.objects.get_or_create(
        slug="wheels-only",
        defaults={
            "title": "Wheels only",
            "description": "Demo: wheels for any platform, no sdists, no prereleases.",
            "package_types": ["bdist_wheel"],
            "include_prereleases": False,
        },
    )
    for revision in collections_publish_all():
        log(f"published {revision.collection.slug} revision {revision.number}")


def demo_seed(log: Callable[[str], None]) -> DemoResult:
    """Seed the demo network; safe to run any number of times."""
    result = DemoResult(new_passwords=demo_accounts_ensure())
    demo_upstream_ensure(log)
    demo_registry_ensure(log)
    demo_network_ensure(
        log, var_dir=settings.VAR_DIR, mirror_root=settings.MIRROR_ROOT, upstream_name=DEMO_UPSTREAM_NAME
    )
    from mirrors.mirrorlist.services import mirrorlist_build_logged  # the mirrorlist answers the demo mirrors

    mirrorlist_build_logged(log)
    return result
