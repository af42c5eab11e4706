"""Board figures: first page with 10,000 items, and one qualification (demo backend, offline).

    .venv/bin/python bench/board.py            # SQLite, then PostgreSQL (VIGIE_BENCH_PG_URL)
    DATABASE_URL=postgres://… .venv/bin/python bench/board.py   # that database only

Each database gets a throwaway test database. Prints the server time p50/p90/min, the CPU time
p50 and the query count and size of `GET /board` next to issue 14's targets, and the server
time of a qualification through the view with the demo backend, so upstream latency is left
aside. On a shared machine, read the load average printed too: the minimum is the least
disturbed run, and the CPU time is what the load does not inflate.
"""

import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._django import scratch_dir

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if "VIGIE_DATA_DIR" not in os.environ:
    os.environ["VIGIE_DATA_DIR"] = scratch_dir()

os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django
from django.conf import settings

# Render templates as production does (no template debug); DEBUG stays on for static files.
settings.TEMPLATES[0]["OPTIONS"]["debug"] = False
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

ITEMS = 10_000
RUNS = 30
# Issue 14: the first page of the board with 10,000 items.
MAX_QUERIES, MAX_KIB, MAX_P50_MS = 8, 80, 50
# Where the run on PostgreSQL creates its test database (the server's, dropped at the end).
PG_URL = os.environ.get("VIGIE_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/vigie_bench")


def p(values, q):
    return statistics.quantiles(values, n=100)[q - 1] * 1000


class QueryCounter:
    """Counts the SQL statements run inside the block (through a connection wrapper)."""

    def __enter__(self):
        self.count = 0
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)


def timed(fn, runs, clock=time.perf_counter):
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append(clock() - start)
    return times


def verdict(ok):
    return "ok" if ok else "OVER"


def main():
    from django.contrib.auth import get_user_model

    from rotation.models import Membership, Team
    from triage.models import Item, Source

    team = Team.objects.create(slug="bench", name="Bench")
    source = Source.objects.create(kind="demo", name="bench", team=team)
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(team=team, user=user)
    now = timezone.now()
    Item.objects.bulk_create(
        (
            Item(
                source=source,
                external_id=str(n),
                short_id=f"BENCH-{n:X}",
                title=f"KeyError: 'invoice_{n}' in billing.compute_totals",
                origin="billing.views.compute_totals",
                level=("error", "warning", "fatal")[n % 3],
                environment="production",
                upstream_status="unresolved",
                last_seen=now - timedelta(minutes=n),
                tally=n * 3,
                user_count=n % 50,
                recent_counts=[(n * k) % 17 for k in range(24)],
                qualification="" if n % 4 else "temporary",
                came_back=n % 40 == 0,
            )
            for n in range(ITEMS)
        ),
        batch_size=1000,
    )
    client = Client()
    client.force_login(user)
    board = reverse("triage:board")

    client.get(board)  # warm caches, templates, translations
    with QueryCounter() as queries:
        response = client.get(board)
    assert response.status_code == 200, response.status_code
    board_times = timed(lambda: client.get(board), RUNS)
    cpu_times = timed(lambda: client.get(board), RUNS, clock=time.process_time)
    p50, kib = p(board_times, 50), len(response.content) / 1024
    rows = response.content.count(b'<tr id="item-')
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"board first page, {ITEMS} items, {rows} rows ({connection.vendor}; load {load}):")
    print(
        f"  server time p50 {p50:.1f} ms (target < {MAX_P50_MS}: {verdict(p50 < MAX_P50_MS)}), "
        f"p90 {p(board_times, 90):.1f} ms, min {min(board_times) * 1000:.1f} ms; "
        f"CPU time p50 {p(cpu_times, 50):.1f} ms"
    )
    print(
        f"  {queries.count} queries (target <= {MAX_QUERIES}: "
        f"{verdict(queries.count <= MAX_QUERIES)}); "
        f"{kib:.1f} KiB (target < {MAX_KIB}: {verdict(kib < MAX_KIB)})"
    )

    items = iter(Item.objects.filter(qualification="").values_list("pk", flat=True)[: RUNS * 2])

    def qualify():
        pk = next(items)
        url = reverse("triage:qualify-item", args=[pk])
        answer = client.post(
            url, {"action": "temporary", "key": f"bench-{pk}"}, headers={"HX-Request": "true"}
        )
        assert answer.status_code == 200, answer.status_code

    qualify()
    with QueryCounter() as queries:
        qualify()
    qualify_times = timed(qualify, RUNS)
    print("one qualification (Temporaire, demo backend: upstream latency aside):")
    print(
        f"  server time p50 {p(qualify_times, 50):.1f} ms, p90 {p(qualify_times, 90):.1f} ms, "
        f"min {min(qualify_times) * 1000:.1f} ms; {queries.count} queries"
    )


def on_postgresql():
    """The same bench in a process of its own (Django is set up once per process), skipped
    when no PostgreSQL server answers, so that `make bench` runs without one."""
    import psycopg

    server = urllib.parse.urlsplit(PG_URL)._replace(path="/postgres").geturl()
    try:
        psycopg.connect(server, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        reason = str(exc).splitlines()[0]
        print(f"PostgreSQL skipped: no server at {PG_URL} (VIGIE_BENCH_PG_URL): {reason}")
        return 0
    done = subprocess.run(
        [sys.executable, __file__], env={**os.environ, "DATABASE_URL": PG_URL}, check=False
    )
    return done.returncode


if __name__ == "__main__":
    both = "DATABASE_URL" not in os.environ
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    if both:
        sys.exit(on_postgresql())
