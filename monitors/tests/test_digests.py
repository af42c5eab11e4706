"""Digests: daily at 9:00 and weekly on Monday 9:00 in the team's time zone, to its info
channels, once per period whatever the number of workers or restarts."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitors import digests
from monitors.models import Channel, Digest, Incident
from monitors.tests.helpers import FAIL, OK, make_check
from rotation.tests.factories import MembershipFactory, ShiftFactory, TeamFactory
from tests.factories import UserFactory
from triage.models import Action
from triage.tests.factories import ActionFactory, ItemFactory, SourceFactory
from vigie.models import Notification

pytestmark = pytest.mark.django_db

# Monday 2 March 2026; Paris is UTC+1, so 9:00 there is 8:00 UTC.
MONDAY_9 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def team():
    team = TeamFactory(slug="demo", name="Démo", timezone="Europe/Paris")
    Channel.objects.create(
        team=team,
        kind="webhook",
        name="metrics",
        url="https://hooks.example/m",
        min_severity="info",
    )
    Channel.objects.create(
        team=team,
        kind="webhook",
        name="alerts",
        url="https://hooks.example/a",
        min_severity="warning",
    )
    return team


def run_at(at):
    with time_machine.travel(at, tick=False):
        return digests.send_due(at)


def sent():
    return sorted(
        (row.key.split(":")[2], row.key.split(":")[3], row.label.split(" ")[0])
        for row in Notification.objects.filter(key__startswith="digest:")
    )


def test_nothing_before_nine_then_daily_and_weekly_once_to_the_info_channels(team):
    # Sunday's daily and last week's report were due 24 h and a week ago: too late to send.
    assert run_at(MONDAY_9 - timedelta(minutes=1)) == 0
    assert run_at(MONDAY_9) == 2
    assert ("daily", "2026-03-02", "metrics") in sent()
    assert ("weekly", "2026-03-02", "metrics") in sent()
    assert not [row for row in sent() if row[2] == "alerts"]  # warning channels hear no digest
    for minutes in (5, 10, 60):
        assert run_at(MONDAY_9 + timedelta(minutes=minutes)) == 0
    assert run_at(MONDAY_9 + timedelta(days=1)) == 1  # Tuesday: the daily only
    assert len(sent()) == 3
    weekly = Digest.objects.get(period="weekly")
    assert weekly.end - weekly.start == timedelta(days=7)


def test_two_workers_at_nine_send_once(team, monkeypatch):
    real = digests.compose
    raced = []

    def compose_while_the_other_worker_claims(*args):
        if not raced:
            raced.append(True)
            # The other worker passed the same "not sent yet" test and commits first.
            assert digests.send_due(MONDAY_9) == 2
        return real(*args)

    monkeypatch.setattr(digests, "compose", compose_while_the_other_worker_claims)
    assert run_at(MONDAY_9) == 0
    assert Digest.objects.count() == 2
    assert len(sent()) == 2


def test_a_worker_down_at_nine_catches_up_once_and_not_a_day_late(team):
    Digest.objects.create(
        team=team, period="weekly", day=MONDAY_9.date(), start=MONDAY_9, end=MONDAY_9,
        sent_at=MONDAY_9,
    )  # fmt: skip
    Digest.objects.create(
        team=team, period="daily", day=datetime(2026, 3, 1).date(), start=MONDAY_9,
        end=MONDAY_9, sent_at=MONDAY_9,
    )  # fmt: skip
    assert run_at(MONDAY_9 + timedelta(hours=4)) == 1  # back at 13:00: today's daily
    assert run_at(MONDAY_9 + timedelta(hours=5)) == 0
    # Down from Monday 8:00 to Tuesday 22:00: Tuesday's daily is more than 12 h late.
    assert run_at(MONDAY_9 + timedelta(days=1, hours=13)) == 0


def test_a_team_without_an_info_channel_gets_no_digest():
    TeamFactory(slug="quiet")
    assert run_at(MONDAY_9) == 0
    assert not Digest.objects.exists()


def test_the_digest_says_uptime_incidents_qualified_items_backlog_and_who_is_on_watch(team):
    check = make_check(team, name="site", alert_after=1)
    start = MONDAY_9 - timedelta(days=1)
    for minutes in range(0, 40, 10):
        check.record(OK, start + timedelta(hours=1, minutes=minutes))
    check.record(FAIL, start + timedelta(hours=2))
    incident = Incident.objects.get()
    incident.acknowledge(None, Incident.How.HAND, start + timedelta(hours=2, minutes=7))
    check.record(OK, start + timedelta(hours=3, minutes=30))
    source = SourceFactory(team=team)
    ActionFactory(item=ItemFactory(source=source, qualification="bug"), action="bug")
    ItemFactory.create_batch(2, source=source)
    member = MembershipFactory(team=team, user=UserFactory(first_name="Camille", last_name="M"))
    ShiftFactory(membership=member, start=start, end=start + timedelta(days=7))
    Action.objects.update(created_at=start + timedelta(hours=5))

    run_at(MONDAY_9)
    daily = Digest.objects.get(period="daily")
    lines = daily.text.splitlines()
    assert lines[0] == "Du 2026-03-01 09:00 au 2026-03-02 09:00"
    assert "- site: 83.33 %" in lines  # 5 results out of 6 were good
    assert "Incidents : 1 ouvert(s), 1 résolu(s)" in lines
    assert "pris en compte après 7 min · durée 1 h 30" in daily.text
    assert "- Bug: 1" in lines
    assert "En attente : 2 éléments à qualifier" in lines
    assert lines[-1] == "De vigie aujourd'hui : Camille M"
    row = Notification.objects.get(key__startswith="digest:", key__contains=":daily:")
    assert row.subject == "Récapitulatif quotidien de Démo, 2026-03-02"
    assert row.text == daily.text
