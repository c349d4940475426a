"""WSGI entry point: runserver locally; on Lambda, Zappa's handler loads it (`app_function` in zappa_settings.json)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lego_api.settings")

# Cold start: building the app allocates tens of thousands of objects that live as long as the process. Collecting
# while it runs only costs time, and freezing them afterwards keeps later collections (the first request's too)
# from walking them again. About 15% off a Lambda cold start (tests/perf/bench_coldstart.py).
gc.disable()
try:
    application = get_wsgi_application()
finally:
    gc.enable()
gc.freeze()
