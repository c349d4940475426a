"""WSGI entry point (runserver locally; Zappa's handler on Lambda)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lego_api.settings")

application = get_wsgi_application()
