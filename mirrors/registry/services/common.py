"""What every registry service shares: the actor in the audit trail, rights, field errors, the change signal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from mirrors.models import Host, Site
from mirrors.registry.selectors import user_can_manage_site
from mirrors.signals import registry_changed

T = TypeVar("T")
_actor_set: ContextVar[bool] = ContextVar("registry_actor_set", default=False)


@contextlib.contextmanager
def acting(actor) -> Iterator[None]:
    """Name `actor` in every audit entry written inside; nested services keep the outermost actor.

    auditlog's set_actor must not be nested (the outer receiver would never be disconnected).
    """
    if _actor_set.get() or actor is None or not getattr(actor, "is_authenticated", False):
        yield
        return
    token = _actor_set.set(True)
    try:
        with set_actor(actor):
            yield
    finally:
        _actor_set.reset(token)


def audit_note(instance: Any, **data: Any) -> None:
    """Attach data (a transition, its reason, an override) to the audit entry of the instance's next save."""
    instance.get_additional_data = lambda: data


def field_check(field: str, check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a validation function, naming the field in its error so forms and the API put it in the right place."""
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from None


def require_site_manager(actor, site: Site) -> None:
    """The owner, a co-admin or a project admin; anyone else is refused."""
    if not user_can_manage_site(actor, site):
        raise PermissionDenied("You do not manage this site.")


def require_staff(actor) -> None:
    if not (actor is not None and actor.is_authenticated and actor.is_staff):
        raise PermissionDenied("Only project admins may do this.")


def changed_on_commit(*, change: str, host_ids: tuple[int, ...] = (), site_id: int | None = None) -> None:
    """Tell the mirrorlist (and anyone listening) once the transaction has committed."""

    def send() -> None:
        registry_changed.send(sender=Host, change=change, host_ids=host_ids, site_id=site_id)

    transaction.on_commit(send)
