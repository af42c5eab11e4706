"""Figures of the 2-minute page: `GET /status` with 1,000 checks, 30 days of results and 50 open
incidents (issue 11: at most 12 queries, p50 under 60 ms), and the public page uncached.

    .venv/bin/python bench/status.py            # a throwaway SQLite database
    DATABASE_URL=postgres://… .venv/bin/python bench/status.py   # a throwaway test database

The results are one hourly fold per check and day (the page never reads them: the figures
show it does not depend on them) plus the last hour raw.
"""

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.board import RUNS, QueryCounter, p, timed  # sets Django up

CHECKS = 1_000
DAYS = 30
INCIDENTS = 50
PUBLIC = 10


def main():
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from monitors.models import Check, CheckHourly, CheckResult, Incident
    from rotation.models import Membership, Shift, Team

    now = timezone.now()
    team = Team.objects.create(slug="bench", name="Bench")
    user = get_user_model().objects.create_user("bench", first_name="Camille")
    member = Membership.objects.create(team=team, user=user)
    Shift.objects.create(
        team=team, membership=member, start=now - timedelta(days=1), end=now + timedelta(days=6)
    )
    checks = Check.objects.bulk_create(
        Check(
            team=team,
            name=f"check-{n}",
            kind="http",
            config={"url": f"https://app.example/{n}"},
            public=n < PUBLIC,
            runbook="rb-001",
            consecutive_failures=1 if n % 25 == 0 else 0,
            last_ok=n % 25 != 0,
        )
        for n in range(CHECKS)
    )
    hour = now.replace(minute=0, second=0, microsecond=0)
    CheckHourly.objects.bulk_create(
        (
            CheckHourly(monitor=c, hour=hour - timedelta(days=d), total=60, failures=d % 3)
            for c in checks
            for d in range(1, DAYS + 1)
        ),
        batch_size=5000,
    )
    CheckResult.objects.bulk_create(
        (
            CheckResult(monitor=c, at=now - timedelta(minutes=10 * k), ok=True, latency=0.1)
            for c in checks
            for k in range(6)
        ),
        batch_size=5000,
    )
    for n, check in enumerate(checks[:INCIDENTS]):
        Incident.objects.create(
            team=team,
            key=check.incident_key,
            monitor=check,
            title=f"{check.name}: HTTP 503",
            severity="critical" if n % 3 == 0 else "warning",
            category="business" if n % 4 == 0 else "technical",
            opened_at=now - timedelta(minutes=n),
            escalation=team.escalation_chain(now),
            current_level=1,
            next_escalation_at=now + timedelta(minutes=15),
            public=n < 3,
        )
    client = Client()
    client.force_login(user)
    status = reverse("monitors:status")
    client.get(status)  # warm caches, templates, translations
    with QueryCounter() as queries:
        response = client.get(status)
    assert response.status_code == 200, response.status_code
    times = timed(lambda: client.get(status), RUNS)
    print(
        f"/status, {CHECKS} checks, {DAYS} days of results, {INCIDENTS} open incidents "
        f"({connection.vendor}):"
    )
    print(
        f"  server time p50 {p(times, 50):.1f} ms, p90 {p(times, 90):.1f} ms, "
        f"min {min(times) * 1000:.1f} ms; {queries.count} queries"
    )

    public = reverse("monitors:public-status", args=[team.slug])
    anonymous = Client()

    def uncached():
        cache.clear()
        assert anonymous.get(public).status_code == 200

    uncached()
    with QueryCounter() as queries:
        uncached()
    times = timed(uncached, RUNS)
    print(f"/public/{team.slug} uncached, {PUBLIC} public checks over 90 days:")
    print(
        f"  server time p50 {p(times, 50):.1f} ms, p90 {p(times, 90):.1f} ms; "
        f"{queries.count} queries (then cached for a minute: none)"
    )


if __name__ == "__main__":
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
