"""Seed 004's "Info" alerts: a daily digest at 9:00 and a weekly report on Monday 9:00, in each
team's time zone, to the team's info channels through the outbox.

`send_due` runs every few minutes. For each team it sends the latest period that is due and
not sent yet: a worker down at 9:00 catches up when it comes back, once, and periods more
than CATCH_UP late are not replayed. A period is claimed by inserting its Digest row in the
same transaction as its outbox rows, so two workers (or a restart) send it once; a crash
before the commit leaves nothing claimed and the next round sends it.
"""

from datetime import datetime, time, timedelta

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from monitors.models import Channel, Check, Digest, Incident, uptime_of
from rotation.models import Team
from vigie.notify import Message, notify_team

logger = structlog.get_logger(__name__)

DIGEST_TIME = time(9, 0)
MONDAY = 0
# A period not sent within this long after its 9:00 (Vigie down all day) is skipped, rather
# than a Thursday install sending last Monday's report.
CATCH_UP = timedelta(hours=12)


def due_periods(team, now):
    """[(period, local day, start, end)] of the latest daily and weekly digest due at `now`."""
    local = team.local(now)
    day = local.date() if local.time() >= DIGEST_TIME else local.date() - timedelta(days=1)
    monday = day - timedelta(days=(day.weekday() - MONDAY) % 7)

    def at(d):
        return datetime.combine(d, DIGEST_TIME, tzinfo=team.tzinfo)

    return [
        (Digest.Period.DAILY, day, at(day - timedelta(days=1)), at(day)),
        (Digest.Period.WEEKLY, monday, at(monday - timedelta(days=7)), at(monday)),
    ]


def _duration(delta):
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


def compose(team, period, day, start, end, now):
    """(subject, text) of one digest."""
    from rotation.schedule import on_watch
    from triage.handover import qualified_items
    from triage.models import Item

    subject = (
        _("Daily digest of %(team)s, %(day)s")
        if period == Digest.Period.DAILY
        else _("Weekly report of %(team)s, week of %(day)s")
    ) % {"team": team.name, "day": day.isoformat()}
    lines = [_("From %(start)s to %(end)s") % {
        "start": team.local(start).strftime("%Y-%m-%d %H:%M"),
        "end": team.local(end).strftime("%Y-%m-%d %H:%M"),
    }]  # fmt: skip

    checks = list(Check.objects.filter(team=team, enabled=True).order_by("name"))
    uptimes = uptime_of([check.pk for check in checks], start, end)
    lines.append("")
    lines.append(_("Uptime per check:"))
    for check in checks:
        ratio = uptimes.get(check.pk)
        shown = "—" if ratio is None else f"{ratio * 100:.2f} %"
        lines.append(f"- {check.name}: {shown}")
    if not checks:
        lines.append("- " + _("no check"))

    incidents = Incident.objects.filter(team=team).filter(
        Q(opened_at__gte=start, opened_at__lt=end) | Q(resolved_at__gte=start, resolved_at__lt=end)
    )
    opened = [i for i in incidents if start <= i.opened_at < end]
    resolved = [i for i in incidents if i.resolved_at and start <= i.resolved_at < end]
    lines.append("")
    lines.append(
        _("Incidents: %(opened)s opened, %(resolved)s resolved")
        % {"opened": len(opened), "resolved": len(resolved)}
    )
    for incident in sorted(opened, key=lambda i: i.opened_at):
        parts = [team.local(incident.opened_at).strftime("%d/%m %H:%M"), incident.spoken_title]
        if incident.acknowledged_at:
            acknowledged = _duration(incident.acknowledged_at - incident.opened_at)
            parts.append(_("acknowledged after %(delay)s") % {"delay": acknowledged})
        if incident.resolved_at:
            lasted = _duration(incident.resolved_at - incident.opened_at)
            parts.append(_("lasted %(duration)s") % {"duration": lasted})
        else:
            parts.append(_("still open"))
        lines.append("- " + " · ".join(parts))

    lines.append("")
    lines.append(_("Items qualified, by action:"))
    rows = qualified_items(team, start, end)
    lines += [f"- {row['title']}: {row['detail']}" for row in rows] or ["- " + _("none")]
    backlog = Item.objects.filter(source__team=team, source__enabled=True).to_qualify().count()
    lines.append(_("Backlog: %(count)s items to qualify") % {"count": backlog})

    watch = on_watch(team, now).now
    lines.append(
        _("On watch today: %(name)s") % {"name": watch.membership.name}
        if watch
        else _("Nobody is on watch today")
    )
    return subject, "\n".join(lines)


def _teams():
    """Teams with at least one enabled channel that hears info (min_severity info)."""
    hearing = Channel.objects.filter(enabled=True).hearing(Channel.Severity.INFO)
    return Team.objects.filter(pk__in=hearing.values("team"))


def send_one(team, period, day, start, end, now):
    """Claim and send one period; False when it was already claimed."""
    if Digest.objects.filter(team=team, period=period, day=day).exists():
        return False
    subject, text = compose(team, period, day, start, end, now)
    key = f"digest:{team.pk}:{period}:{day.isoformat()}"
    try:
        with transaction.atomic():
            Digest.objects.create(
                team=team, period=period, day=day, start=start, end=end, sent_at=now, text=text
            )
            notify_team(team, Message(subject=subject, text=text, severity="info"), key=key)
    except IntegrityError:  # another worker claimed this period first
        return False
    return True


def send_due(now=None):
    """The schedule's task: every team's due digests, each sent once. Returns how many."""
    now = now or timezone.now()
    sent = 0
    for team in _teams():
        for period, day, start, end in due_periods(team, now):
            if now >= end + CATCH_UP:
                continue
            try:
                sent += send_one(team, period, day, start, end, now)
            except Exception:  # one team failing never stops the others' digests
                logger.exception("digest_failed", team=team.pk, period=period)
    return sent
