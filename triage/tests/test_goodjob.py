"""The GoodJob backend against a real PostgreSQL holding GoodJob's tables."""

import os
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from structlog.testing import capture_logs

from tests.fakes import goodjob_db
from triage.models import Item, Source
from triage.sources import backend_for
from triage.sources.base import SourceError
from triage.sources.goodjob import GoodJobBackend
from triage.sources.jobs import (
    group_id,
    is_not_found_error,
    normalise_message,
    normalise_message_sql,
    read_only_connection,
)

if not goodjob_db.server_reachable():
    if os.environ.get("CI"):
        raise RuntimeError(f"PostgreSQL is required for the GoodJob tests ({goodjob_db.ADMIN_DSN})")
    pytest.skip("no PostgreSQL server for the GoodJob tests", allow_module_level=True)

DSN_ENV = "VIGIE_TEST_GOODJOB_DSN"
NOW = datetime.now(UTC).replace(microsecond=0)
NOT_FOUND = "ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'={}"


@pytest.fixture(scope="session")
def goodjob_dsn():
    with goodjob_db.scratch_database("vigie_goodjob_test") as dsn:
        yield dsn


@pytest.fixture
def rails(goodjob_dsn):
    """A writable connection to the monitored database, emptied for each test."""
    with goodjob_db.connect(goodjob_dsn) as conn:
        conn.execute("TRUNCATE good_jobs, good_job_executions")
        yield conn


def make_source(dsn_env=DSN_ENV, **fields):
    fields.setdefault("base_url", "https://rdv.example.org/super_admins/good_job")
    return Source(kind="goodjob", name="rdv-jobs", secret_env=dsn_env, **fields)


@pytest.fixture
def backend(goodjob_dsn, monkeypatch):
    monkeypatch.setenv(DSN_ENV, goodjob_dsn)
    return backend_for(make_source())


def ago(**delta):
    return NOW - timedelta(**delta)


def test_registered_for_goodjob_sources():
    assert isinstance(backend_for(make_source()), GoodJobBackend)
    assert GoodJobBackend.qualifications == ("temporary", "bug", "expected")


def test_discards_of_one_job_class_and_error_are_one_item_whatever_the_ids(rails, backend):
    first = goodjob_db.insert_job(rails, error=NOT_FOUND.format(12), finished_at=ago(days=3))
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(7781), finished_at=ago(days=2))
    latest = goodjob_db.insert_job(
        rails,
        error=NOT_FOUND.format(95),
        finished_at=ago(hours=1),
        queue="mailers",
        arguments=[{"_aj_globalid": "gid://rdv/Rdv/95"}, "reminder"],
    )
    assert first != latest

    [item] = backend.fetch()

    assert item.kind == "job"
    assert item.origin == "SendEmailJob"
    assert item.title == "ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=95"
    assert item.tally == 3
    assert item.first_seen == ago(days=3)
    assert item.last_seen == ago(hours=1)
    assert item.upstream_status == "discarded"
    assert item.permalink == f"https://rdv.example.org/super_admins/good_job/jobs/{latest}"
    assert item.payload["message"] == "Couldn't find Lieu with 'id'=<n>"
    assert item.payload["dashboard_url"] == (
        "https://rdv.example.org/super_admins/good_job/jobs?state=discarded&job_class=SendEmailJob"
    )
    assert item.payload["queue"] == "mailers"
    assert item.payload["arguments"] == [{"_aj_globalid": "gid://rdv/Rdv/95"}, "reminder"]
    assert item.external_id == group_id(
        "SendEmailJob", "ActiveRecord::RecordNotFound", "Couldn't find Lieu with 'id'=<n>"
    )
    # Oldest day first; the three discards fall on three different days.
    assert len(item.recent_counts) == 14
    assert item.recent_counts[-1] == 1 and sum(item.recent_counts) == 3


