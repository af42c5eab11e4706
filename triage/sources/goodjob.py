"""GoodJob: the discarded jobs of a Rails application, read from its PostgreSQL database.

A job is discarded exactly when GoodJob's dashboard says so (`GoodJob::Job.discarded`:
`finished_at IS NOT NULL AND error IS NOT NULL` on `good_jobs`), in GoodJob 4's layout
(`good_jobs` plus `good_job_executions`). Discards are grouped in SQL, one item per job class,
error class and message with ids and numbers taken out. GoodJob has no API to write to, so the
qualifications stay local.
"""

# ruff: noqa: S608  (the SQL is assembled from this module's constants; values are parameters)

from datetime import UTC, datetime
from urllib.parse import urlencode

import structlog
from django.utils.translation import gettext_lazy as _

from triage.sources.base import ItemData, SourceError
from triage.sources.jobs import (
    EXECUTION_ERROR_LENGTH,
    MESSAGE_SCAN_LENGTH,
    JobBackend,
    arguments_sample,
    group_id,
    normalise_message_sql,
    read_only_connection,
)

logger = structlog.get_logger(__name__)

# What Vigie reads; anything missing means a GoodJob layout it does not know.
REQUIRED_COLUMNS = {
    "good_jobs": ("id", "job_class", "queue_name", "serialized_params", "finished_at", "error"),
    "good_job_executions": ("active_job_id", "finished_at", "error"),
}
DISCARDED = "finished_at IS NOT NULL AND error IS NOT NULL"
SPARKLINE_DAYS = 14
FETCH_BATCH = 500
BACKTRACE_FRAMES = 10
RECENT_EXECUTIONS = 10  # of the sample job, for its detail

# One row per discarded job: its group key, or NULLs when the row cannot be read (no job class,
# arguments that are not a JSON object, a blank error) so those land in one "malformed" group.
# OFFSET 0 keeps the inner query a step of its own, so `message` is cut out once per row.
_ROWS = f"""
    SELECT id, finished_at, valid, age_days,
           CASE WHEN valid THEN job_class END AS job_class,
           CASE WHEN valid THEN left(btrim(split_part(error, ': ', 1)), 200) END AS error_class,
           CASE WHEN valid THEN {normalise_message_sql("message")} END AS message
    FROM (
        SELECT id, finished_at, error, job_class,
               floor(date_part('epoch', %(now)s - finished_at::timestamptz) / 86400) AS age_days,
               CASE WHEN strpos(error, ': ') > 0
                    THEN substr(error, strpos(error, ': ') + 2, {MESSAGE_SCAN_LENGTH})
                    ELSE '' END AS message,
               coalesce(jsonb_typeof(serialized_params) = 'object' AND job_class <> ''
                        AND btrim(error) <> '', false) AS valid
        FROM (
            SELECT id, finished_at, error, serialized_params,
                   coalesce(nullif(job_class, ''), serialized_params->>'job_class') AS job_class
            FROM good_jobs
            WHERE {DISCARDED} /*narrow*/
        ) AS discarded
        OFFSET 0
    ) AS cut
"""


def _sparkline_columns():
    days = range(SPARKLINE_DAYS - 1, -1, -1)  # oldest first
    return "ARRAY[" + ", ".join(f"count(*) FILTER (WHERE age_days = {d})" for d in days) + "]"


