"""GoodJob source: first full fetch and an incremental fetch over 1,000,000 jobs.

Builds `good_jobs` with 1,000,000 rows, 200,000 of them discarded (60 job classes, 5 kinds of
error with ids in their messages), in a scratch database, then measures the backend. Targets:
first fetch under 10 s and 200 MB peak RSS, an incremental fetch with nothing new under 100 ms.

    .venv/bin/python bench/goodjob.py   (VIGIE_TEST_PG_ADMIN names the server, see tests/fakes)
"""

import os
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigie.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEBUG", "true")  # settings without a SECRET_KEY; nothing is served

import django

django.setup()

from tests.fakes import goodjob_db  # noqa: E402
from triage.models import Source  # noqa: E402
from triage.sources.goodjob import GoodJobBackend  # noqa: E402

JOBS, DISCARDED = 1_000_000, 200_000
DSN_ENV = "VIGIE_BENCH_GOODJOB_DSN"

# Every fifth job is discarded; times spread over the last 30 days.
FILL = """
INSERT INTO good_jobs (id, active_job_id, queue_name, priority, serialized_params, scheduled_at,
    performed_at, finished_at, error, error_event, created_at, updated_at, executions_count,
    job_class)
SELECT id, id, queue, 0,
    jsonb_build_object('job_class', job_class, 'job_id', id, 'queue_name', queue,
        'arguments', jsonb_build_array(jsonb_build_object('_aj_globalid',
            'gid://rdv/Rdv/' || n), 'reminder', n %% 7), 'executions', 1, 'locale', 'fr'),
    at, at, at + interval '2 seconds',
    CASE WHEN n %% 5 = 0 THEN (ARRAY[
        'ActiveRecord::RecordNotFound: Couldn''t find Lieu with ''id''=' || n,
        'Net::ReadTimeout: Net::ReadTimeout with #<TCPSocket:(closed)> after ' || n %% 60 || 's',
        'Faraday::ConnectionFailed: Failed to open TCP connection to api-' || n %% 9
            || '.example.org:443',
        'ActiveJob::DeserializationError: Error while trying to deserialize arguments: '
            || 'Couldn''t find User with ''id''=' || n,
        'Mail::SMTPError: 550 5.1.1 <user' || n || '@example.org>: Recipient rejected'
    ])[1 + (n / 300) %% 5] END,
    CASE WHEN n %% 5 = 0 THEN 5 END, at, at, 1, job_class
FROM (
    SELECT n, gen_random_uuid() AS id, 'Job' || (n / 5) %% 60 || 'Job' AS job_class,
        (ARRAY['default', 'mailers', 'exports'])[1 + n %% 3] AS queue,
        now() - interval '30 days' * (n::float / %(jobs)s) AS at
    FROM generate_series(1, %(jobs)s) AS n
) AS jobs
"""


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main():
    with goodjob_db.scratch_database("vigie_goodjob_bench") as dsn:
        started = time.perf_counter()
        with goodjob_db.connect(dsn) as conn:
            conn.execute(FILL, {"jobs": JOBS})
            conn.execute("VACUUM ANALYZE good_jobs")
            discarded = conn.execute(
                "SELECT count(*) FROM good_jobs WHERE finished_at IS NOT NULL AND error IS NOT NULL"
            ).fetchone()[0]
        print(
            f"built good_jobs: {JOBS:,} rows, {discarded:,} discarded, "
            f"in {time.perf_counter() - started:.1f} s"
        )
        assert discarded == DISCARDED

        os.environ[DSN_ENV] = dsn
        source = Source(kind="goodjob", name="bench", secret_env=DSN_ENV, base_url="https://x/gj")
        backend = GoodJobBackend(source)
        rss_before = peak_rss_mb()

        started = time.perf_counter()
        items = list(backend.fetch())
        full = time.perf_counter() - started
        counted = sum(item.tally for item in items)
        print(
            f"first full fetch: {full:.2f} s, {len(items)} items covering {counted:,} discards,"
            f" peak RSS {peak_rss_mb():.0f} MB (was {rss_before:.0f} MB before the fetch)"
        )
        assert counted == DISCARDED

        high_water = max(item.last_seen for item in items)
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            assert list(backend.fetch(since=high_water)) == []
            timings.append(time.perf_counter() - started)
        timings.sort()
        print(
            f"incremental fetch, nothing new: p50 {timings[10] * 1000:.1f} ms, "
            f"max {timings[-1] * 1000:.1f} ms (20 runs, connection included)"
        )

        with goodjob_db.connect(dsn) as conn:
            goodjob_db.insert_job(
                conn,
                job_class=items[0].origin,
                error=items[0].payload["sample_error"],
                finished_at=high_water + timedelta(seconds=1),
            )
        started = time.perf_counter()
        [item] = backend.fetch(since=high_water)
        print(
            f"incremental fetch, one new discard: {(time.perf_counter() - started) * 1000:.0f} ms"
            f" ({item.origin}, {item.tally:,} discards in its group)"
        )
        print(
            f"targets: full < 10 s and < 200 MB, incremental < 100 ms; peak RSS now "
            f"{peak_rss_mb():.0f} MB"
        )
    print("scratch database dropped")


if __name__ == "__main__":
    main()
