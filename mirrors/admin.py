"""The Django admin of the mirrors app: each part registers its own models."""

import mirrors.registry.admin  # noqa: F401
from mirrors.mirrorlist import admin as mirrorlist_admin  # noqa: F401