def test_uuids_emails_and_numbers_are_taken_out_of_messages(rails, backend):
    for n in range(3):
        goodjob_db.insert_job(
            rails,
            job_class="SyncAgentJob",
            error=(
                f"Faraday::TimeoutError: timeout after {n + 10}.5s for agent-{n}@rdv.fr "
                f"(request 3f2b8c1e-0a1b-4c2d-8e3f-00112233445{n}, 0x7f{n}a)"
            ),
            finished_at=ago(minutes=n),
        )

    [item] = backend.fetch()

    assert item.tally == 3
    assert item.payload["message"] == ("timeout after <n>s for <email> (request <uuid>, <hex>)")


@pytest.mark.parametrize(
    "message",
    [
        "Couldn't find Lieu with 'id'=42",
        "timeout after 10.5s for Agent-7@rdv.example.fr (request 3F2B8C1E-0A1B-4C2D-8E3F-001122)",
        "job 3f2b8c1e-0a1b-4c2d-8e3f-001122334455 in #<Job:0x00007f8a2c>\n\tretry  2",
        "  plain text, nothing to take out  ",
        "100% of 3 mails: a@b.co, c@d.org",
    ],
)
def test_sql_and_python_normalisation_agree(rails, message):
    sql = f"SELECT {normalise_message_sql('m')} FROM (SELECT %(m)s::text AS m) AS t"
    assert rails.execute(sql, {"m": message}).fetchone()[0] == normalise_message(message)


def test_different_job_classes_or_errors_are_different_items_newest_first(rails, backend):
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(1), finished_at=ago(days=1))
    goodjob_db.insert_job(
        rails, error="Net::ReadTimeout: Net::ReadTimeout", finished_at=ago(hours=5)
    )
    goodjob_db.insert_job(
        rails, job_class="ExportJob", error=NOT_FOUND.format(2), finished_at=ago(hours=2)
    )

    items = list(backend.fetch())

    assert [(i.origin, i.payload["error_class"]) for i in items] == [
        ("ExportJob", "ActiveRecord::RecordNotFound"),
        ("SendEmailJob", "Net::ReadTimeout"),
        ("SendEmailJob", "ActiveRecord::RecordNotFound"),
    ]
    assert len({i.external_id for i in items}) == 3


def test_only_discarded_jobs_count_as_the_dashboard_counts_them(rails, backend):
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(1), finished_at=ago(hours=1))
    # Succeeded: finished without error.
    goodjob_db.insert_job(rails, error=None, finished_at=ago(hours=1))
    # Retried: errored, then re-enqueued (not finished) — GoodJob keeps the last error.
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(2), finished_at=None)

    [item] = backend.fetch()

    assert item.tally == 1


def test_totals_count_the_jobs_finished_since_and_those_discarded(rails, backend):
    for minutes in (5, 10, 20, 50):
        goodjob_db.insert_job(rails, error=None, finished_at=ago(minutes=minutes))
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(1), finished_at=ago(minutes=30))
    goodjob_db.insert_job(rails, error=None, finished_at=ago(hours=3))  # before the window
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(2), finished_at=None)  # to be retried
    goodjob_db.insert_job(rails, error=None, finished_at=None)  # running

    assert backend.totals(ago(hours=1)) == (5, 1)


def test_without_a_succeeded_job_on_record_the_totals_are_unknown(rails, backend):
    # preserve_job_records off: GoodJob deleted the succeeded jobs, only discards remain.
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(1), finished_at=ago(minutes=30))

    assert backend.totals(ago(hours=1)) is None


@pytest.mark.django_db
def test_a_sync_stores_the_job_totals_for_the_failure_rate(rails, goodjob_dsn, monkeypatch):
    from triage.sync import sync_source

    monkeypatch.setenv(DSN_ENV, goodjob_dsn)
    source = make_source()
    source.save()
    for index in range(25):
        error = NOT_FOUND.format(index) if index < 6 else None
        goodjob_db.insert_job(rails, error=error, finished_at=datetime.now(UTC))

    run = sync_source(source.pk)

    assert run.error == ""
    assert (run.totals["finished"], run.totals["failed"]) == (25, 6)


