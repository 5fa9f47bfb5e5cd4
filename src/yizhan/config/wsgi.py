import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.config.settings.dev")
application = get_wsgi_application()

# Load the URL configuration (and with it every app's API) now, while the worker boots, not on
# its first request: a worker that replaces a killed one would otherwise keep that request
# waiting for seconds (benchmarks/load.py measured 15-22 s under load).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
