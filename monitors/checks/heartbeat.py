"""Heartbeat: a job pings Vigie; silence past its period and grace is a failure."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from vigie.phrases import Phrase

from .base import Key, Outcome, clean_config, number

SCHEMA = {
    "period": Key(number(minimum=1), 86400),  # seconds between two pings
    "grace": Key(number(minimum=0), 3600),  # seconds of lateness tolerated
}


def validate(config):
    return clean_config(SCHEMA, config)


def moment(value):
    # In the site's time zone, as every other time on the pages that show it.
    local = timezone.localtime(value, timezone.get_default_timezone())
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


def evaluate(config, *, last_ping_at, last_ping_kind, since, now):
    """The state of a heartbeat at `now`, from its last ping ("success", "fail" or "start")
    and `since`, when the check was created or resumed (the silence counts from there when no
    ping came after it)."""
    period = timedelta(seconds=config["period"])
    grace = timedelta(seconds=config["grace"])
    if last_ping_at is not None and last_ping_at >= since:
        if last_ping_kind == "fail":
            return Outcome(
                ok=False,
                message=Phrase(
                    gettext_noop("the job reported a failure at %(at)s"), at=moment(last_ping_at)
                ),
                details={"last_ping_at": last_ping_at.isoformat()},
            )
        if last_ping_kind == "start" and now > last_ping_at + grace:
            return Outcome(
                ok=False,
                message=Phrase(
                    gettext_noop("started at %(at)s and never finished"), at=moment(last_ping_at)
                ),
                details={"last_ping_at": last_ping_at.isoformat()},
            )
        reference = last_ping_at
    else:
        reference = since
    expected_by = reference + period + grace
    details = {
        "last_ping_at": last_ping_at.isoformat() if last_ping_at else None,
        "expected_by": expected_by.isoformat(),
    }
    if now > expected_by:
        message = Phrase(gettext_noop("no ping since %(at)s"), at=moment(reference))
        return Outcome(ok=False, message=message, details=details)
    if last_ping_kind == "start" and reference is last_ping_at:
        message = Phrase(gettext_noop("running since %(at)s"), at=moment(last_ping_at))
        return Outcome(ok=True, message=message, details=details)
    return Outcome(ok=True, message="ok", details=details)
