"""Admin registrations of the mirrors app: one module per part."""

from mirrors.mirrorlist import admin as mirrorlist_admin  # noqa: F401
