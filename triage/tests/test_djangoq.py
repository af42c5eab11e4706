"""The django-q2 backend against django-q2's own models (and a foreign task table)."""

import base64
import pickle
import traceback
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils.timezone import localtime
from django_q.models import Success, Task
from picklefield.fields import dbsafe_encode
from structlog.testing import capture_logs

from triage.models import Item, Source
from triage.sources import backend_for
from triage.sources.base import SourceError
from triage.sources.djangoq import DjangoQBackend, _unpickle, split_error
from triage.sources.jobs import group_id, is_not_found_error

NOW = datetime.now(UTC).replace(microsecond=0)
CALLS = []


def send_reminder(rdv_id, *, channel="sms"):
    """A task of this Vigie that fails while its record is missing."""
    CALLS.append((rdv_id, channel))
    if rdv_id > 1000:
        raise Item.DoesNotExist(f"Rdv {rdv_id} matching query does not exist.")


def sync_upstream(url):
    raise TimeoutError(f"timed out after 30s on {url}")


def failure(func, *args, stopped, **kwargs):
    """A failed task row exactly as django-q2's worker saves it."""
    try:
        func(*args, **kwargs)
    except Exception as exc:
        result = f"{exc} : {traceback.format_exc()}"
    return Task.objects.create(
        id=uuid.uuid4().hex,
        name=f"task-{uuid.uuid4().hex[:6]}",
        func=f"{func.__module__}.{func.__name__}",
        args=args,
        kwargs=kwargs,
        result=result,
        started=stopped - timedelta(seconds=1),
        stopped=stopped,
        success=False,
    )


def ago(**delta):
    return NOW - timedelta(**delta)


@pytest.fixture
def source(db):
    return Source.objects.create(kind="djangoq", name="vigie-tasks")


@pytest.fixture
def backend(source):
    return backend_for(source)


def test_registered_for_djangoq_sources(backend):
    assert isinstance(backend, DjangoQBackend)
    assert backend.qualifications == ("temporary", "bug", "expected")
    assert backend.can_requeue


def test_failures_are_grouped_by_function_and_normalised_error(backend):
    failure(send_reminder, 1001, stopped=ago(days=2))
    failure(send_reminder, 2002, channel="mail", stopped=ago(hours=3))
    latest = failure(send_reminder, 3003, stopped=ago(hours=1))
    failure(sync_upstream, "https://api-1.example.org", stopped=ago(hours=2))
    Task.objects.create(
        id=uuid.uuid4().hex, name="ok", func="x.y", started=NOW, stopped=NOW, success=True
    )

    first, second = backend.fetch()

    assert first.origin == "triage.tests.test_djangoq.send_reminder"
    assert first.kind == "job"
    assert first.title == "triage.models.Item.DoesNotExist: Rdv 3003 matching query does not exist."
    assert first.tally == 3
    assert (first.first_seen, first.last_seen) == (ago(days=2), ago(hours=1))
    assert first.payload["message"] == "Rdv <n> matching query does not exist."
    assert first.payload["latest_task_id"] == latest.pk
    assert first.payload["arguments"] == {"args": [3003], "kwargs": {}}
    assert first.permalink == f"/admin/django_q/failure/{latest.pk}/change/"
    assert first.payload["traceback"][-1].startswith("triage.models.Item.DoesNotExist")
    assert first.external_id == group_id(
        first.origin, "triage.models.Item.DoesNotExist", "Rdv <n> matching query does not exist."
    )
    assert second.origin.endswith("sync_upstream") and second.tally == 1
    assert second.payload["error_class"] == "TimeoutError"


def test_incremental_fetch_yields_groups_failed_again_with_full_counts(backend):
    failure(send_reminder, 1001, stopped=ago(days=2))
    failure(send_reminder, 1002, stopped=ago(minutes=5))
    failure(sync_upstream, "https://a", stopped=ago(days=1))

    [item] = backend.fetch(since=ago(hours=1))

    assert item.origin.endswith("send_reminder") and item.tally == 2
    assert list(backend.fetch(since=ago(minutes=5))) == []


