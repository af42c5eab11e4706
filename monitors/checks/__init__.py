"""Check runners, pure of any model: a kind maps to its module; a new kind is one file, one line.

`validate(kind, config)` cleans a config when a check is saved; `run(kind, config, ...)` runs it
and never raises: every error is an Outcome(ok=False, message=...) a person can read. Heartbeats
do not run: `heartbeat.evaluate()` judges them from their pings."""

import structlog
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vigie.http import ProbeError, literal_refusal
from vigie.phrases import Phrase

from . import heartbeat, http, sql, statuspage, tls
from .base import Failure, Outcome

logger = structlog.get_logger(__name__)

KINDS = {
    "http": http,
    "tls": tls,
    "statuspage": statuspage,
    "sql": sql,
    "heartbeat": heartbeat,
}
RUNNABLE = ("http", "tls", "statuspage", "sql")


def validate(kind, config, *, allow_private=True):
    """The cleaned config of a check of `kind` (defaults filled), or ValidationError naming
    each bad key. Unless `allow_private`, a target that is plainly internal (127.0.0.1,
    10.0.0.5, localhost) is refused too: saved, it would only fail its every run, paging
    for an outage that is a mistake in its config. Names are not resolved here: the run
    guards the address it reaches."""
    try:
        module = KINDS[kind]
    except KeyError:
        raise ValidationError(
            {
                "type": _("unknown check type %(kind)r (expected one of %(kinds)s)")
                % {"kind": kind, "kinds": ", ".join(KINDS)}
            }
        ) from None
    cleaned = module.validate(config)
    if not allow_private and hasattr(module, "targets"):
        errors = {}
        for key, host in module.targets(cleaned).items():
            refusal = literal_refusal(host) if host else None
            if refusal:
                errors[key] = _(
                    "%(host)s is %(kind)s: a check reaches private addresses only when it "
                    "allows them (allow_private)"
                ) % {"host": host, "kind": _(refusal.msgid)}
        if errors:
            raise ValidationError(errors)
    return cleaned


def run(kind, config, *, timeout, allow_private):
    """Run one check of `kind` with its whole `timeout` (seconds) and return its Outcome."""
    if kind not in RUNNABLE:
        return Outcome(
            ok=False,
            message=Phrase(
                gettext_noop("%(kind)s checks do not run (heartbeats are pinged)"), kind=repr(kind)
            ),
        )
    try:
        cleaned = validate(kind, config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{key}: {' '.join(messages)}" for key, messages in exc.message_dict.items()
        )
        return Outcome(
            ok=False,
            message=Phrase(gettext_noop("invalid configuration: %(problems)s"), problems=problems),
        )
    try:
        return KINDS[kind].run(cleaned, timeout=timeout, allow_private=allow_private)
    except (Failure, ProbeError) as exc:
        return Outcome(ok=False, message=exc.args[0])  # a Phrase, when it was written as one
    except Exception as exc:  # a bug in a runner must not take the scheduler down
        logger.exception("check_runner_crashed", kind=kind)
        return Outcome(
            ok=False,
            message=Phrase(
                gettext_noop("internal error in the %(kind)s check (%(error)s)"),
                kind=kind,
                error=exc.__class__.__name__,
            ),
        )


__all__ = ["KINDS", "Outcome", "run", "validate"]
