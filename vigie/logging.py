"""Structured logs: JSON lines in production, a readable console in development.

Every line carries the request id of the request that produced it, and no secret ever reaches a
line: values under secret-looking keys, bearer tokens and passwords inside URLs are redacted.
"""

import logging.config
import re

import structlog

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"token|secret|password|passwd|authorization|api_?key|dsn|cookie", re.I)
_SECRET_IN_TEXT = [
    (re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(?i)([?&](?:token|access_token|api_key|secret)=)[^&\s]+"), r"\1" + REDACTED),
]


# Every secret Vigie holds (a source's token or DSN, VIGIE_GITHUB_TOKEN, a channel's URL) is
# registered where it is read, so an upstream that echoes it back (an error body) cannot carry
# it into a stored error, a log line, a flash message or a page.
_REGISTERED = set()
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words


def register_secret(value):
    """Redact `value` from every text that goes through redact_text() from now on."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
        _REGISTERED.add(value)
    return value


def redact_text(text):
    for secret in sorted(_REGISTERED, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _SECRET_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact_mapping(data):
    """`data` (JSON-like) with the values of secret-looking keys masked, at any depth."""
    if isinstance(data, dict):
        return {
            key: REDACTED
            if _SECRET_KEY.search(str(key)) and value not in (None, "")
            else redact_mapping(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact_mapping(value) for value in data]
    if isinstance(data, str):
        return redact_text(data)
    return data


def redact_secrets(_logger, _method, event_dict):
    for key, value in list(event_dict.items()):
        if _SECRET_KEY.search(key) and value not in (None, ""):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


def build_logging(level="INFO", fmt="json"):
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structlog": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "foreign_pre_chain": shared,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        redact_secrets,
                        renderer,
                    ],
                }
            },
            "handlers": {
                "console": {"class": "logging.StreamHandler", "formatter": "structlog"},
            },
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                # One line per request is the metrics middleware's job, not runserver's.
                "django.server": {"level": "WARNING"},
                "django.db.backends": {"level": "INFO"},
            },
        }
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
