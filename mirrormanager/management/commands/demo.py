"""manage.py demo: seed a working demo network on this machine (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mirrormanager.demo import credentials_file, demo_seed


class Command(BaseCommand):
    help = "Create the demo admin and operator, a tiny local upstream, and publish it. Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_seed(log=lambda line: self.stdout.write(f"demo: {line}"))
        for username, password in result.new_passwords.items():
            self.stdout.write(self.style.SUCCESS(f"demo: created account {username!r} with password {password!r}"))
        if not result.new_passwords:
            self.stdout.write(f"demo: accounts exist already; first-run passwords are in {credentials_file()}")
