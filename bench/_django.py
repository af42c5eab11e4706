"""Django for a bench: production settings (DEBUG would keep every query in memory) on a
scratch database, migrated. Not a bench itself: `make bench` skips files starting with _."""

import atexit
import os
import shutil
import tempfile


def scratch_dir(prefix="vigie-bench-"):
    """A directory for one run's files, removed when the bench exits however it ends."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def setup(database_url=None):
    if database_url is None:
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch_dir()}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("VIGIE_ENCRYPTION_KEYS", "bench-only-key-".ljust(43, "x") + "=")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
    import django
    from django.conf import settings

    # No collectstatic before a bench: static URLs without the manifest.
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