def test_the_job_class_falls_back_to_the_serialized_params(rails, backend):
    goodjob_db.insert_job(
        rails, error=NOT_FOUND.format(1), finished_at=ago(hours=1), job_class_column=False
    )

    [item] = backend.fetch()

    assert item.origin == "SendEmailJob"


def test_incremental_fetch_yields_groups_with_a_new_discard_with_their_full_counts(rails, backend):
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(1), finished_at=ago(days=3))
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(2), finished_at=ago(minutes=5))
    goodjob_db.insert_job(rails, error="Net::ReadTimeout: slow", finished_at=ago(days=2))

    [item] = backend.fetch(since=ago(hours=1))

    assert item.payload["error_class"] == "ActiveRecord::RecordNotFound"
    assert item.tally == 2
    assert item.first_seen == ago(days=3)
    assert list(backend.fetch(since=ago(minutes=5))) == []


def test_unreadable_jobs_are_skipped_with_a_warning_and_the_fetch_goes_on(rails, backend):
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(1), finished_at=ago(hours=3))
    not_an_object = goodjob_db.insert_job(
        rails, serialized_params="not a job", error="RuntimeError: x", finished_at=ago(hours=2),
        job_class_column=False,
    )  # fmt: skip
    goodjob_db.insert_job(
        rails, serialized_params=["a", "list"], error="RuntimeError: y", finished_at=ago(hours=2)
    )
    goodjob_db.insert_job(rails, error="   ", finished_at=ago(hours=1))
    no_params = goodjob_db.insert_job(rails, error="RuntimeError: z", finished_at=ago(hours=1))
    rails.execute(
        "UPDATE good_jobs SET serialized_params = NULL, job_class = NULL WHERE id = %s",
        (no_params,),
    )

    with capture_logs() as logs:
        items = list(backend.fetch())

    assert [i.payload["error_class"] for i in items] == ["ActiveRecord::RecordNotFound"]
    assert backend.skipped == 4
    [warning] = [log for log in logs if log["event"] == "goodjob.unreadable_jobs_skipped"]
    assert warning["log_level"] == "warning"
    assert warning["count"] == 4
    assert str(not_an_object) in warning["sample_job_ids"]


def test_reconcile_reports_groups_whose_discards_are_gone(rails, backend):
    goodjob_db.insert_job(rails, error=NOT_FOUND.format(1), finished_at=ago(hours=3))
    retried = goodjob_db.insert_job(rails, error="Net::ReadTimeout: x", finished_at=ago(hours=1))
    gone, kept = (item.external_id for item in backend.fetch())
    # Retried from the dashboard: not finished any more.
    rails.execute("UPDATE good_jobs SET finished_at = NULL WHERE id = %s", (retried,))

    assert backend.reconcile([kept, gone]) == {kept: "discarded", gone: "resolved"}


def test_bug_report_and_local_writes(rails, backend):
    job = goodjob_db.insert_job(
        rails, error=NOT_FOUND.format(7), finished_at=ago(hours=1), arguments=[7]
    )
    rails.execute(
        """
        INSERT INTO good_job_executions (active_job_id, job_class, queue_name, created_at,
            updated_at, finished_at, error, error_event, error_backtrace)
        VALUES (%s, 'SendEmailJob', 'default', now(), now(), now(), %s, 5, %s)
        """,
        (job, NOT_FOUND.format(7), ["app/jobs/send_email_job.rb:12:in `perform'", "x.rb:1"]),
    )
    [data] = backend.fetch()
    item = Item(title=data.title, payload=data.payload, permalink=data.permalink)
    item.tally = data.tally

    report = backend.bug_report(item)

    assert report["job_class"] == "SendEmailJob"
    assert report["error_class"] == "ActiveRecord::RecordNotFound"
    assert report["count"] == 1
    assert report["arguments"] == [7]
    assert report["link"].endswith(f"/jobs/{job}")
    assert report["first_seen"] == report["last_seen"] == ago(hours=1).isoformat()
    assert report["frames"][0] == "app/jobs/send_email_job.rb:12:in `perform'"
    state = backend.set_status(item, "ignored", {"ignoreCount": 1})
    assert (state.status, state.details) == ("ignored", {"ignoreCount": 1})
    assert backend.comment(item, "hello") == {}
    assert is_not_found_error(item)


