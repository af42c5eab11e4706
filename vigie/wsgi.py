import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")

try:
    application = get_wsgi_application()
except Exception as exc:
    from vigie.env import ConfigError

    if not isinstance(exc, ConfigError):
        raise
    sys.exit(f"vigie: {exc}")
