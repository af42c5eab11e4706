"""Bugsink figures on 2,000 issues of a real Bugsink (installed from PyPI into var/, on SQLite
on loopback; seeded once through its ingest API as the Sentry SDK sends):
- a full mirror against just downloading the same pages (wall and client CPU);
- the board's first page against Bugsink's own issue list page, same issues, same run: the
  server time of each through Django's test client in its own process, no HTTP on either side.

    uv run python bench/bugsink.py          # Vigie on SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigie_bench uv run python bench/bugsink.py

Target (issue 15): Vigie's board not slower than Bugsink's list (Bugsink shows 250 rows a page,
the board 50). The mirror's ratios are printed beside bench/sync.py's targets for Sentry.
Seeding takes about 2 minutes on 2 busy cores. Read the load average on a shared machine.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _django  # noqa: E402
from tests.bugsink import VENV, Bugsink  # noqa: E402

TOKEN_ENV = "VIGIE_BENCH_BUGSINK_TOKEN"
ISSUES = 2_000
ROUNDS = 3
REQUESTS = 20

# Run by Bugsink's own interpreter, in its directory: its issue list page timed as the board is.
BUGSINK_LIST = textwrap.dedent(
    """
    import json, sys, time
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

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
    print(json.dumps({"times": times, "bytes": len(first.content)}))
    """
)


def download(backend):
    """What any client pays: every page requested and its JSON decoded, nothing stored."""
    from triage.sources.bugsink import next_cursor

    params = backend.list_params()
    count = pages = 0
    cursor = None
    while True:
        page = backend._call(
            "GET", "issues/", params={**params, "cursor": cursor} if cursor else params
        )
        count += len(page["results"])
        pages += 1
        cursor = next_cursor(page)
        if cursor is None:
            return count, pages


def p50(times):
    return statistics.median(times) * 1000


def main():
    bugsink = Bugsink(tempfile.mkdtemp(prefix="vigie-bench-bugsink-"))
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


def measure(bugsink, project):
    _django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from rotation.models import Membership, Team
    from triage.models import Item, Source
    from triage.sources.bugsink import BugsinkBackend
    from triage.sync import sync_source
    from triage.views import PER_PAGE

    os.environ[TOKEN_ENV] = bugsink.token
    team = Team.objects.create(slug="bench-bugsink", name="Bench")
    source = Source.objects.create(
        kind="bugsink", name="bench-bugsink", team=team, base_url=bugsink.url,
        scopes=[project], secret_env=TOKEN_ENV,
    )  # fmt: skip

    downloads, mirrors, download_cpu, mirror_cpu = [], [], [], []
    for _ in range(ROUNDS):
        started, cpu = time.perf_counter(), time.process_time()
        count, pages = download(BugsinkBackend(source))
        downloads.append(time.perf_counter() - started)
        download_cpu.append(time.process_time() - cpu)
        assert count == ISSUES, count

        Item.objects.filter(source=source).delete()
        Source.objects.filter(pk=source.pk).update(high_water_mark=None, last_reconciled_at=None)
        started, cpu = time.perf_counter(), time.process_time()
        run = sync_source(source.pk)
        mirrors.append(time.perf_counter() - started)
        mirror_cpu.append(time.process_time() - cpu)
        assert (run.created, run.error) == (ISSUES, ""), (run.created, run.error)
    download_s, mirror_s = statistics.median(downloads), statistics.median(mirrors)
    download_c, mirror_c = statistics.median(download_cpu), statistics.median(mirror_cpu)
    print(f"Vigie on {connection.vendor}; medians of {ROUNDS} rounds:")
    print(f"  download only ({pages} pages):  {download_s:5.2f} s, client CPU {download_c:.2f} s")
    print(f"  full mirror:                {mirror_s:5.2f} s, client CPU {mirror_c:.2f} s")
    # bench/sync.py's targets for Sentry, beside: the CPU ratio means less here, Bugsink's
    # pages being few and its JSON small (the download's client CPU rounds to nothing).
    print(
        f"  ratio: wall {mirror_s / download_s:.2f}x, CPU {mirror_c / max(download_c, 1e-3):.0f}x "
        "(the Sentry mirror's targets: wall <= 1.3x, CPU <= 2x)"
    )

    user = get_user_model().objects.create_user("bench-bugsink")
    Membership.objects.create(team=team, user=user)
    client = Client()
    client.force_login(user)
    first = client.get("/board", secure=True)  # warm caches, templates, translations
    assert first.status_code == 200, first.status_code
    board = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get("/board", secure=True)
        board.append(time.perf_counter() - started)

    answer = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", BUGSINK_LIST, project, str(REQUESTS)],
        cwd=bugsink.home,
        env=bugsink.env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    listing = json.loads(answer.stdout.strip().splitlines()[-1])
    print(f"first page on the same {ISSUES} issues, server time p50 of {REQUESTS} requests:")
    print(
        f"  Vigie's board:        {p50(board):6.1f} ms  ({PER_PAGE} rows, "
        f"{len(first.content) // 1024} KiB)"
    )
    print(
        f"  Bugsink's issue list: {p50(listing['times']):6.1f} ms  (250 rows, "
        f"{listing['bytes'] // 1024} KiB)"
    )
    verdict = "met" if p50(board) <= p50(listing["times"]) else "NOT met"
    print(f"  target: Vigie's board not slower than Bugsink's list: {verdict}")


if __name__ == "__main__":
    main()
