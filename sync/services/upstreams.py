"""Registering, checking, disabling, enabling and removing upstreams."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from sync.engine.http import Client, FetchError, file_tree_root
from sync.engine.index import IndexFormatError, parse_root
from sync.filters import FilterSpec
from sync.models import File, Project, Upstream
from sync.services.client import client_limits, client_policy

# The check before registering is one quick look, not a sync: no retries, short timeouts.
CHECK_TIMEOUT_SECONDS = 10
# The ValidationError codes of a failed check (as opposed to a URL that is wrong in itself).
CHECK_CODES = frozenset({"unreachable", "not_an_index"})


@dataclass(frozen=True)
class UpstreamCheck:
    """What the root page of an upstream showed."""

    url: str
    projects: int
    serial: int | None


@dataclass(frozen=True)
class UpstreamRemoval:
    """What removing an upstream takes from the catalogue (counted before, or done)."""

    name: str
    projects: int
    files: int
    stored_bytes: int
    removed: bool


def upstream_check(*, url: str) -> UpstreamCheck:
    """Fetch the root page of a simple index and parse it; ValidationError on `url` saying what went wrong."""
    limits = dataclasses.replace(
        client_limits(),
        retries=0,
        connect_timeout=min(client_limits().connect_timeout, CHECK_TIMEOUT_SECONDS),
        read_timeout=min(client_limits().read_timeout, CHECK_TIMEOUT_SECONDS),
    )
    local_roots = (file_tree_root(url),) if urlsplit(url).scheme == "file" else ()
    try:
        # The upstream's own host:port may be private, as the sync allows it (client_policy).
        with Client(limits, pool_size=1, local_roots=local_roots, policy=client_policy(url)) as client:
            page = client.get_page(url)
    except FetchError as error:
        refused = ValidationError(f"the root page does not answer: {error}", code="unreachable")
        raise ValidationError({"url": refused}) from error
    try:
        listing = parse_root(page.body, content_type=page.content_type, base_url=page.url)
    except (IndexFormatError, ValueError) as error:
        refused = ValidationError(f"the root page is not a simple index: {error}", code="not_an_index")
        raise ValidationError({"url": refused}) from error
    return UpstreamCheck(url=url, projects=len(listing.projects), serial=page.serial or listing.serial)


@dataclass(frozen=True)
class UpstreamAdded:
    upstream: Upstream
    check: UpstreamCheck | None


def _upstream_new(*, name: str, url: str, filters: dict[str, Any] | None) -> Upstream:
    """A validated, unsaved upstream (the URL gets its trailing slash)."""
    url = url.strip()
    if url and not url.endswith("/"):
        url += "/"
    try:
        spec = FilterSpec.from_dict(filters or {})
    except ValueError as error:
        raise ValidationError({"filters": str(error)}) from error
    upstream = Upstream(name=name, url=url, filters={} if spec.is_empty() else spec.to_dict())
    upstream.full_clean()
    return upstream


def upstream_add(*, name: str, url: str, filters: dict[str, Any] | None = None) -> Upstream:
    """Register an upstream simple index (http, https, or a file:// static tree), without looking at it.

    The URL gets a trailing slash; filters take the shape of sync.filters.FilterSpec. Raises ValidationError
    with a message naming the bad field (scheme, URL, name taken, filters).
    """
    upstream = _upstream_new(name=name, url=url, filters=filters)
    upstream.save()
    return upstream


def upstream_add_checked(*, name: str, url: str, filters: dict[str, Any] | None = None) -> UpstreamAdded:
    """upstream_add, once its root page has answered and parsed (upstream_check); nothing saved otherwise."""
    upstream = _upstream_new(name=name, url=url, filters=filters)
    check = upstream_check(url=upstream.url)
    upstream.save()
    return UpstreamAdded(upstream=upstream, check=check)


def upstream_enabled_set(*, name: str, enabled: bool) -> Upstream:
    """Enable or disable an upstream (a disabled one is skipped by `sync` and the hourly sync; its files stay)."""
    upstream = Upstream.objects.get(name=name)
    if upstream.enabled != enabled:
        upstream.enabled = enabled
        upstream.save(update_fields=["enabled"])
    return upstream


def upstream_remove(*, name: str, confirmed: bool) -> UpstreamRemoval:
    """Remove an upstream and its projects and files from the catalogue (not the store's blobs).

    Without `confirmed`, an upstream that has files is only counted (removed=False). Blobs stay in the store
    until `collect` finds nothing references them; published trees keep them until their next full publish.
    Raises ValidationError when a collection publishes only this upstream (it would be left without one).
    """
    upstream = Upstream.objects.get(name=name)
    files = File.objects.filter(project__upstream=upstream)
    counted = UpstreamRemoval(
        name=upstream.name,
        projects=Project.objects.filter(upstream=upstream).count(),
        files=files.count(),
        stored_bytes=sum(files.filter(state=File.State.STORED).values_list("size", flat=True)),
        removed=False,
    )
    if counted.files and not confirmed:
        return counted
    try:
        with transaction.atomic():
            upstream.delete()
    except ProtectedError as error:
        slugs = ", ".join(sorted(str(row) for row in error.protected_objects))
        raise ValidationError(
            f"collection {slugs} publishes only upstream {name}: point it at another upstream or delete it first"
        ) from error
    return dataclasses.replace(counted, removed=True)