@pytest.mark.parametrize(
    ("error_class", "message", "expected"),
    [
        ("ActiveRecord::RecordNotFound", "Couldn't find Lieu", True),
        ("triage.models.Item.DoesNotExist", "Item matching query does not exist.", True),
        ("ActiveJob::DeserializationError", "Couldn't find User with 'id'=<n>", True),
        ("Net::ReadTimeout", "Net::ReadTimeout", False),
    ],
)
def test_not_found_errors(error_class, message, expected):
    item = Item(title=f"{error_class}: {message}", payload={"error_class": error_class})
    assert is_not_found_error(item) is expected


def test_the_connection_cannot_write(rails, goodjob_dsn, monkeypatch):
    monkeypatch.setenv(DSN_ENV, goodjob_dsn)
    with read_only_connection(make_source()) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(
                "INSERT INTO good_jobs (id, created_at, updated_at) VALUES "
                "(gen_random_uuid(), now(), now())"
            )
    assert rails.execute("SELECT count(*) FROM good_jobs").fetchone() == (0,)


def test_unsupported_schema_names_what_is_missing(monkeypatch):
    with goodjob_db.scratch_database("vigie_goodjob_old", schema=False) as dsn:
        with goodjob_db.connect(dsn) as conn:
            # GoodJob 1's table: no job_class column, no executions table.
            conn.execute(
                "CREATE TABLE good_jobs (id uuid PRIMARY KEY, queue_name text, priority integer,"
                " serialized_params jsonb, scheduled_at timestamp, performed_at timestamp,"
                " finished_at timestamp, error text, created_at timestamp, updated_at timestamp)"
            )
        monkeypatch.setenv(DSN_ENV, dsn)
        with pytest.raises(SourceError) as excinfo:
            list(GoodJobBackend(make_source()).fetch())
    message = str(excinfo.value)
    assert "unsupported GoodJob schema" in message
    assert "table good_job_executions" in message
    assert "column good_jobs.job_class" in message
    assert excinfo.value.permanent


def test_missing_tables_are_a_clear_error(monkeypatch):
    with goodjob_db.scratch_database("vigie_goodjob_empty", schema=False) as dsn:
        monkeypatch.setenv(DSN_ENV, dsn)
        with pytest.raises(SourceError, match="missing table good_jobs, table good_job_exec"):
            list(GoodJobBackend(make_source()).fetch())


def test_an_unreachable_server_is_a_transient_error_without_the_password(monkeypatch):
    monkeypatch.setenv(DSN_ENV, "postgresql://reader:s3cret-pw@127.0.0.1:1/rdv")
    with pytest.raises(SourceError, match="cannot connect to the database") as excinfo:
        list(GoodJobBackend(make_source()).fetch())
    assert not excinfo.value.permanent and not excinfo.value.auth
    assert "s3cret-pw" not in str(excinfo.value)