_GROUPS = f"""
    SELECT g.valid, g.job_class, g.error_class, g.message, g.count,
           g.first_seen::timestamptz, g.last_seen::timestamptz, g.recent_counts, g.sample_ids,
           s.id::text, s.queue_name, s.serialized_params->'arguments', s.error,
           x.count, x.recent, x.backtrace
    FROM (
        SELECT valid, job_class, error_class, message, count(*) AS count,
               min(finished_at) AS first_seen, max(finished_at) AS last_seen,
               {_sparkline_columns()} AS recent_counts,
               (array_agg(id::text) FILTER (WHERE NOT valid))[1:5] AS sample_ids
        FROM ({_ROWS}) AS rows
        GROUP BY valid, job_class, error_class, message
        HAVING %(since)s::timestamptz IS NULL OR max(finished_at) > %(since)s::timestamptz
    ) AS g
    LEFT JOIN LATERAL (
        SELECT id, queue_name, serialized_params, error
        FROM good_jobs AS j
        WHERE g.valid AND j.finished_at = g.last_seen AND j.error IS NOT NULL
          AND coalesce(nullif(j.job_class, ''), j.serialized_params->>'job_class') = g.job_class
          AND left(btrim(split_part(j.error, ': ', 1)), 200) = g.error_class
        ORDER BY j.id
        LIMIT 1
    ) AS s ON true
    LEFT JOIN LATERAL (
        -- The sample job's runs, newest first, and the backtrace of its last failed one
        -- (read through to_jsonb: error_backtrace is not a column Vigie requires).
        SELECT count(*) AS count,
               (array_agg(jsonb_build_object(
                    'started_at', e.created_at AT TIME ZONE 'UTC',
                    'finished_at', e.finished_at AT TIME ZONE 'UTC',
                    'error', left(e.error, {EXECUTION_ERROR_LENGTH}))
                ORDER BY e.created_at DESC))[1:{RECENT_EXECUTIONS}] AS recent,
               (array_agg(to_jsonb(e) -> 'error_backtrace' ORDER BY e.finished_at DESC NULLS LAST)
                FILTER (WHERE e.error IS NOT NULL))[1] AS backtrace
        FROM good_job_executions AS e
        WHERE e.active_job_id = s.id
    ) AS x ON true
    ORDER BY g.last_seen DESC
"""

_KEYS = f"SELECT DISTINCT job_class, error_class, message FROM ({_ROWS}) AS r WHERE valid"

# The job classes that got a discard after `since`: a cheap look through GoodJob's own
# discarded index, so a sync with nothing new reads nothing else.
_NEW_CLASSES = f"""
    SELECT DISTINCT coalesce(nullif(job_class, ''), serialized_params->>'job_class')
    FROM good_jobs
    WHERE {DISCARDED} AND finished_at > %(since)s::timestamptz
"""


# Every job that finished in the window, and those discarded. GoodJob keeps a finished job's row
# (`preserve_job_records`, true by default, cleaned after 14 days); an application that turns it
# off deletes its succeeded jobs, which would read as a 100 % failure rate: without a single
# succeeded job on record the totals are unknown.
_TOTALS = f"""
    SELECT count(*), count(*) FILTER (WHERE {DISCARDED}),
           EXISTS (SELECT 1 FROM good_jobs WHERE finished_at IS NOT NULL AND error IS NULL)
    FROM good_jobs
    WHERE finished_at >= %(since)s::timestamptz
"""


