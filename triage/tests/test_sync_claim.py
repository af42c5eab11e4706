import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.fakes.fixtures import SENTRY_TOKEN_ENV
from triage import sync
from triage.health import check_sync_claims
from triage.models import Item, Source, SyncRun
from triage.sources.base import ItemData
from triage.sources.demo import DemoBackend
from triage.sync import sync_source
from triage.tests.factories import SourceFactory
from vigie.health import CHECKS, run_checks


@pytest.mark.django_db(transaction=True)
def test_two_syncs_started_together_run_once(fake_sentry, monkeypatch):
    monkeypatch.setenv(SENTRY_TOKEN_ENV, fake_sentry.token)
    source = Source.objects.create(
        kind="sentry", name="prod", base_url=fake_sentry.url, organization=fake_sentry.org,
        scopes=["74"], secret_env=SENTRY_TOKEN_ENV,
    )  # fmt: skip
    fake_sentry.add_issues(5)
    fake_sentry.delay = 0.3  # the first sync is still running when the second one starts
    results = []

    def sync():
        try:
            results.append(sync_source(source.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(run is None for run in results) == [False, True]
    assert SyncRun.objects.count() == 1
    assert Item.objects.count() == 5


@pytest.mark.django_db
def test_a_killed_workers_claim_is_freed_once_its_heartbeat_stops():
    now = timezone.now()
    source = SourceFactory(name="prod", sync_started_at=now - timedelta(minutes=10))
    Source.objects.filter(pk=source.pk).update(sync_heartbeat_at=now - timedelta(minutes=1))
    assert sync_source(source.pk) is None  # still beating: held, though started long ago

    Source.objects.filter(pk=source.pk).update(
        sync_heartbeat_at=now - Source.CLAIM_LEASE - timedelta(seconds=1)
    )
    assert check_sync_claims().english == {
        "stuck": 1,
        "problems": ["prod sync claim stuck (5 min)"],
    }
    _status, body = run_checks()
    assert body["checks"]["sync_claims"] == {"stuck": 1}  # the names are for staff only
    assert CHECKS["sync_claims"].own is False  # information: the next sync frees it

    assert sync_source(source.pk) is not None  # well before the 15 minutes of the old expiry
    source.refresh_from_db()
    assert (source.sync_started_at, check_sync_claims().params["stuck"]) == (None, 0)


def sync_in_batches(monkeypatch, source, count, *, each):
    """Sync `count` items one a batch, each batch taking `each`; returns the claim's heartbeat
    as each batch began, the sync's start and its run."""
    beats = []
    real_upsert = sync.upsert

    def upsert(source, batch, **kwargs):
        beats.append(Source.objects.get(pk=source.pk).sync_heartbeat_at)
        traveller.shift(each)
        return real_upsert(source, batch, **kwargs)

    items = [ItemData(external_id=str(n), title=f"t{n}") for n in range(count)]
    monkeypatch.setattr(sync, "BATCH_SIZE", 1)
    monkeypatch.setattr(sync, "upsert", upsert)
    monkeypatch.setattr(DemoBackend, "fetch", lambda self, since=None: iter(items))
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        start = timezone.now()
        run = sync_source(source.pk)
    return beats, start, run


@pytest.mark.django_db
def test_each_batch_renews_the_claim(monkeypatch):
    # Slow pages, each shorter than the lease.
    beats, start, run = sync_in_batches(
        monkeypatch, SourceFactory(name="prod"), 3, each=timedelta(minutes=4)
    )
    # Twelve minutes in all, never five without a beat: nobody could take the source over.
    assert beats == [start + timedelta(minutes=4 * n) for n in range(3)]
    assert run.created == 3


@pytest.mark.django_db
def test_quick_batches_renew_the_claim_only_once_a_tenth_of_the_lease_has_passed(monkeypatch):
    source = SourceFactory(name="prod")
    lease = Source.CLAIM_LEASE
    beats, start, run = sync_in_batches(monkeypatch, source, 4, each=lease / 20)
    assert beats == [start, start, start + lease / 10, start + lease / 10]
    source.refresh_from_db()
    assert source.sync_heartbeat_at == start + lease / 5
    assert run.created == 4
