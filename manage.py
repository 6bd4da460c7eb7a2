#!/usr/bin/env python
"""Django's command-line utility for mirrormanager."""

import os
import sys

# Commands that serve or work for a long time keep their INFO log lines on the console.
SERVING_COMMANDS = {"qcluster", "runserver"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirrormanager.settings")
    if len(sys.argv) > 1 and sys.argv[1] not in SERVING_COMMANDS:
        # A command's summary is its output: its INFO log lines would say the same again on stderr.
        os.environ.setdefault("CONSOLE_LOG_LEVEL", "WARNING")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
