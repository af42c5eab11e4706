"""Read by gunicorn from the working directory: settings are checked once, in the master.

A bad environment value (DATABASE_URL, …) then stops gunicorn with one line naming the
variable, instead of every worker failing at import and being respawned forever.
"""

import os
import sys


def on_starting(server):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
    from django.conf import settings

    from vigie.env import ConfigError

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings)
    except ConfigError as exc:
        sys.exit(f"vigie: {exc}")
