"""Running Vigie's own manage.py in a child process, for what only a real process shows."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


TEST_ENCRYPTION_KEY = "Cb5bYMBbC2nCcS5XXyAOpu2Ly0fLGrN8OLH6gfvdo3w="


def vigie_env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({"DEBUG": "true", "LOG_FORMAT": "console", "SENTRY_DSN": "", "VIGIE_ENV_FILE": ""})
    # Production settings require a Fernet key; a child started with DEBUG off gets this one.
    env.setdefault("VIGIE_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)
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
