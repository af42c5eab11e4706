#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from vigie.env import ConfigError

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings now, to report them first)
    except ConfigError as exc:
        # One line naming the variable, not a traceback through the settings module.
        sys.exit(f"vigie: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
