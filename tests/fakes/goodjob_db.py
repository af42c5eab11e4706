"""A scratch PostgreSQL database holding GoodJob's tables, for the GoodJob backend's tests and
bench. It lives beside Django's test database (created and dropped here through the server's
`postgres` database), so it is there whether the Django suite runs on SQLite or PostgreSQL."""

import json
import os
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

SCHEMA = Path(__file__).with_name("goodjob_schema.sql")
# The maintenance database of a server where this user may create databases.
ADMIN_DSN = os.environ.get("VIGIE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def server_reachable():
    try:
        psycopg.connect(ADMIN_DSN, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def dsn_of(name):
    params = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo(**params)


@contextmanager
def scratch_database(prefix, *, schema=True):
    """Create a database named `<prefix>_<random>`, yield its DSN, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        dsn = dsn_of(name)
        if schema:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(SCHEMA.read_text())
        yield dsn
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def connect(dsn):
    """A writable connection for setting up rows (times in UTC, like Rails writes them)."""
    return psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC")


def insert_job(
    conn,
    *,
    job_class="SendEmailJob",
    error="ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=42",
    finished_at,
    queue="default",
    arguments=(),
    serialized_params=None,
    job_class_column=True,
):
    """A good_jobs row as GoodJob leaves it; returns its id. `serialized_params` overrides the
    ActiveJob serialisation built from `job_class`, `queue` and `arguments`."""
    job_id = uuid.uuid4()
    if serialized_params is None:
        serialized_params = {
            "job_class": job_class,
            "job_id": str(job_id),
            "queue_name": queue,
            "arguments": list(arguments),
            "executions": 1,
            "exception_executions": {},
            "locale": "fr",
            "timezone": "Europe/Paris",
        }
    conn.execute(
        """
        INSERT INTO good_jobs (id, active_job_id, queue_name, priority, serialized_params,
            scheduled_at, performed_at, finished_at, error, error_event, created_at, updated_at,
            executions_count, job_class)
        VALUES (%(id)s, %(id)s, %(queue)s, 0, %(params)s::jsonb, %(at)s, %(at)s, %(finished)s,
            %(error)s, CASE WHEN %(error)s::text IS NULL THEN NULL ELSE 5 END, %(at)s, %(at)s,
            1, %(job_class)s)
        """,
        {
            "id": job_id,
            "queue": queue,
            "params": json.dumps(serialized_params),
            "at": finished_at or datetime.now(UTC),
            "finished": finished_at,
            "error": error,
            "job_class": job_class if job_class_column else None,
        },
    )
    return job_id
