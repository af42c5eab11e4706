"""Monitor figures (issue 10): 1,000 HTTP checks a minute through the real tick, `/monitors`
with 1,000 checks and 30 days of results, and the disk the results take.

    uv run python bench/monitors.py                       # SQLite in a temporary directory
    uv run python bench/monitors.py --pg                  # a scratch PostgreSQL database
    uv run python bench/monitors.py --rounds 1 --spread-rounds 0 --skip-page

The targets are loopback servers in their own process (most answer at once, 5 % after 2 s,
5 % with a 503), each answer closing its connection as distinct servers would. The checks run
in a forked worker process that calls `monitors.tasks.tick` once a minute, as django-q2 runs the
declared schedule: claims, the bounded pool and the recording are the product's. First rounds
have every check due at once (a monitors file applied in one go), then the due times are
spread over the minute. The start lag is read where the request arrives, against the check's
due time. `--pg` creates and drops a database on VIGIE_TEST_PG_ADMIN's server.

Targets: start lag within 5 s (p99), worker RSS < 300 MB, a round <= 1.5x the same GETs by a
bare asyncio/httpx loop; `/monitors` <= 10 queries and p50 < 50 ms. On a shared machine, read
the load average printed beside the figures.
"""

import argparse
import asyncio
import multiprocessing
import os
import resource
import statistics
import sys
import time
import urllib.parse
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _django  # noqa: E402

CHECKS = 1000
INTERVAL = 60
SLOW_SECONDS = 2.0


def kind_of(index):
    """5 % slow, 5 % failing, the rest fast."""
    return "slow" if index % 20 == 0 else "fail" if index % 20 == 1 else "ok"


def load():
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# --- The targets -------------------------------------------------------------------------------


