"""Mirror figures: a full sync of 10,000 issues from the loopback fake Sentry (100 per page)
against just downloading the same pages, and an incremental sync with nothing new.

    uv run python bench/sync.py            # SQLite in a temporary directory
    uv run python bench/sync.py --latency 0.1   # the fake answers like a distant server
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigie_bench uv run python bench/sync.py

Targets (issues 5 and 15): a full mirror takes at most 1.3x the download's wall time and 2x its
client CPU; a no-op incremental sync makes one request and writes no item row. Each round is
the first mirror of the source (its items and sync marks cleared), the download right before it
on the same pages, so both see the same load.
"""

import gc
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _django  # noqa: E402

TOKEN_ENV = "VIGIE_BENCH_SENTRY_TOKEN"
ISSUES = 10_000
ROUNDS = 3
WALL_TARGET = 1.3
CPU_TARGET = 2.0


def download(source):
    """What any client pays: every page requested and its JSON decoded, nothing stored."""
    from triage.sources.sentry import SentryBackend, next_cursor

    backend = SentryBackend(source)
    path = f"organizations/{backend.org}/issues/"
    params = backend._list_params(query="is:unresolved", sort="date", limit=100)
    params["groupStatsPeriod"] = "24h"
    count = pages = 0
    cursor = None
    while True:
        response = backend._call(
            "GET", path, params={**params, "cursor": cursor} if cursor else params
        )
        count += len(backend._json(response))
        pages += 1
        cursor = next_cursor(response)
        if not cursor:
            return count, pages


def load_average():
    """/proc/loadavg's 1, 5 and 15 minutes: the machine may be shared."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def serve_fake(pipe):
    """The fake Sentry in its own process, as a real one would be: its work does not compete
    with the sync for this interpreter's lock."""
    from tests.fakes.sentry import FakeSentry

    fake = FakeSentry().start()
    fake.add_issues(ISSUES)
    pipe.send((fake.url, fake.org, fake.token))
    while True:
        command = pipe.recv()
        if command == "requests":
            pipe.send(len(fake.requests))
        elif isinstance(command, float):
            fake.delay = command
            pipe.send(None)
        elif command == "clear":
            fake.requests.clear()
            pipe.send(None)
        else:
            fake.stop()
            return


def main():
    import multiprocessing

    context = multiprocessing.get_context("fork")
    pipe, child = context.Pipe()
    server = context.Process(target=serve_fake, args=(child,), daemon=True)
    server.start()
    url, org, token = pipe.recv()
    # --latency SECONDS: the fake waits that long per answer, as a distant Sentry's servers
    # would, without taking a CPU from the sync.
    latency = float(sys.argv[sys.argv.index("--latency") + 1]) if "--latency" in sys.argv else 0.0
    pipe.send(latency)
    pipe.recv()
    _django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from triage.models import Item, Source, SyncRun
    from triage.sync import sync_source

    os.environ[TOKEN_ENV] = token
    Source.objects.filter(name="bench").delete()
    source = Source.objects.create(
        kind="sentry", name="bench", base_url=url, organization=org,
        scopes=["74"], secret_env=TOKEN_ENV,
    )  # fmt: skip
    print(
        f"database: {connection.vendor}; {ISSUES} issues, 100 per page, loopback fake Sentry"
        + (f", {latency * 1000:.0f} ms latency per answer" if latency else "")
    )

    load_before = load_average()
    downloads, mirrors, download_cpu, mirror_cpu = [], [], [], []
    for _ in range(ROUNDS):
        # The previous round's 10,000 items, deleted through the ORM, leave garbage behind:
        # collected here, outside what is timed, so that no phase pays for it (left to the
        # next one, it ran 2 to 4 full collections instead of none: 0.1 to 0.3 s of its CPU,
        # which an earlier version of this bench let the download pay).
        Item.objects.filter(source=source).delete()
        Source.objects.filter(pk=source.pk).update(
            high_water_mark=None, last_reconciled_at=None, last_success_at=None
        )
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        count, pages = download(source)
        downloads.append(time.perf_counter() - started)
        download_cpu.append(time.process_time() - cpu)
        assert count == ISSUES, count

        started, cpu = time.perf_counter(), time.process_time()
        run = sync_source(source.pk)
        mirrors.append(time.perf_counter() - started)
        mirror_cpu.append(time.process_time() - cpu)
        assert (run.created, run.error) == (ISSUES, ""), (run.created, run.error)
    download_s, mirror_s = statistics.median(downloads), statistics.median(mirrors)
    download_c, mirror_c = statistics.median(download_cpu), statistics.median(mirror_cpu)
    # Each round's mirror against its own download (the load changes between rounds).
    wall_ratio = statistics.median(m / d for m, d in zip(mirrors, downloads, strict=True))
    cpu_ratio = statistics.median(m / d for m, d in zip(mirror_cpu, download_cpu, strict=True))
    print(f"download only ({pages} pages):  {download_s:6.2f} s wall, {download_c:5.2f} s CPU")
    print(f"full mirror:                   {mirror_s:6.2f} s wall, {mirror_c:5.2f} s CPU")
    print("ratios, each round's mirror against its download, median of the rounds:")
    print(f"ratio, wall:                   {wall_ratio:6.2f}x  (target <= {WALL_TARGET}x)")
    # Client CPU: this process's threads (the mirror fetches the next page in one while it
    # writes the current one), not the fake's, which runs in its own.
    print(f"ratio, client CPU:             {cpu_ratio:6.2f}x  (target <= {CPU_TARGET}x)")
    # The fake's own work is CPU too: on a busy machine it competes with the sync for the
    # cores, and the next page, fetched while this one is written, no longer overlaps.
    print(
        f"medians of {ROUNDS} rounds; load average {load_before} before, "
        f"{load_average()} after, on {os.cpu_count()} CPUs"
    )

    pipe.send("clear")
    pipe.recv()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        run = sync_source(source.pk)
        elapsed = time.perf_counter() - started
    # An executemany is logged as "N times: INSERT …"; triage_itemcount is another table.
    item_write = re.compile(r'(\d+ times: )?\s*(INSERT INTO|UPDATE) "triage_item" ', re.IGNORECASE)
    writes = [q for q in queries.captured_queries if item_write.match(q["sql"])]
    pipe.send("requests")
    requests = pipe.recv()
    print(
        f"incremental, nothing new:      {elapsed * 1000:6.1f} ms, {requests} request(s), "
        f"{len(writes)} item row write(s), {len(queries.captured_queries)} queries in all "
        f"(targets: 1 request, 0 writes)"
    )
    pipe.send("stop")
    server.join(5)
    SyncRun.objects.filter(source=source).delete()
    source.delete()


if __name__ == "__main__":
    main()
