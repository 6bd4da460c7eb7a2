"""manage.py install_schedules: (re)install the queue schedules declared in mirrormanager/schedules.py."""

from typing import Any

from django.core.management.base import BaseCommand

from mirrormanager.schedules import install_schedules


class Command(BaseCommand):
    help = "Create or update the queue schedules declared in code (also done after every migrate)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name in install_schedules():
            self.stdout.write(f"schedule {name}: installed")