def serve_targets(pipe):
    """Loopback HTTP servers in their own process: they take no CPU from the worker's
    interpreter lock. Records when each request arrives (time.time())."""
    arrivals = {}

    async def answer(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        arrived = time.time()
        path = head.split(b" ", 2)[1].decode()
        _, kind, index = path.split("/")
        arrivals.setdefault(int(index), []).append(arrived)
        if kind == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        status = b"503 Service Unavailable" if kind == "fail" else b"200 OK"
        writer.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\nok"
        )
        try:
            await writer.drain()
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=2048)
        pipe.send(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command == "arrivals":
                pipe.send(arrivals)
            elif command == "clear":
                arrivals.clear()
                pipe.send(None)
            else:
                server.close()
                return

    asyncio.run(main())


def bare_round(port, concurrency=100):
    """The same 1,000 GETs by a bare asyncio/httpx loop, `concurrency` at a time, a connection
    each (as Vigie's probes, and as distinct servers need)."""
    import httpx

    async def main():
        gate = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:

            async def get(index):
                async with gate:
                    return await client.get(f"http://127.0.0.1:{port}/{kind_of(index)}/{index}")

            started = time.perf_counter()
            answers = await asyncio.gather(*(get(i) for i in range(CHECKS)))
            elapsed = time.perf_counter() - started
        assert len(answers) == CHECKS
        return elapsed

    return asyncio.run(main())


# --- Django ------------------------------------------------------------------------------------


def make_checks(port):
    from monitors.models import Check
    from rotation.models import Team

    team = Team.objects.create(slug="bench", name="Bench")
    Check.objects.bulk_create(
        Check(
            team=team,
            name=f"check-{i:04d}",
            kind=Check.Kind.HTTP,
            config={"url": f"http://127.0.0.1:{port}/{kind_of(i)}/{i}"},
            interval=INTERVAL,
            allow_private=True,
        )
        for i in range(CHECKS)
    )
    return team


def worker(rounds, spread_rounds, pipe):
    """A django-q2 worker's share: `tick` once a minute. Sends each phase's due times, then
    its peak RSS and CPU time."""
    from django.db import connections
    from django.utils import timezone

    from monitors import tasks
    from monitors.models import Check

    connections.close_all()  # the parent's connection is not this process's
    pks = list(Check.objects.order_by("pk").values_list("pk", flat=True))
    # Due 5 s after the tick starts: half of the product's former 10 s slot, the average phase
    # of a check against it.
    due = timezone.now() + timedelta(seconds=5)
    Check.objects.update(next_run_at=due)
    pipe.send(("burst", due.timestamp(), None))
    for _ in range(rounds):
        tasks.tick()
    if spread_rounds:
        start = timezone.now() + timedelta(seconds=5)  # after the 1,000 updates below
        phases = {}
        for position, pk in enumerate(pks):
            # Over the first 40 s: every phase against the slots, all run within the tick.
            at = start + timedelta(seconds=position * 40 / len(pks))
            Check.objects.filter(pk=pk).update(next_run_at=at)
            phases[position] = at.timestamp()
        pipe.send(("spread", None, phases))
        for _ in range(spread_rounds):
            tasks.tick()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    pipe.send(("done", usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime))


def lag_of(arrived, phase):
    """Seconds between a request's arrival and the due time of the slot it belongs to."""
    return (arrived - phase) % INTERVAL


def schedule_bench(port, targets, rounds, spread_rounds):
    from monitors.models import CheckResult

    bare = [bare_round(port) for _ in range(3)]
    targets.send("clear")
    targets.recv()
    print(
        f"bare asyncio/httpx loop, {CHECKS} GETs 100 at a time: "
        f"{statistics.median(bare):.2f} s per round "
        f"(median of 3, {min(bare):.2f} s min); {load()}"
    )

    from monitors import tasks  # noqa: F401 (imported before the fork: the worker runs this code)

    context = multiprocessing.get_context("fork")
    pipe, child = context.Pipe()
    process = context.Process(target=worker, args=(rounds, spread_rounds, child))
    from django.db import connections

    connections.close_all()
    process.start()
    _, burst_due, _ = pipe.recv()
    round_times = []
    for number in range(rounds):
        due = burst_due + number * INTERVAL
        while CheckResult.objects.count() < (number + 1) * CHECKS:
            time.sleep(0.25)
            if time.time() - due > INTERVAL:
                break
        round_times.append(time.time() - due)
    spread = None
    while True:
        phase, first, second = pipe.recv()
        if phase == "spread":
            spread = second
        elif phase == "done":
            rss, cpu = first, second
            break
    process.join()
    targets.send("arrivals")
    arrivals = targets.recv()

    indexes = sorted(arrivals)
    burst, spread_lags = [], []
    for position, index in enumerate(indexes):
        times = sorted(arrivals[index])
        burst += [lag_of(t, burst_due) for t in times[:rounds]]
        if spread:
            spread_lags += [lag_of(t, spread[position]) for t in times[rounds:]]
    runs = sum(len(times) for times in arrivals.values())
    print(
        f"vigie tick, {CHECKS} checks every {INTERVAL} s, {rounds} round(s) due at once"
        f" + {spread_rounds} spread over the minute: {runs} runs "
        f"(expected {CHECKS * (rounds + spread_rounds)})"
    )
    print(
        f"  start lag, due at once:  p50 {quantile(burst, 0.5):5.2f} s, "
        f"p99 {quantile(burst, 0.99):5.2f} s, max {max(burst):5.2f} s   (target p99 <= 5 s)"
    )
    if spread_lags:
        print(
            f"  start lag, spread:       p50 {quantile(spread_lags, 0.5):5.2f} s, "
            f"p99 {quantile(spread_lags, 0.99):5.2f} s, max {max(spread_lags):5.2f} s"
            "   (target p99 <= 5 s)"
        )
    ratio = statistics.median(round_times) / statistics.median(bare)
    print(
        "  round (due -> last result stored): "
        + ", ".join(f"{t:.2f} s" for t in round_times)
        + f"; {ratio:.2f}x the bare loop   (target <= 1.5x)"
    )
    print(
        f"  worker peak RSS {rss:.0f} MB (target < 300 MB), CPU {cpu:.1f} s over "
        f"{rounds + spread_rounds} min; {load()}"
    )


# --- /monitors ---------------------------------------------------------------------------------


def fill_history(team, now, raw_days, hourly_days):
    """`raw_days` of one result a minute per check and `hourly_days` of hourly aggregates (the
    retention design: 7 days raw, 90 days of hours). Set-based SQL: 10 million rows."""
    from django.db import connection

    from monitors.models import LATENCY_BUCKETS, CheckHourly, CheckResult

    CheckResult.objects.all().delete()
    CheckHourly.objects.all().delete()
    minutes = raw_days * 24 * 60
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes)
    # Every result is counted in its hour as it is recorded: the hours cover the raw days too.
    hours_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=hourly_days)
    histogram = [55] + [3] * 2 + [0] * (len(LATENCY_BUCKETS) - 2)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                INSERT INTO monitors_checkresult (monitor_id, at, ok, latency, status_code,
                    message, details)
                SELECT c.id, %s + make_interval(mins => n), (c.id + n) %% 97 <> 0,
                    0.004 + ((c.id * 7 + n) %% 50) / 1000.0, 200, 'HTTP 200',
                    '{"redirects": 0, "bytes_read": 2}'
                FROM monitors_check c CROSS JOIN generate_series(0, %s - 1) AS n
                WHERE c.team_id = %s
                """,
                [start, minutes, team.pk],
            )
            cursor.execute(
                """
                INSERT INTO monitors_checkhourly (monitor_id, hour, total, failures,
                    latency_sum, latency_count, histogram)
                SELECT c.id, %s + make_interval(hours => n), 60, ((c.id + n) %% 7 = 0)::int,
                    0.6, 60, %s::jsonb
                FROM monitors_check c CROSS JOIN generate_series(0, %s - 1) AS n
                WHERE c.team_id = %s
                """,
                [hours_start, str(histogram), hourly_days * 24, team.pk],
            )
        else:
            base = start.strftime("%Y-%m-%d %H:%M:%S")
            cursor.execute(
                """
                WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v + 1 < %s)
                INSERT INTO monitors_checkresult (monitor_id, at, ok, latency, status_code,
                    message, details)
                SELECT c.id, strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, '+' || v || ' minutes'),
                    (c.id + v) %% 97 <> 0, 0.004 + ((c.id * 7 + v) %% 50) / 1000.0, 200,
                    'HTTP 200', '{"redirects": 0, "bytes_read": 2}'
                FROM monitors_check c CROSS JOIN n WHERE c.team_id = %s
                ORDER BY c.id, v
                """,
                [minutes, base, team.pk],
            )
            cursor.execute(
                """
                WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v + 1 < %s)
                INSERT INTO monitors_checkhourly (monitor_id, hour, total, failures,
                    latency_sum, latency_count, histogram)
                SELECT c.id, strftime('%%Y-%%m-%%d %%H:00:00', %s, '+' || v || ' hours'), 60,
                    (c.id + v) %% 7 = 0, 0.6, 60, %s
                FROM monitors_check c CROSS JOIN n WHERE c.team_id = %s
                """,
                [hourly_days * 24, hours_start.strftime("%Y-%m-%d %H:%M:%S"), str(histogram),
                 team.pk],
            )  # fmt: skip
        cursor.execute("ANALYZE")


def page_bench(team, runs=20):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from monitors.models import CheckHourly, CheckResult, summarize_checks

    started = time.perf_counter()
    fill_history(team, timezone.now(), raw_days=7, hourly_days=30)
    print(
        f"/monitors data: {CheckResult.objects.count():,} raw results (7 days) and "
        f"{CheckHourly.objects.count():,} hourly rows (30 days) for {CHECKS} checks, "
        f"built in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    summarize_checks(timezone.now())
    print(f"  summarize_checks (the 5-minute schedule): {time.perf_counter() - started:.2f} s")
    user = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)
    client = Client()
    client.force_login(user)
    url = reverse("monitors:overview")
    response = client.get(url, secure=True)  # warm templates, translations, caches
    assert response.status_code == 200, response.status_code
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
    ):
        client.get(url, secure=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url, secure=True)
        times.append(time.perf_counter() - started)
    print(
        f"  GET /monitors ({connection.vendor}): {len(queries)} queries "
        f"(target <= 10); server time p50 {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms over {runs} requests (target p50 < 50 ms); "
        f"{len(response.content) // 1024} KiB; {load()}"
    )


# --- Disk --------------------------------------------------------------------------------------


def table_bytes(model):
    """Bytes the table of `model` and its indexes take."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE " + connection.ops.quote_name(table))
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            return cursor.fetchone()[0]
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE tbl_name = %s AND type IN ('table', 'index')",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({', '.join(['%s'] * len(names))})",
            names,
        )
        return cursor.fetchone()[0] or 0


