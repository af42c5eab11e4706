"""Typed access to environment variables that fails loudly, naming the variable."""

import math
import os
import re

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A bad environment value; manage.py prints it as one line."""


def load_dotenv(path):
    """Sets the KEY=VALUE lines of `path` (if it exists) that the environment does not set.

    `make run` writes its development settings there once; blank lines and `#` comments are
    skipped, values may be quoted.
    """
    if not path or not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.removeprefix("export ").partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            os.environ.setdefault(key, value)


def get_str(name, default=""):
    return os.environ.get(name, default)


def get_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}: expected a boolean (true/false, 1/0, yes/no, on/off), got {raw!r}")


def get_int(name, default, minimum=None):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}: expected an integer >= {minimum}, got {raw!r}")
    return value


def get_choice(name, default, choices):
    """A value among `choices`, compared in upper case (LOG_LEVEL=info is INFO)."""
    value = os.environ.get(name, default).strip().upper() or default
    if value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def get_sentry_dsn(name):
    """A Sentry DSN (https://key@host/project) or "" when unset; never echoes the key."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(raw)
    except BadDsn:
        raise ConfigError(
            f"{name}: not a Sentry DSN (expected https://<key>@<host>/<project id>)"
        ) from None
    return raw


def get_float(name, default, minimum=None, maximum=None):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}: expected a finite number, got {raw!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ConfigError(f"{name}: expected a number between {minimum} and {maximum}, got {raw!r}")
    return value


def get_list(name, default=()):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


def get_database(name, default):
    """Parse a database URL, giving SQLite and PostgreSQL the options they need to be robust."""
    raw = os.environ.get(name) or default
    try:
        config = dj_database_url.parse(raw)
    except ValueError:
        # The URL may hold a password: name only its scheme.
        scheme = raw.split(":", 1)[0] if ":" in raw else ""
        raise ConfigError(
            f"{name}: cannot parse the database URL (scheme {scheme!r}; expected sqlite:///path "
            "or postgres://user@host:port/name)"
        ) from None
    engine = config.get("ENGINE", "")
    options = config.setdefault("OPTIONS", {})
    if engine.endswith("sqlite3"):
        if config.get("NAME") in ("", ":memory:"):
            raise ConfigError(
                f"{name}: an SQLite URL needs a file path (sqlite:///path/to/db.sqlite3)"
            )
        # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock when a
        # transaction begins, so two processes never deadlock upgrading a read lock, and the
        # busy timeout makes the second writer wait instead of failing with "database is locked".
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault(
            "init_command",
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )
    elif engine.endswith("postgresql"):
        options.setdefault("connect_timeout", 5)
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ConfigError(
            f"{name}: unsupported database engine {engine!r} (use sqlite or postgres)"
        )
    config["CONN_MAX_AGE"] = get_int(
        "DATABASE_CONN_MAX_AGE", 0 if engine.endswith("sqlite3") else 60
    )
    return config


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariable(ConfigError):
    """A `${VAR}` reference whose variable is not set."""

    def __init__(self, name):
        super().__init__(f"{name}: environment variable is not set")
        self.name = name


def references(value):
    """The variable names a stored value refers to with `${VAR}`."""
    return _REFERENCE.findall(value) if isinstance(value, str) else []


def expand(value):
    """Resolve the `${VAR}` references of a stored value at the moment it is used.

    Monitors and channels store the reference, never the secret it names: a database dump or an
    export holds `${SLACK_WEBHOOK_URL}`, and the value lives only in the process environment.
    Raises MissingVariable naming the first unset variable."""
    if not isinstance(value, str):
        return value

    def substitute(match):
        name = match.group(1)
        if name not in os.environ:
            raise MissingVariable(name)
        return os.environ[name]

    return _REFERENCE.sub(substitute, value)
