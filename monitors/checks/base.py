"""What every check runner shares: the Outcome it returns and the way its config is checked."""

import copy
import urllib.parse
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vigie import env
from vigie.phrases import Phrase


@dataclass
class Outcome:
    """The result of one run of a check. `severity`, when set, overrides the check's own (a TLS
    certificate in its warning window, a third-party status page)."""

    ok: bool
    message: str
    latency: float | None = None  # seconds
    status_code: int | None = None
    details: dict = field(default_factory=dict)  # JSON-able
    severity: str | None = None


class Failure(Exception):
    """Raised inside a runner to end the run with Outcome(ok=False, message)."""


def expand(value):
    """Resolve `${VAR}` references at run time; a missing variable fails naming it only."""
    try:
        return env.expand(value)
    except env.MissingVariable as exc:
        raise Failure(
            Phrase(gettext_noop("environment variable %(name)s is not set"), name=exc.name)
        ) from None


REQUIRED = object()


@dataclass(frozen=True)
class Key:
    """One config key: how to parse it (a callable raising ValueError(message)) and its
    default (REQUIRED when it has none)."""

    parse: object
    default: object = None


def clean_config(schema, config):
    """Check `config` against `schema` (key -> Key): unknown keys refused, values parsed,
    defaults filled. Raises ValidationError({key: message}) naming every bad key."""
    if not isinstance(config, dict):
        raise ValidationError(_("the configuration of a check is a mapping of keys to values"))
    errors = {key: _("unknown key") for key in config if key not in schema}
    cleaned = {}
    for key, spec in schema.items():
        value = config.get(key)
        if value is None:
            if spec.default is REQUIRED:
                errors[key] = _("this key is required")
            else:
                cleaned[key] = copy.deepcopy(spec.default)
            continue
        try:
            cleaned[key] = spec.parse(value)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def text(value):
    if not isinstance(value, str):
        raise ValueError(_("expected a string"))
    return value


def non_empty_text(value):
    value = text(value).strip()
    if not value:
        raise ValueError(_("must not be empty"))
    return value


def number(minimum=None, maximum=None, integer=False):
    def parse(value):
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError(_("expected a whole number") if integer else _("expected a number"))
        if minimum is not None and value < minimum:
            raise ValueError(_("must be at least %(minimum)s") % {"minimum": minimum})
        if maximum is not None and value > maximum:
            raise ValueError(_("must be at most %(maximum)s") % {"maximum": maximum})
        return value

    return parse


def string_map(value):
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(_("expected a mapping of strings to strings"))
    return dict(value)


def host_name(value):
    value = non_empty_text(value)
    if any(c in value for c in "/:@ ") and not value.startswith("["):
        raise ValueError(_("expected a host name, without scheme, port or path"))
    return value


def http_url(value):
    value = non_empty_text(value)
    if not value.lower().startswith(("http://", "https://", "${")):
        raise ValueError(_("expected an http:// or https:// URL"))
    return value


def url_host(url):
    """The host of a URL as saved, or None when it is not known before the run (`${VAR}`)."""
    if "${" in url:
        return None
    try:
        return urllib.parse.urlsplit(url).hostname
    except ValueError:
        return None
