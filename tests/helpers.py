"""Running Vigie's own manage.py in a child process, for what only a real process shows."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def vigie_env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({"DEBUG": "true", "LOG_FORMAT": "console", "SENTRY_DSN": "", "VIGIE_ENV_FILE": ""})
    env.update(overrides)
    return env


def manage(*args, env=None, timeout=60, check=False):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env or vigie_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )
