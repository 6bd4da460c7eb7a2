"""WSGI entry point: gunicorn mirrormanager.wsgi."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirrormanager.settings")
application = get_wsgi_application()

from mirrors.mirrorlist.wsgi import with_fast_path  # noqa: E402 -- needs the settings loaded above

# Anonymous mirrorlist requests skip Django's request cycle (the same answers, measured in bench/).
application = with_fast_path(application)
