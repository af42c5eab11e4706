"""The django-q2 backend reading another Django application's task table (read-only DSN)."""

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from picklefield.fields import dbsafe_encode

from tests.fakes import goodjob_db
from triage.models import Item, Source
from triage.sources.base import SourceError
from triage.sources.djangoq import DjangoQBackend
from triage.tests.test_djangoq import CALLS, evil_pickle

if not goodjob_db.server_reachable():
    if os.environ.get("CI"):
        raise RuntimeError(f"PostgreSQL is required for these tests ({goodjob_db.ADMIN_DSN})")
    pytest.skip("no PostgreSQL server for the foreign django-q2 tests", allow_module_level=True)

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**delta):
    return NOW - timedelta(**delta)


TASK_TABLE = """
CREATE TABLE django_q_task (
    id varchar(32) PRIMARY KEY, name varchar(100) NOT NULL, func varchar(256) NOT NULL,
    hook varchar(256), args text, kwargs text, result text, "group" varchar(100),
    cluster varchar(100), started timestamptz NOT NULL, stopped timestamptz NOT NULL,
    success boolean NOT NULL, attempt_count integer NOT NULL DEFAULT 0
)
"""


@pytest.fixture
def other_app(monkeypatch):
    with (
        goodjob_db.scratch_database("vigie_djangoq_test", schema=False) as dsn,
        goodjob_db.connect(dsn) as conn,
    ):
        conn.execute(TASK_TABLE)
        monkeypatch.setenv("VIGIE_TEST_OTHER_APP_DSN", dsn)
        yield conn


def insert(conn, func, result, *, stopped, args=(), success=False):
    task_id = uuid.uuid4().hex
    conn.execute(
        "INSERT INTO django_q_task (id, name, func, args, kwargs, result, started, stopped,"
        " success) VALUES (%s, 'n', %s, %s, %s, %s, %s, %s, %s)",
        (task_id, func, dbsafe_encode(args), dbsafe_encode({}), result, stopped, stopped,
         success),
    )  # fmt: skip
    return task_id


def foreign_source():
    return Source(
        kind="djangoq",
        name="other-app",
        secret_env="VIGIE_TEST_OTHER_APP_DSN",
        base_url="https://app.example.org/admin/",
    )


def test_foreign_failures_are_read_without_running_their_pickles(other_app):
    error = "Failure 12 : Traceback (most recent call last):\nKeyError: 'Failure 12'\n"
    insert(other_app, "shop.tasks.charge", dbsafe_encode(error), stopped=ago(hours=3))
    latest = insert(
        other_app, "shop.tasks.charge", dbsafe_encode(error.replace("12", "13")),
        stopped=ago(hours=1), args=(13,),
    )  # fmt: skip
    CALLS.clear()
    insert(other_app, "shop.tasks.charge", evil_pickle(), stopped=ago(hours=2))
    insert(other_app, "shop.tasks.ok", dbsafe_encode(1), stopped=ago(hours=1), success=True)
    backend = DjangoQBackend(foreign_source())

    [item] = backend.fetch()

    assert (item.origin, item.tally) == ("shop.tasks.charge", 2)
    assert item.payload["error_class"] == "KeyError"
    assert item.payload["arguments"] == {"args": [13], "kwargs": {}}
    assert item.permalink == f"https://app.example.org/admin/django_q/failure/{latest}/change/"
    assert backend.skipped == 1 and CALLS == []
    assert not backend.can_requeue
    with pytest.raises(SourceError, match="only this Vigie's own tasks"):
        backend.requeue(Item(payload=item.payload))
    assert list(backend.fetch(since=ago(minutes=30))) == []


def test_a_database_without_django_q_is_a_clear_error(other_app):
    other_app.execute("DROP TABLE django_q_task")
    with pytest.raises(SourceError, match="no django_q_task table"):
        list(DjangoQBackend(foreign_source()).fetch())