def disk_bench(team, rows=200_000):
    from django.db import connection
    from django.utils import timezone

    from monitors.models import LATENCY_BUCKETS, Check, CheckHourly, CheckResult

    checks = list(Check.objects.filter(team=team).order_by("pk"))
    now = timezone.now()
    histogram = [50, 8, 2] + [0] * (len(LATENCY_BUCKETS) - 2)
    sizes = {}
    for model, build in (
        (
            CheckResult,
            lambda n: CheckResult(
                monitor=checks[n % CHECKS],
                at=now - timedelta(seconds=INTERVAL * (n // CHECKS)),
                ok=n % 20 != 1,
                latency=0.002 + (n % 1000) / 1e6,
                status_code=503 if n % 20 == 1 else 200,
                message="HTTP 503" if n % 20 == 1 else "HTTP 200",
                details={"redirects": 0, "bytes_read": 2},
            ),
        ),
        (
            CheckHourly,
            lambda n: CheckHourly(
                monitor=checks[n % CHECKS],
                hour=now.replace(minute=0, second=0, microsecond=0)
                - timedelta(hours=1 + n // CHECKS),
                total=60,
                failures=n % 3,
                latency_sum=0.18,
                latency_count=60,
                histogram=histogram,
            ),
        ),
    ):
        model.objects.all().delete()
        count = rows if model is CheckResult else rows // 10
        before = table_bytes(model)
        for start in range(0, count, 5000):
            model.objects.bulk_create(build(n) for n in range(start, min(count, start + 5000)))
        sizes[model] = (table_bytes(model) - before) / count
        model.objects.all().delete()
    per_raw, per_hourly = sizes[CheckResult], sizes[CheckHourly]
    raw_day = per_raw * CHECKS * 24 * 3600 / INTERVAL
    hourly_day = per_hourly * CHECKS * 24
    mb = 1024 * 1024
    print(f"disk ({connection.vendor}, table + indexes, {rows:,} rows measured):")
    print(
        f"  {per_raw:.0f} bytes per result -> {raw_day / mb:.0f} MB a day for {CHECKS} checks "
        f"every {INTERVAL} s; {per_hourly:.0f} bytes per hourly row -> "
        f"{hourly_day / mb:.1f} MB a day"
    )
    print(
        f"  steady state (7 days raw + 90 days hourly): {raw_day * 7 / mb:,.0f} MB + "
        f"{hourly_day * 90 / mb:,.0f} MB = {(raw_day * 7 + hourly_day * 90) / mb:,.0f} MB"
    )


# --- Main --------------------------------------------------------------------------------------


def scratch_postgres():
    """Create an empty database on VIGIE_TEST_PG_ADMIN's server; returns (url, drop)."""
    import psycopg
    from psycopg import sql

    admin = os.environ.get("VIGIE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"vigie_bench_monitors_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    return urllib.parse.urlsplit(admin)._replace(path="/" + name).geturl(), drop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=2, help="minutes with every check due at once"
    )
    parser.add_argument(
        "--spread-rounds", type=int, default=1, help="minutes with spread due times"
    )
    parser.add_argument("--pg", action="store_true", help="a scratch PostgreSQL database")
    parser.add_argument("--skip-schedule", action="store_true")
    parser.add_argument("--skip-page", action="store_true")
    args = parser.parse_args()

    context = multiprocessing.get_context("fork")
    targets, child = context.Pipe()
    server = context.Process(target=serve_targets, args=(child,), daemon=True)
    server.start()
    port = targets.recv()

    drop = None
    if args.pg:
        url, drop = scratch_postgres()
    else:
        url = f"sqlite:///{_django.scratch_dir('vigie-bench-monitors-')}/bench.sqlite3"
    try:
        _django.setup(url)
        from django.db import connection

        print(f"database: {connection.vendor}; {CHECKS} HTTP checks on loopback targets")
        team = make_checks(port)
        if not args.skip_schedule:
            schedule_bench(port, targets, args.rounds, args.spread_rounds)
        disk_bench(team)
        if not args.skip_page:
            page_bench(team)
    finally:
        targets.send("stop")
        server.join(5)
        if drop is not None:
            drop()


if __name__ == "__main__":
    main()
