"""Bugsink figures on 2,000 issues of a real Bugsink (installed from PyPI into var/, on SQLite
on loopback; seeded once through its ingest API as the Sentry SDK sends):
- a full mirror against just downloading what it requests (wall and client CPU, the JSON
  decoded, nothing stored): a first mirror reads the issue pages and each issue's latest event
  (a Bugsink issue has no level), a mirror of a mirrored project the pages only;
- the board against Bugsink's own issue list page, same issues, same run, at the same number of
  rows: the board shows 25 a page, Bugsink 250, so each is timed at both (Vigie's PER_PAGE and
  Bugsink's paginator set for the bench); server time through Django's test client in its own
  process, no HTTP on either side.

    uv run python bench/bugsink.py          # Vigie on SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigie_bench uv run python bench/bugsink.py

Target (issue 15): Vigie's board not slower than Bugsink's list at the same number of rows. The
mirror's ratios are printed beside bench/sync.py's targets for Sentry. Seeding takes about 2
minutes on 2 busy cores. Read the load average on a shared machine.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _django  # noqa: E402
from tests.bugsink import VENV, Bugsink  # noqa: E402

TOKEN_ENV = "VIGIE_BENCH_BUGSINK_TOKEN"
ISSUES = 2_000
ROUNDS = 3
# Rounds of what reads every issue's latest event: 4,000 requests each.
EVENT_ROUNDS = 1
REQUESTS = 20
BUGSINK_ROWS = 250  # its issue list's page (UncountablePaginator(issue_list, 250))

# Run by Bugsink's own interpreter, in its directory: its issue list page timed as the board is.
BUGSINK_LIST = textwrap.dedent(
    """
    import json, re, sys, time
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from issues import views

    class Rows(views.UncountablePaginator):
        def __init__(self, object_list, per_page, *args, **kwargs):
            super().__init__(object_list, int(sys.argv[3]), *args, **kwargs)

    views.UncountablePaginator = Rows  # its list view pages by 250, a literal

    user = get_user_model().objects.filter(username="bench").first()
    user = user or get_user_model().objects.create_superuser("bench", "", "bench-only")
    client = Client()
    client.force_login(user)
    url = f"/issues/{sys.argv[1]}/"
    first = client.get(url)  # warm caches, templates
    assert first.status_code == 200, first.status_code
    times = []
    for _ in range(int(sys.argv[2])):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    rows = len(set(re.findall(r"/issues/issue/([0-9a-f-]{36})/", first.content.decode())))
    print(json.dumps({"times": times, "bytes": len(first.content), "rows": rows}))
    """
)


def download(backend, *, events=False):
    """What any client pays for what the mirror reads: every page requested and its JSON
    decoded (`_call` returns `response.json()`), and with `events` each issue's latest event,
    as many at a time as the mirror reads them; nothing stored. Returns (issues, requests)."""
    from triage.sources.bugsink import EVENT_READERS, next_cursor

    params = backend.list_params()
    issues = []
    cursor = None
    while True:
        page = backend._call(
            "GET", "issues/", params={**params, "cursor": cursor} if cursor else params
        )
        issues += page["results"]
        cursor = next_cursor(page)
        if cursor is None:
            break
    if events:
        with ThreadPoolExecutor(EVENT_READERS) as pool:
            assert all(pool.map(backend._latest_event, [issue["id"] for issue in issues]))
    return len(issues), backend.requests


def p50(times):
    return statistics.median(times) * 1000


def main():
    bugsink = Bugsink(_django.scratch_dir("vigie-bench-bugsink-"))
    started = time.perf_counter()
    bugsink.start()
    try:
        project, dsn = bugsink.create_project("bench")
        bugsink.seed(dsn, ISSUES)
        version = subprocess.run(
            [str(VENV / "bin" / "python"), "-c", "import bugsink, importlib.metadata as m;"
             "print(m.version('bugsink'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        print(
            f"Bugsink {version} on SQLite: {ISSUES} issues seeded "
            f"through its ingest API in {time.perf_counter() - started:.0f} s"
        )
        measure(bugsink, project)
    finally:
        bugsink.stop()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def rounds(count, measured, prepare=None):
    """(`measured()`'s last answer, median wall seconds, median client CPU seconds)."""
    walls, cpus, answer = [], [], None
    for _ in range(count):
        if prepare is not None:
            prepare()
        started, cpu = time.perf_counter(), time.process_time()
        answer = measured()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return answer, statistics.median(walls), statistics.median(cpus)


def compare(label, mirror, fetched):
    (requests, mirror_s, mirror_c), (_count, download_s, download_c) = mirror, fetched
    print(f"  {label} ({requests} requests):")
    print(f"    download only: {download_s:6.2f} s, client CPU {download_c:5.2f} s")
    print(f"    mirror:        {mirror_s:6.2f} s, client CPU {mirror_c:5.2f} s")
    print(
        f"    ratio: wall {mirror_s / download_s:.2f}x, CPU {mirror_c / max(download_c, 1e-3):.1f}x"
    )


def measure(bugsink, project):
    _django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from rotation.models import Membership, Team
    from triage import views
    from triage.models import Item, Source
    from triage.sources.bugsink import BugsinkBackend
    from triage.sync import sync_source

    os.environ[TOKEN_ENV] = bugsink.token
    team = Team.objects.create(slug="bench-bugsink", name="Bench")
    source = Source.objects.create(
        kind="bugsink", name="bench-bugsink", team=team, base_url=bugsink.url,
        scopes=[project], secret_env=TOKEN_ENV,
    )  # fmt: skip

    def forget():
        Item.objects.filter(source=source).delete()
        Source.objects.filter(pk=source.pk).update(
            high_water_mark=None, last_reconciled_at=None, last_success_at=None
        )

    def mirror(field):
        def run():
            done = sync_source(source.pk)
            assert (getattr(done, field), done.error) == (ISSUES, ""), (done, done.error)
            return done.requests

        return run

    def fetch(events):
        def run():
            count, requests = download(BugsinkBackend(source), events=events)
            assert count == ISSUES, count
            return requests

        return run

    print(
        f"Vigie on {connection.vendor}; medians of {ROUNDS} rounds "
        f"({EVENT_ROUNDS} for what reads every issue's latest event):"
    )
    first = rounds(EVENT_ROUNDS, mirror("created"), prepare=forget)
    compare("first mirror: the pages and each issue's latest event", first,
            rounds(EVENT_ROUNDS, fetch(events=True)))  # fmt: skip
    again = rounds(
        ROUNDS,
        mirror("unchanged"),
        prepare=lambda: Source.objects.filter(pk=source.pk).update(high_water_mark=None),
    )
    compare("mirror of the mirrored project: the pages (levels known)", again,
            rounds(ROUNDS, fetch(events=False)))  # fmt: skip
    print("  (bench/sync.py's targets for the Sentry mirror: wall <= 1.3x, CPU <= 2x)")

    user = get_user_model().objects.create_user("bench-bugsink")
    Membership.objects.create(team=team, user=user)
    client = Client()
    client.force_login(user)
    print(f"first page on the same {ISSUES} issues, server time p50 of {REQUESTS} requests:")
    verdicts = []
    board_rows = views.PER_PAGE
    for rows in (board_rows, BUGSINK_ROWS):
        views.PER_PAGE = rows
        page = client.get("/board", secure=True)  # warm caches, templates, translations
        assert page.status_code == 200, page.status_code
        shown = len(set(re.findall(r'id="item-(\d+)-title"', page.content.decode())))
        assert shown == rows, (shown, rows)
        board = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get("/board", secure=True)
            board.append(time.perf_counter() - started)
        answer = bugsink.run(
            str(VENV / "bin" / "python"), "-c", BUGSINK_LIST, project, str(REQUESTS), str(rows)
        )
        listing = json.loads(answer.strip().splitlines()[-1])
        assert listing["rows"] == rows, (listing["rows"], rows)
        ours, theirs = p50(board), p50(listing["times"])
        print(f"  {rows} rows a page ({'the board' if rows == board_rows else 'Bugsink'}'s own):")
        print(
            f"    Vigie's board:        {ours:6.1f} ms, {ours / rows:5.2f} ms a row "
            f"({len(page.content) // 1024} KiB)"
        )
        print(
            f"    Bugsink's issue list: {theirs:6.1f} ms, {theirs / rows:5.2f} ms a row "
            f"({listing['bytes'] // 1024} KiB)"
        )
        verdicts.append(ours <= theirs)
    verdict = "met" if all(verdicts) else "NOT met"
    print(f"  target: Vigie's board not slower than Bugsink's list at the same rows: {verdict}")


if __name__ == "__main__":
    main()
