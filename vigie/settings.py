"""Vigie's settings: everything that varies between deployments comes from the environment."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from vigie import env
from vigie.env import ConfigError

BASE_DIR = Path(__file__).resolve().parent.parent
# `make run`'s development settings; the environment wins. VIGIE_ENV_FILE="" reads none.
env.load_dotenv(env.get_str("VIGIE_ENV_FILE", str(BASE_DIR / ".env")))

DEBUG = env.get_bool("DEBUG", False)

SECRET_KEY = env.get_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError("SECRET_KEY: required when DEBUG is off (set a long random string)")
    SECRET_KEY = "django-insecure-vigie-development-only"  # noqa: S105

# Fernet keys for the secrets stored in the database (vigie/crypto.py): the first encrypts,
# all decrypt. Development derives one from SECRET_KEY; production (and tests) set it.
VIGIE_ENCRYPTION_KEYS = env.get_list("VIGIE_ENCRYPTION_KEYS")
if not VIGIE_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ConfigError(
            "VIGIE_ENCRYPTION_KEYS: required when DEBUG is off (a Fernet key; see the README, "
            "'Stored secrets')"
        )
    _derived = hashlib.sha256(b"vigie-encryption:" + SECRET_KEY.encode()).digest()
    VIGIE_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_derived).decode()]
for _key in VIGIE_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ConfigError(
            "VIGIE_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes (Fernet)"
        ) from None

PUBLIC_ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
# Container probes speak to the loopback address, and a probe from another container (compose's
# worker, Prometheus) to the service's name, listed in PROBE_HOSTS: these names are allowed for
# PROBE_PATHS only (vigie.middleware.ProbeHostMiddleware), whatever ALLOWED_HOSTS says.
PROBE_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
for _host in env.get_list("PROBE_HOSTS"):
    # The middleware compares exact names: a pattern would reach every page through ALLOWED_HOSTS.
    if _host.startswith(".") or "*" in _host:
        raise ConfigError(f"PROBE_HOSTS: {_host!r} is a pattern; list exact host names (web)")
    if _host.lower() not in PROBE_HOSTS:
        PROBE_HOSTS.append(_host.lower())
PROBE_PATHS = ["/health", "/metrics"]
ALLOWED_HOSTS = PUBLIC_ALLOWED_HOSTS + [h for h in PROBE_HOSTS if h not in PUBLIC_ALLOWED_HOSTS]
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if "://" not in _origin:
        raise ConfigError(f"CSRF_TRUSTED_ORIGINS: {_origin!r} needs a scheme (https://…)")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "axes",
    "vigie",
    "rotation",
    "triage",
    "monitors",
]

MIDDLEWARE = [
    "vigie.middleware.ProbeHostMiddleware",
    "vigie.middleware.RequestIdMiddleware",
    "vigie.metrics.MetricsMiddleware",
    "vigie.middleware.BadInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "vigie.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "vigie.middleware.NoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "vigie.middleware.SentryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Login throttling: 5 failures lock the account (whatever the address) and, separately, the
# address (whatever the account) for 15 minutes; unlock in the admin (Axes > access attempts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.get_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "vigie.accounts.locked_out"

ROOT_URLCONF = "vigie.urls"
WSGI_APPLICATION = "vigie.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vigie.context_processors.navigation",
                "rotation.context_processors.watch_badge",
            ],
        },
    },
]

DATA_DIR = Path(env.get_str("VIGIE_DATA_DIR", str(BASE_DIR / "var")))
DATABASES = {"default": env.get_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'vigie.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.get_str("TIME_ZONE", "Europe/Paris")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ConfigError(f"TIME_ZONE: unknown time zone {TIME_ZONE!r} (e.g. Europe/Paris)") from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Development and tests serve files from the apps; production from the collected STATIC_ROOT.
WHITENOISE_AUTOREFRESH = DEBUG

# Security: strict by default, relaxed only by DEBUG for local development.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 0 if DEBUG else env.get_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", True)
SECURE_SSL_REDIRECT = env.get_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes (load balancer, docker health check, Prometheus) speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
if env.get_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# What Vigie caches: the item detail's upstream answers, the public status pages. "memory" is
# per process (each gunicorn worker asks Sentry once per item); "database" is one table,
# created by `migrate`, that every web worker and container shares.
CACHE_BACKENDS = {
    "MEMORY": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "DATABASE": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "vigie_cache",
    },
}
CACHES = {"default": CACHE_BACKENDS[env.get_choice("VIGIE_CACHE", "MEMORY", tuple(CACHE_BACKENDS))]}

# django-q2: the database is the broker, so SQLite alone runs web and worker.
Q_CLUSTER = {
    "name": "vigie",
    "orm": "default",
    # Two workers hold the one-minute rounds of the check scheduler and of the outbox; the others
    # run syncs and qualifications.
    "workers": env.get_int("VIGIE_WORKERS", 4, minimum=1),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "poll": 1,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "sync": False,
    "label": "Tâches",
}

METRICS_TOKEN = env.get_str("METRICS_TOKEN")
# Where the board's "Bug" button opens issues (GitHub Enterprise: https://host/api/v3).
VIGIE_GITHUB_TOKEN = env.get_str("VIGIE_GITHUB_TOKEN")
VIGIE_GITHUB_API_URL = env.get_str("VIGIE_GITHUB_API_URL", "https://api.github.com")


# Links in notifications and emails point here; unset, at the address `make run` (or
# `serve --addr`) serves on, which it passes as VIGIE_ADDR.
VIGIE_BASE_URL = env.get_str("VIGIE_BASE_URL") or "http://" + env.get_str(
    "VIGIE_ADDR", "127.0.0.1:8000"
)
# Email notifications: SMTP (a local relay unless EMAIL_HOST says otherwise); printed in DEBUG.
MAILERS = {
    "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if DEBUG
    else {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env.get_str("EMAIL_HOST", "localhost"),
            "port": env.get_int("EMAIL_PORT", 25),
            "username": env.get_str("EMAIL_HOST_USER"),
            "password": env.get_str("EMAIL_HOST_PASSWORD"),
            "use_tls": env.get_bool("EMAIL_USE_TLS", False),
            "timeout": 30,
        },
    }
}
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "vigie@localhost")
# A worker heartbeat older than this makes /health degraded.
WORKER_HEARTBEAT_MAX_AGE = env.get_int("VIGIE_WORKER_HEARTBEAT_MAX_AGE", 120)

SENTRY_DSN = env.get_sentry_dsn("SENTRY_DSN")
SENTRY_ENVIRONMENT = env.get_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_RELEASE = env.get_str("SENTRY_RELEASE") or None
SENTRY_TRACES_SAMPLE_RATE = env.get_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, 0.0, 1.0)
SENTRY_PROFILES_SAMPLE_RATE = env.get_float("SENTRY_PROFILES_SAMPLE_RATE", 0.0, 0.0, 1.0)

LOG_LEVEL = env.get_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOG_FORMAT = env.get_str("LOG_FORMAT", "console" if DEBUG else "json")
if LOG_FORMAT not in ("console", "json"):
    raise ConfigError(f"LOG_FORMAT: expected 'console' or 'json', got {LOG_FORMAT!r}")

from vigie.logging import build_logging, register_secret  # noqa: E402  (needs the values above)

LOGGING_CONFIG = None
build_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)
for _secret in (VIGIE_GITHUB_TOKEN, SENTRY_DSN):
    register_secret(_secret)

if SENTRY_DSN:
    from vigie.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        profiles_sample_rate=SENTRY_PROFILES_SAMPLE_RATE,
    )
# Notifications (the outbox): given up after this many hours of failed attempts; the delivery
# task runs every minute and keeps delivering for this many seconds of it.
VIGIE_NOTIFY_GIVE_UP_HOURS = env.get_int("VIGIE_NOTIFY_GIVE_UP_HOURS", 24)
VIGIE_NOTIFY_WINDOW = env.get_float("VIGIE_NOTIFY_WINDOW", 55.0, minimum=0, maximum=58)
# Notifications reach public https:// receivers only; development (DEBUG) and the tests post
# to receivers on this machine or its network.
VIGIE_NOTIFY_ALLOW_PRIVATE = env.get_bool("VIGIE_NOTIFY_ALLOW_PRIVATE", DEBUG)

# Escalation: the delays (minutes after an incident opens) of the tech lead and CTO levels a
# new team starts with (seed 004); each team's managers change theirs in the admin.
ESCALATION_L2_DELAY_MINUTES = env.get_int("ESCALATION_L2_DELAY_MINUTES", 15, minimum=0)
ESCALATION_L3_DELAY_MINUTES = env.get_int("ESCALATION_L3_DELAY_MINUTES", 30, minimum=0)

# Monitors: raw results are kept this many days, then folded into hourly aggregates kept
# MONITORS_HOURLY_RETENTION_DAYS; an unacknowledged incident re-notifies its current level
# every MONITORS_RENOTIFY_MINUTES; a signed acknowledge link expires after
# MONITORS_ACK_LINK_MAX_AGE seconds.
MONITORS_RESULT_RETENTION_DAYS = env.get_int("MONITORS_RESULT_RETENTION_DAYS", 7, minimum=1)
MONITORS_HOURLY_RETENTION_DAYS = env.get_int("MONITORS_HOURLY_RETENTION_DAYS", 90, minimum=1)
MONITORS_RENOTIFY_MINUTES = env.get_int("MONITORS_RENOTIFY_MINUTES", 30, minimum=1)
MONITORS_ACK_LINK_MAX_AGE = env.get_int("MONITORS_ACK_LINK_MAX_AGE", 24 * 3600, minimum=60)
# Checks run concurrently in this many threads per worker; a check's claim on its slot lasts
# its timeout plus this margin (seconds), after which another worker may take it.
# Threads only wait on the network: with 32, a round of 1,000 checks (5 % slow at 2 s) took
# 1.64x a bare asyncio loop of the same GETs; with 64, 1.30x (bench/monitors.py), at 93 MB.
MONITORS_THREADS = env.get_int("MONITORS_THREADS", 64, minimum=1)
MONITORS_CLAIM_MARGIN = env.get_int("MONITORS_CLAIM_MARGIN", 30, minimum=1)
# /health reports the check scheduler failing when its last tick is older (seconds).
MONITORS_SCHEDULER_MAX_AGE = env.get_int("MONITORS_SCHEDULER_MAX_AGE", 90, minimum=20)
