import threading

import pytest
from django.db import connection

from tests.fakes.fixtures import SENTRY_TOKEN_ENV
from triage.models import Item, Source, SyncRun
from triage.sync import sync_source


@pytest.mark.django_db(transaction=True)
def test_two_syncs_started_together_run_once(fake_sentry, monkeypatch):
    monkeypatch.setenv(SENTRY_TOKEN_ENV, fake_sentry.token)
    source = Source.objects.create(
        kind="sentry", name="prod", base_url=fake_sentry.url, organization=fake_sentry.org,
        projects=["74"], token_env=SENTRY_TOKEN_ENV,
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
