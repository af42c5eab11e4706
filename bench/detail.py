"""Item detail figures: `GET /board/items/<id>` of a Sentry issue, server time.

    uv run python bench/detail.py            # a throwaway SQLite database
    DATABASE_URL=postgres://… uv run python bench/detail.py

Two cases, printed beside their targets:
- warm: the detail is in the cache (read less than 3 minutes ago), no upstream call;
- cold, with the upstream answering in 300 ms: the loopback fake Sentry sleeps 300 ms before
  each answer, and the cache entry is dropped before each opening, so every opening reads the
  issue and its latest event (asked at once: one round trip).
The fake runs in this process (its threads sleep; they hardly compete with the view). On a
shared machine, read the load average too: the minimum is the least disturbed run.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _django

WARM_RUNS = 50
COLD_RUNS = 10
UPSTREAM_LATENCY = 0.3  # seconds
TARGET_WARM_P50 = 100  # ms
TARGET_COLD = 450  # ms
TOKEN_ENV = "VIGIE_BENCH_SENTRY_TOKEN"


def ms(seconds):
    return seconds * 1000


def timed(fn, runs, before=None):
    times = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def verdict(value, target):
    return "OK" if value < target else "MISSED"


def main():
    _django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from rotation.models import Membership, Team
    from tests.fakes.sentry import FakeSentry
    from triage import detail
    from triage.models import Item, Source
    from triage.sync import sync_source

    fake = FakeSentry().start()
    try:
        fake.add_issues(20)
        os.environ[TOKEN_ENV] = fake.token
        team = Team.objects.create(slug="bench", name="Bench")
        source = Source.objects.create(
            kind="sentry",
            name="bench",
            team=team,
            base_url=fake.url,
            organization=fake.org,
            scopes=["74"],
            environment="production",
            secret_env=TOKEN_ENV,
        )
        sync_source(source.pk)
        item = Item.objects.filter(source=source).order_by("pk").first()
        user = get_user_model().objects.create_user("bench")
        Membership.objects.create(team=team, user=user)
        client = Client()
        client.force_login(user)
        url = reverse("triage:item-detail", args=[item.pk])

        def open_detail():
            response = client.get(url, secure=True)
            assert response.status_code == 200, response.status_code

        open_detail()  # warms the cache, templates, translations
        queries = []
        with connection.execute_wrapper(
            lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
        ):
            open_detail()
        warm = timed(open_detail, WARM_RUNS)

        fake.delay = UPSTREAM_LATENCY
        before = len(fake.requests)
        cold = timed(open_detail, COLD_RUNS, before=lambda: cache.delete(detail.cache_key(item)))
        upstream_calls = (len(fake.requests) - before) / COLD_RUNS
    finally:
        fake.stop()

    warm_p50 = ms(statistics.median(warm))
    cold_p50, cold_max = ms(statistics.median(cold)), ms(max(cold))
    print(f"item detail of a Sentry issue ({connection.vendor}):")
    print(
        f"  warm cache: p50 {warm_p50:.1f} ms (target < {TARGET_WARM_P50} ms: "
        f"{verdict(warm_p50, TARGET_WARM_P50)}), min {ms(min(warm)):.1f} ms, "
        f"{len(queries)} queries, {WARM_RUNS} runs"
    )
    print(
        f"  upstream answering in {ms(UPSTREAM_LATENCY):.0f} ms, cache dropped: p50 "
        f"{cold_p50:.1f} ms (target < {TARGET_COLD} ms: {verdict(cold_p50, TARGET_COLD)}), "
        f"min {ms(min(cold)):.1f} ms, max {cold_max:.1f} ms, "
        f"{upstream_calls:.0f} upstream calls per opening (at once), "
        f"{COLD_RUNS} runs"
    )
    print(
        "  the cache is Django's (settings.CACHES, LocMem by default): per process, so each "
        "gunicorn worker reads an item from Sentry once per 3 minutes"
    )


if __name__ == "__main__":
    main()
