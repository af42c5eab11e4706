"""Releases mirrored from the fake Sentry: dated by their deploy to the source's environment,
kept when the list fails, and found by the status page's question "what was deployed before"."""

from datetime import UTC, datetime, timedelta

import pytest

from triage.models import Release
from triage.releases import sync_releases

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_releases_are_dated_by_their_production_deploy(fake_sentry, sentry_source):
    fake_sentry.add_release(
        "app@2.13.0",
        created=T0 - timedelta(days=3),
        deploys=[("production", T0 - timedelta(days=2))],
    )
    fake_sentry.add_release(
        "app@2.14.0",
        created=T0 - timedelta(hours=5),
        released=T0 - timedelta(hours=4),
        deploys=[("staging", T0 - timedelta(hours=3))],
        environments=("production", "staging"),
    )
    fake_sentry.add_release("other@1.0", created=T0, project="75", deploys=[("production", T0)])

    assert sync_releases() == ["prod"]

    stored = dict(Release.objects.values_list("version", "deployed_at"))
    # The staging deploy does not say when production got it: the release date does.
    assert stored == {"app@2.13.0": T0 - timedelta(days=2), "app@2.14.0": T0 - timedelta(hours=4)}
    release = Release.objects.latest_before(sentry_source.team, T0 - timedelta(hours=1))
    assert release.short_version == "2.14.0"
    assert Release.objects.latest_before(sentry_source.team, T0 - timedelta(days=3)) is None
    query = next(q for m, path, q in fake_sentry.requests if path.endswith("/releases/"))
    assert query["environment"] == ["production"] and query["project"] == ["74"]


def test_a_failing_release_list_keeps_what_was_stored(fake_sentry, sentry_source):
    fake_sentry.add_release("app@2.13.0", created=T0, deploys=[("production", T0)])
    sync_releases()
    fake_sentry.script = [(500, {}, {"detail": "boom"})] * 5
    fake_sentry.add_release("app@2.14.0", created=T0 + timedelta(hours=1))

    assert sync_releases() == []

    assert list(Release.objects.values_list("version", flat=True)) == ["app@2.13.0"]


def test_a_redeployed_release_moves_and_sources_without_releases_are_skipped(
    fake_sentry, sentry_source
):
    from triage.tests.factories import SourceFactory

    SourceFactory(name="demo-source")  # the demo backend knows no releases
    release = fake_sentry.add_release("app@2.13.0", created=T0, deploys=[("production", T0)])
    sync_releases()
    release["lastDeploy"]["dateFinished"] = "2026-11-24T10:00:00.000000Z"
    assert sync_releases() == ["prod"]
    assert Release.objects.get().deployed_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