class GoodJobBackend(JobBackend):
    """Configuration: the DSN (a read-only role is best) in the environment variable named by
    `source.secret_env`; `source.base_url` is the GoodJob dashboard
    (https://app.example.org/good_job) that items link to."""

    label = "GoodJob"
    open_label = _("Open in GoodJob's dashboard")
    fields = ("base_url", "secret_env", "secret")
    credential = "dsn"
    cli_help = "GoodJob's discarded jobs (read-only DSN)."

    cli_flags = {"base_url": "--dashboard-url"}

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--dashboard-url", default="", help="GoodJob dashboard root, for links to each job."
        )

    @classmethod
    def configure(cls, source, options):
        source.base_url = options["dashboard_url"].rstrip("/")
        source.environment = ""

    # Mirror side.
    def fetch(self, *, since=None):
        self.skipped = 0
        now = datetime.now(UTC)
        with read_only_connection(self.source) as conn:
            self._check_schema(conn)
            narrow, params = "", {"since": since, "now": now}
            if since is not None:
                classes = [row[0] for row in conn.execute(_NEW_CLASSES, {"since": since})]
                if not classes:
                    return
                # Rows without a job_class column value fall back to serialized_params.
                narrow = "AND (job_class = ANY(%(classes)s) OR job_class IS NULL OR job_class = '')"
                params["classes"] = classes
            with conn.cursor(name="vigie_goodjob_discarded") as cursor:
                cursor.itersize = FETCH_BATCH
                cursor.execute(_GROUPS.replace("/*narrow*/", narrow), params)
                for row in cursor:
                    item = self._item(row)
                    if item is not None:
                        yield item

    def reconcile(self, external_ids):
        """Groups with no discarded job left (retried from the dashboard, or cleaned up by
        GoodJob) are reported "resolved"; the others "discarded"."""
        wanted = set(external_ids)
        present = set()
        with read_only_connection(self.source) as conn:
            self._check_schema(conn)
            with conn.cursor(name="vigie_goodjob_reconcile") as cursor:
                cursor.itersize = FETCH_BATCH
                cursor.execute(_KEYS, {"now": datetime.now(UTC)})
                for key in cursor:
                    present.add(group_id(*key))
        return {eid: "discarded" if eid in present else "resolved" for eid in wanted}

    def totals(self, since):
        with read_only_connection(self.source) as conn:
            finished, discarded, preserved = conn.execute(_TOTALS, {"since": since}).fetchone()
        return (finished, discarded) if preserved else None

    def bug_report(self, item):
        payload = item.payload
        return super().bug_report(item) | {
            "job_class": payload.get("job_class", ""),
            "queue": payload.get("queue", ""),
            "tags": {"job_class": payload.get("job_class", ""), "queue": payload.get("queue", "")},
            "frames": payload.get("backtrace", []),
        }

    # Internals.
    def _check_schema(self, conn):
        # The catalogue rather than information_schema: the latter takes longer than a whole
        # incremental sync is allowed to.
        rows = conn.execute(
            """
            SELECT c.relname, a.attname FROM pg_class AS c
            JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.oid = ANY(ARRAY(SELECT to_regclass(name) FROM unnest(%s::text[]) AS name))
            """,
            (list(REQUIRED_COLUMNS),),
        ).fetchall()
        found = {(table, column) for table, column in rows}
        tables = {table for table, _ in found}
        missing = []
        for table, columns in REQUIRED_COLUMNS.items():
            if table not in tables:
                missing.append(f"table {table}")
            else:
                missing += [f"column {table}.{c}" for c in columns if (table, c) not in found]
        if missing:
            raise SourceError(
                "unsupported GoodJob schema: missing "
                + ", ".join(missing)
                + " (Vigie reads GoodJob 4's tables: run GoodJob's update migrations)",
                permanent=True,
            )

    def _item(self, row):
        (valid, job_class, error_class, message, count, first_seen, last_seen, recent_counts,
         sample_ids, job_id, queue, arguments, error,
         executions, recent, backtrace) = row  # fmt: skip
        if not valid:
            self.skipped += count
            logger.warning(
                "goodjob.unreadable_jobs_skipped",
                source=self.source.name,
                count=count,
                sample_job_ids=sample_ids,
                reason="no job class, arguments not a JSON object, or a blank error",
            )
            return None
        sample_message = error.partition(": ")[2] if error else message
        dashboard = self.source.base_url.rstrip("/")
        listing = {"state": "discarded", "job_class": job_class}
        return ItemData(
            external_id=group_id(job_class, error_class, message),
            kind="job",
            title=f"{error_class}: {sample_message}"[:500] if sample_message else error_class,
            origin=job_class,
            level="error",
            environment=self.source.environment,
            upstream_status="discarded",
            first_seen=first_seen,
            last_seen=last_seen,
            tally=count,
            permalink=f"{dashboard}/jobs/{job_id}" if dashboard and job_id else "",
            recent_counts=list(recent_counts),
            payload={
                "job_class": job_class,
                "error_class": error_class,
                "message": message,
                "sample_error": (error or "")[:2000],
                "sample_job_id": job_id,
                "queue": queue or "",
                "arguments": arguments_sample(arguments),
                "backtrace": [str(f) for f in backtrace[:BACKTRACE_FRAMES]]
                if isinstance(backtrace, list)
                else [],
                "executions": executions or 0,
                "recent_executions": list(recent or []),
                "first_seen": first_seen.isoformat(),
                "last_seen": last_seen.isoformat(),
                "count": count,
                # Every discarded job of the class, on GoodJob's own dashboard.
                "dashboard_url": f"{dashboard}/jobs?{urlencode(listing)}" if dashboard else "",
            },
        )