def test_refused_credentials_are_an_auth_error(goodjob_dsn, monkeypatch):
    # The test server trusts loopback connections, so a role that does not exist is what it
    # refuses; a wrong password is refused with the same kind of message.
    params = psycopg.conninfo.conninfo_to_dict(goodjob_dsn)
    params.update(user="vigie_no_such_role", password="s3cret-pw")
    monkeypatch.setenv(DSN_ENV, psycopg.conninfo.make_conninfo(**params))
    with pytest.raises(SourceError, match="refused the credentials") as excinfo:
        list(GoodJobBackend(make_source()).fetch())
    assert excinfo.value.auth and excinfo.value.permanent
    assert "s3cret-pw" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (None, "VIGIE_TEST_GOODJOB_DSN .* is not set"),
        ("host=db password=s3cret-pw garbage", "not a valid PostgreSQL connection string"),
    ],
)
def test_a_missing_or_invalid_dsn_is_a_permanent_error(monkeypatch, value, match):
    if value is None:
        monkeypatch.delenv(DSN_ENV, raising=False)
    else:
        monkeypatch.setenv(DSN_ENV, value)
    with pytest.raises(SourceError, match=match) as excinfo:
        list(GoodJobBackend(make_source()).fetch())
    assert excinfo.value.permanent
    assert "s3cret-pw" not in str(excinfo.value)


def test_a_role_that_may_not_read_the_tables_is_a_clear_error(goodjob_dsn, monkeypatch):
    role = f"vigie_noread_{uuid.uuid4().hex[:8]}"
    with goodjob_db.connect(goodjob_dsn) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        try:
            params = psycopg.conninfo.conninfo_to_dict(goodjob_dsn) | {"user": role}
            monkeypatch.setenv(DSN_ENV, psycopg.conninfo.make_conninfo(**params))
            with pytest.raises(SourceError, match="may not read") as excinfo:
                list(GoodJobBackend(make_source()).fetch())
            assert excinfo.value.permanent
        finally:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_query_past_the_statement_timeout_is_cancelled(goodjob_dsn, monkeypatch):
    monkeypatch.setenv(DSN_ENV, goodjob_dsn)
    with (
        pytest.raises(SourceError, match="was cancelled"),
        read_only_connection(make_source(), statement_timeout_ms=50) as conn,
    ):
        conn.execute("SELECT pg_sleep(2)")


@pytest.mark.django_db
def test_the_detail_shows_the_backtrace_and_executions_goodjob_recorded(
    rails, goodjob_dsn, monkeypatch, admin_client
):
    from triage.sync import sync_source

    monkeypatch.setenv(DSN_ENV, goodjob_dsn)
    source = make_source()
    source.save()
    job = goodjob_db.insert_job(
        rails,
        error=NOT_FOUND.format(7),
        finished_at=ago(hours=1),
        arguments=[{"token": "tok-secret-value"}],
    )
    runs = [
        (ago(hours=3), "Net::ReadTimeout: Net::ReadTimeout with #<TCPSocket>", ["net.rb:1"]),
        (ago(hours=1), NOT_FOUND.format(7), ["app/jobs/send_email_job.rb:12:in `perform'"]),
    ]
    for at, error, backtrace in runs:
        rails.execute(
            """
            INSERT INTO good_job_executions (active_job_id, job_class, queue_name, created_at,
                updated_at, finished_at, error, error_event, error_backtrace)
            VALUES (%s, 'SendEmailJob', 'default', %s, %s, %s, %s, 5, %s)
            """,
            (job, at - timedelta(seconds=2), at, at, error, backtrace),
        )
    assert sync_source(source.pk).error == ""
    item = Item.objects.get(source=source)

    page = admin_client.get(f"/board/items/{item.pk}").content.decode()

    assert "app/jobs/send_email_job.rb:12:in `perform&#x27;" in page
    assert "net.rb:1" not in page  # the backtrace of the last failed run only
    assert '<dd class="execution-count">2</dd>' in page
    runs = page[page.index('class="executions"') :]
    assert runs.index("Couldn&#x27;t find Lieu") < runs.index("Net::ReadTimeout with #&lt;")
    assert "tok-secret-value" not in page  # masked (not in any CSRF token: a hyphen)
