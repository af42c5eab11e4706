from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from monitors.models import Check, CheckResult, Incident, IncidentEvent
from vigie.phrases import spoken

register = template.Library()


@register.filter
def since(value, now=None, depth=2):
    """How long ago `value` was, "< 1 min" under a minute (timesince says "0 minutes")."""
    if value is None:
        return "—"
    now = now or timezone.now()
    if (now - value).total_seconds() < 60:
        return _("< 1 min")
    return timesince(value, now, depth=depth)


@register.inclusion_tag("monitors/latency.html")
def latency(check):
    """The last latency when it was measured, else "—" and why not."""
    if check.last_latency is not None:
        return {"seconds": check.last_latency}
    if check.last_checked_at is None:
        reason = _("not run yet")
    elif check.kind == check.Kind.HEARTBEAT:
        reason = _("a heartbeat has no latency")
    else:
        reason = _("no answer measured")
    return {"reason": reason}


@register.filter
def message_of(item):
    """A check's last message, a result's, an incident event's or an incident's title, in the
    reader's language when it was written as a Phrase (vigie.phrases), else as stored."""
    # By model, not by attribute: an incident also answers `last_message` (its check's).
    for model, text, stored in (
        (Incident, "title", lambda: item.title_said),
        (Check, "last_message", lambda: item.last_details.get("said")),
        (CheckResult, "message", lambda: item.details.get("said")),
        (IncidentEvent, "text", lambda: item.data.get("said")),
    ):
        if isinstance(item, model):
            return spoken(stored(), getattr(item, text))
    return ""
