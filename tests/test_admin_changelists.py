"""Every admin changelist showing a relation loads it with the rows: the query count of a
page of 50 rows is the one of a page of 1 (session, user, count, rows, filters), and the
labels are translated."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitors.models import Channel
from rotation.models import Absence, ApiToken, Handover
from rotation.tests.factories import (
    MembershipFactory,
    OverrideFactory,
    ShiftFactory,
    TeamFactory,
)
from triage.models import Release, SyncRun
from triage.tests.factories import ActionFactory, ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db


def make(kind, n):
    team = TeamFactory()
    now = timezone.now()
    for i in range(n):
        # Every member comes with a profile: the profile changelist's rows.
        membership = MembershipFactory(team=team)
        start = now + timezone.timedelta(days=i)
        end = start + timezone.timedelta(hours=1)
        if kind in ("shift", "handover"):
            shift = ShiftFactory(team=team, membership=membership, start=start, end=end)
            if kind == "handover":
                Handover.objects.create(shift=shift, incoming=membership)
        elif kind == "override":
            OverrideFactory(
                team=team, membership=membership, covered=membership, start=start, end=end
            )
        elif kind == "absence":
            Absence.objects.create(membership=membership, start=start, end=end)
        elif kind == "apitoken":
            ApiToken.objects.create(name=f"t{i}", user=membership.user, hint="abcd", key=f"{n}-{i}")
        elif kind in ("source", "item", "action", "syncrun", "release"):
            source = SourceFactory(name=f"s{kind}{i}-{n}", team=team)
            if kind == "item":
                ItemFactory(source=source)
            elif kind == "action":
                ActionFactory(item=ItemFactory(source=source), user=membership.user)
            elif kind == "syncrun":
                SyncRun.objects.create(source=source, started_at=now)
            elif kind == "release":
                Release.objects.create(source=source, version=f"app@2.{i}.0", deployed_at=now)
        elif kind == "channel":
            Channel.objects.create(
                name=f"c{i}-{n}", team=team, kind="webhook", url="https://x.test/"
            )


CHANGELISTS = {
    "shift": "/admin/rotation/shift/",
    "override": "/admin/rotation/override/",
    "absence": "/admin/rotation/absence/",
    "handover": "/admin/rotation/handover/",
    "apitoken": "/admin/rotation/apitoken/",
    "profile": "/admin/rotation/profile/",
    "source": "/admin/triage/source/",
    "item": "/admin/triage/item/",
    "action": "/admin/triage/action/",
    "syncrun": "/admin/triage/syncrun/",
    "release": "/admin/triage/release/",
    "channel": "/admin/monitors/channel/",
}


@pytest.mark.parametrize("kind", list(CHANGELISTS))
def test_a_changelist_of_50_rows_costs_the_queries_of_one(admin_client, kind):
    url = CHANGELISTS[kind]
    make(kind, 1)
    admin_client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url).status_code == 200
    make(kind, 49)
    with CaptureQueriesContext(connection) as fifty:
        response = admin_client.get(url)
    assert response.context["cl"].result_count >= 50
    assert len(fifty) == len(one), [q["sql"][:120] for q in fifty.captured_queries]


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("action", "accepté en amont"),
        ("syncrun", "commencée le"),
        ("action", "créée le"),
        ("shift", "membre"),
        ("source", "par type"),
        ("release", "déployée à"),
    ],
)
def test_changelist_columns_are_translated(admin_client, kind, label):
    make(kind, 1)
    url = CHANGELISTS[kind]
    html = admin_client.get(url).content.decode().lower()
    assert label in html


def test_releases_are_read_only_in_the_admin(admin_client):
    make("release", 1)
    release = Release.objects.get()
    page = admin_client.get(f"/admin/triage/release/{release.pk}/change/")
    assert page.status_code == 200 and "app@2.0.0" in page.content.decode()
    assert admin_client.get("/admin/triage/release/add/").status_code == 403
    admin_client.post(
        f"/admin/triage/release/{release.pk}/change/",
        {"version": "other", "source": release.source_id, "deployed_at_0": "2026-01-01"},
    )
    release.refresh_from_db()
    assert release.version == "app@2.0.0"
