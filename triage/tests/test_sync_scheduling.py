from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.models import Schedule

from tests.fakes.fixtures import SENTRY_TOKEN_ENV
from triage.health import check_sources, source_gauges
from triage.models import Item, Source, SyncRun
from triage.tasks import sync_due_sources

pytestmark = pytest.mark.django_db


def test_migrate_declares_the_sync_schedule():
    schedule = Schedule.objects.get(name="triage.sync_due_sources")
    assert (schedule.func, schedule.minutes) == ("triage.tasks.sync_due_sources", 1)


def test_only_due_sources_are_synced(fake_sentry, sentry_source):
    fake_sentry.add_issues(2)
    Source.objects.create(kind="sentry", name="off", enabled=False)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert sync_due_sources() == ["prod"]
        assert Item.objects.count() == 2
        traveller.shift(timedelta(minutes=4))
        assert sync_due_sources() == []
        traveller.shift(timedelta(minutes=1))
        assert sync_due_sources() == ["prod"]
    assert SyncRun.objects.count() == 2


def test_a_failing_source_never_stops_another(fake_sentry, sentry_source):
    Source.objects.create(
        kind="sentry", name="broken", base_url=fake_sentry.url,
        organization="nope", scopes=["74"], secret_env=SENTRY_TOKEN_ENV,
    )  # fmt: skip
    fake_sentry.add_issue()
    assert sorted(sync_due_sources()) == ["broken", "prod"]
    assert Item.objects.filter(source=sentry_source).count() == 1
    assert Source.objects.get(name="broken").state == Source.State.ERROR
    assert check_sources().english == {"ok": 1, "failing": 1, "problems": ["broken error"]}


def test_a_refused_token_is_not_retried_until_the_configuration_changes(
    fake_sentry, sentry_source, monkeypatch
):
    monkeypatch.setenv(SENTRY_TOKEN_ENV, "revoked")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert sync_due_sources() == ["prod"]
        assert check_sources().english["problems"] == ["prod auth_error"]
        for _ in range(3):
            traveller.shift(timedelta(hours=2))
            assert sync_due_sources() == []
        assert len(fake_sentry.requests) == 1
        monkeypatch.setenv(SENTRY_TOKEN_ENV, fake_sentry.token)  # the operator fixed it
        assert sync_due_sources() == ["prod"]
    sentry_source.refresh_from_db()
    assert sentry_source.state == Source.State.OK


def test_failures_back_off(fake_sentry, sentry_source, monkeypatch):
    monkeypatch.setattr("triage.sources.sentry.time.sleep", lambda s: None)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for expected in (5, 10, 20, 40, 60, 60):
            fake_sentry.script += [(503, {}, b"")] * 4
            assert sync_due_sources() == ["prod"]
            sentry_source.refresh_from_db()
            assert sentry_source.next_sync_at - timezone.now() == timedelta(minutes=expected)
            traveller.shift(timedelta(minutes=expected))


def test_health_reports_stale_sources(fake_sentry, sentry_source):
    # Never synced yet: the first sync is due within a minute.
    assert check_sources().english == {"ok": 1, "failing": 0, "problems": []}
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sync_due_sources()
        assert check_sources().english == {"ok": 1, "failing": 0, "problems": []}
        traveller.shift(timedelta(minutes=16))
        assert check_sources().english == {
            "ok": 0,
            "failing": 1,
            "problems": ["prod stale (16 min)"],
        }


def test_metrics_per_source(fake_sentry, sentry_source):
    fake_sentry.add_issues(3)
    sync_due_sources()
    Item.objects.filter(pk=Item.objects.first().pk).update(qualification="bug")
    families = {family.name: family for family in source_gauges()}
    assert families["vigie_source_unqualified_items"].samples[0].value == 2
    assert families["vigie_source_sync_errors"].samples[0].value == 0
    assert 0 <= families["vigie_source_last_success_age_seconds"].samples[0].value < 60
    assert families["vigie_source_unqualified_items"].samples[0].labels == {"source": "prod"}
