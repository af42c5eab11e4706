"""The public status page's content (`/public/<team>`): only what a team chose to publish.

Built as plain values (names, states, day ratios, the texts written for users), never model
rows, so nothing internal (a check's URL or message, an incident's title, people's names) can
reach the template, and the result can be cached as it is."""

from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from monitors.models import Check, CheckHourly, CheckResult, Incident, StatusUpdate

DAYS = 90
# Resolved public incidents stay on the page this long.
RECENT = timedelta(days=7)
CACHE_SECONDS = 60


def cache_key(slug):
    return f"monitors:public-status:{slug}"


def cached_page(slug, now=None):
    """The page's content for the team `slug` (None for an unknown team), computed at most
    once a minute: a cached answer costs no query, unknown names included."""

    def compute():
        from rotation.models import Team

        team = Team.objects.filter(slug=slug).first()
        return {"missing": True} if team is None else page(team, now or timezone.now())

    content = cache.get_or_set(cache_key(slug), compute, CACHE_SECONDS)
    return None if content.get("missing") else content


def _daily(team, pks, first_day):
    """{(check pk, local day): [total, failures]} from the hourly folds and the raw results
    not folded yet (the hours a fold already holds are not counted twice)."""
    tz = team.tzinfo
    start = datetime.combine(first_day, time.min, tzinfo=tz)
    days = {}
    raw = (
        CheckResult.objects.filter(monitor_id__in=pks, at__gte=start)
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("monitor_id", "day")
        .annotate(total=Count("id"), failures=Count("id", filter=Q(ok=False)))
    )
    for row in raw:
        days[(row["monitor_id"], row["day"])] = [row["total"], row["failures"]]
    oldest_raw = CheckResult.objects.filter(monitor_id__in=pks).aggregate(m=Min("at"))["m"]
    hourly = CheckHourly.objects.filter(monitor_id__in=pks, hour__gte=start)
    if oldest_raw is not None:
        hourly = hourly.filter(hour__lt=oldest_raw.replace(minute=0, second=0, microsecond=0))
    for row in (
        hourly.annotate(day=TruncDate("hour", tzinfo=tz))
        .values("monitor_id", "day")
        .annotate(total=Sum("total"), failures=Sum("failures"))
    ):
        counts = days.setdefault((row["monitor_id"], row["day"]), [0, 0])
        counts[0] += row["total"]
        counts[1] += row["failures"]
    return days


def page(team, now):
    today = team.today(now)
    first_day = today - timedelta(days=DAYS - 1)
    checks = list(
        Check.objects.filter(team=team, public=True, enabled=True)
        .order_by("name")
        .values("pk", "name", "state")
    )
    daily = _daily(team, [c["pk"] for c in checks], first_day) if checks else {}
    shown = []
    for check in checks:
        bar, total, failures = [], 0, 0
        for offset in range(DAYS):
            day = first_day + timedelta(days=offset)
            t, f = daily.get((check["pk"], day), (0, 0))
            total, failures = total + t, failures + f
            bar.append(
                {"x": offset * 5, "day": day.strftime("%d/%m/%Y"), "percent": _percent(t, f)}
            )
        shown.append(
            {
                "name": check["name"],
                "up": {Check.State.UP: True, Check.State.DOWN: False}.get(check["state"]),
                "days": bar,
                "percent": _percent(total, failures),
            }
        )
    incidents = list(
        Incident.objects.filter(team=team, public=True)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=now - RECENT))
        .order_by("-opened_at")
        .values("pk", "public_title", "opened_at", "resolved_at")[:20]
    )
    updates = {}
    for update in StatusUpdate.objects.filter(incident_id__in=[i["pk"] for i in incidents]).values(
        "incident_id", "at", "text"
    ):
        updates.setdefault(update["incident_id"], []).append(
            {"at": _local(team, update["at"]), "text": update["text"]}
        )
    shown_incidents = [
        {
            "title": i["public_title"],
            "opened_at": _local(team, i["opened_at"]),
            "resolved_at": _local(team, i["resolved_at"]) if i["resolved_at"] else "",
            "updates": updates.get(i["pk"], []),
        }
        for i in incidents
    ]
    return {
        "team_name": team.name,
        "generated_at": _local(team, now),
        "checks": shown,
        "all_up": all(c["up"] for c in shown),
        "ongoing": [i for i in shown_incidents if not i["resolved_at"]],
        "recent": [i for i in shown_incidents if i["resolved_at"]],
    }


def _percent(total, failures):
    """Uptime in percent, two decimals, or None without any result."""
    return round(100 * (1 - failures / total), 2) if total else None


def _local(team, at):
    return team.local(at).strftime("%d/%m/%Y %H:%M")


def forget(team):
    """After the vigie published something: users read it now, not in a minute."""
    cache.delete(cache_key(team.slug))
