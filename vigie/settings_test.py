"""Settings for pytest (pyproject's DJANGO_SETTINGS_MODULE): production settings, then what
tests need. The environment is left as it was, so child processes see the real one."""

import os
from unittest import mock

_TEST_ENVIRONMENT = {
    # Any key will do for tests; never report to Sentry from them.
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "tests-only-not-a-secret-key-0123456789abcdef",
    "SENTRY_DSN": "",
    # A fixed Fernet key: stored secrets are encrypted in tests as in production.
    "VIGIE_ENCRYPTION_KEYS": os.environ.get("VIGIE_ENCRYPTION_KEYS")
    or "dGVzdHMtb25seS1ub3QtYS1zZWNyZXQta2V5LTAxMjM=",
    # A developer's .env (DEBUG=true, …) does not change the tests.
    "VIGIE_ENV_FILE": "",
}
with mock.patch.dict(os.environ, _TEST_ENVIRONMENT):
    from vigie.settings import *  # noqa: F403
    from vigie.settings import PUBLIC_ALLOWED_HOSTS, Q_CLUSTER, STORAGES

# Tasks run inline, in the test's transaction.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
# Static files straight from the apps: no collectstatic manifest to build first.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# The browser tests' live server answers on localhost like any page.
PUBLIC_ALLOWED_HOSTS = [*PUBLIC_ALLOWED_HOSTS, "localhost", "127.0.0.1"]
# A real password hash costs about a second of CPU by design, and the tests make hundreds of
# users; the processes the tests start (serve, demo) keep the real hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The notification transports' receivers are fakes on loopback (tests.fakes.webhook); a test
# of the guard turns this off.
VIGIE_NOTIFY_ALLOW_PRIVATE = True
