"""Rotation figures: queries for "who is on watch", a year of calendar, generation time.

Runs against a throwaway test database: `uv run python bench/rotation.py`.
"""

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from rotation import schedule  # noqa: E402
from rotation.models import Membership, Shift, Team  # noqa: E402


def queries(func):
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def main():
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    try:
        run()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run():
    User = get_user_model()
    team = Team.objects.create(slug="bench", name="Bench")
    members = [
        Membership.objects.create(team=team, user=User.objects.create(username=f"u{i}"))
        for i in range(20)
    ]
    now = timezone.now()
    # Ten years of history: the "who is on watch" cost must not grow with it.
    start = team.last_handover_before(now) - timedelta(weeks=2 * 260)
    Shift.objects.bulk_create(
        Shift(
            team=team,
            membership=members[i % 20],
            start=start + timedelta(weeks=2 * i),
            end=start + timedelta(weeks=2 * i + 2),
        )
        for i in range(260)
    )

    timings = []
    for _ in range(5):
        Shift.objects.filter(team=team, start__gte=now).delete()
        began = time.perf_counter()
        result = schedule.generate(team, now=now, horizon=timedelta(weeks=52))
        timings.append((time.perf_counter() - began) * 1000)
    print(
        f"generate {result.created} watches for 20 members: best {min(timings):.1f} ms, "
        f"median {sorted(timings)[2]:.1f} ms (target < 100 ms)"
    )

    print(
        f"who is on watch (now + next): {queries(lambda: schedule.on_watch(team))} queries "
        "with 260 past watches (target <= 3)"
    )

    user = members[0].user
    client = Client()
    client.force_login(user)
    url = reverse("rotation:team-calendar", args=["bench"])
    client.get(url)  # warm up templates
    n = queries(lambda: client.get(url, {"months": 12}))
    print(f"team calendar, 12 months: {n} queries including session and user (target <= 10)")
    n = queries(lambda: client.get(reverse("rotation:api-oncall", args=["bench"])))
    print(f"JSON API oncall: {n} queries including session and user")


if __name__ == "__main__":
    main()