def test_unreadable_failures_are_skipped_with_a_warning(backend):
    failure(send_reminder, 1001, stopped=ago(hours=1))
    Task.objects.create(
        id=uuid.uuid4().hex, name="odd", func="x.y", result=None, started=NOW, stopped=NOW,
        success=False,
    )  # fmt: skip

    with capture_logs() as logs:
        [item] = backend.fetch()

    assert item.origin.endswith("send_reminder")
    assert backend.skipped == 1
    assert [log["count"] for log in logs if log["event"] == "djangoq.unreadable_tasks_skipped"] == [
        1
    ]


def test_requeue_runs_the_latest_failed_task_again_with_its_arguments(backend):
    failure(send_reminder, 1001, stopped=ago(hours=2))
    latest = failure(send_reminder, 1002, channel="mail", stopped=ago(hours=1))
    [data] = backend.fetch()
    item = Item(title=data.title, payload=data.payload)
    # The record is back: the task can succeed now.
    Task.objects.filter(pk=latest.pk).update(args=(7,))
    CALLS.clear()

    answer = backend.requeue(item)

    assert CALLS == [(7, "mail")]
    assert answer["requeued"] == latest.pk
    assert Success.objects.filter(pk=answer["task_id"]).exists()


def test_requeue_of_a_deleted_task_is_a_clear_error(backend):
    latest = failure(send_reminder, 1001, stopped=ago(hours=1))
    [data] = backend.fetch()
    latest.delete()
    with pytest.raises(SourceError, match="the failed task is gone"):
        backend.requeue(Item(title=data.title, payload=data.payload))


def test_reconcile_bug_report_and_local_writes(backend):
    gone = failure(sync_upstream, "https://a", stopped=ago(hours=2))
    failure(send_reminder, 1001, stopped=ago(hours=1))
    kept, removed = (item for item in backend.fetch())
    gone.delete()

    assert backend.reconcile([kept.external_id, removed.external_id]) == {
        kept.external_id: "failed",
        removed.external_id: "resolved",
    }
    item = Item(title=kept.title, payload=kept.payload, permalink=kept.permalink)
    item.tally = kept.tally
    report = backend.bug_report(item)
    assert report["function"].endswith("send_reminder")
    assert report["count"] == 1 and report["arguments"] == {"args": [1001], "kwargs": {}}
    assert report["frames"][-1].startswith("triage.models.Item.DoesNotExist")
    assert backend.set_status(item, "resolved").status == "resolved"
    assert backend.comment(item, "x") == {}
    assert is_not_found_error(item)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("boom : Traceback (most recent call last):\n  File x\nValueError: boom\n", "ValueError"),
        ("Task exceeded maximum timeout value (300 seconds)", "Error"),
    ],
)
def test_split_error(result, expected):
    assert split_error(result)[0] == expected


class Evil:
    """Unpickled by a plain pickle.loads, this would call send_reminder()."""

    def __reduce__(self):
        return (send_reminder, (666,))


def evil_pickle():
    # Not dbsafe_encode(): it deep-copies the value first, which would run the call right here.
    return base64.b64encode(pickle.dumps(Evil())).decode()


def test_the_safe_unpickler_refuses_globals():
    CALLS.clear()
    with pytest.raises(ValueError, match="refusing"):
        _unpickle(evil_pickle())
    assert CALLS == []
    assert _unpickle(dbsafe_encode(("a", 1, {"b": [2.5]}))) == ("a", 1, {"b": [2.5]})


def test_the_detail_shows_the_traceback_and_executions_of_the_latest_task(source, admin_client):
    from triage.sync import sync_source

    failure(send_reminder, 1002, stopped=ago(hours=3))
    latest = failure(send_reminder, 1001, stopped=ago(hours=1), channel="mail")
    Task.objects.filter(pk=latest.pk).update(attempt_count=3)
    assert sync_source(source.pk).error == ""
    item = Item.objects.get(source=source)

    page = admin_client.get(f"/board/items/{item.pk}").content.decode()

    assert 'class="backtrace"' in page and "in send_reminder" in page
    assert '<dd class="execution-count">3</dd>' in page
    assert "Rdv 1001 matching query does not exist." in page
    started = localtime(ago(hours=1, seconds=1)).isoformat()
    assert f'datetime="{started}"' in page  # when its last run started
