from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from monitors.checks import Outcome
from monitors.models import Incident, summarize_checks
from monitors.tests.helpers import FAIL, OK, T0, make_check, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_chain(monkeypatch, outbox):
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: [])


def test_overview_lists_checks_escaped_with_a_bounded_query_count(
    user_client, django_assert_max_num_queries
):
    team = make_team()
    for index in range(5):
        check = make_check(team, name=f"<script>alert({index})</script>")
        check.record(OK, T0)
    # session+user, checks with teams, teams, watch badge: whatever the results
    with django_assert_max_num_queries(10):
        response = user_client.get(reverse("monitors:overview"))
    body = response.content.decode()
    assert "<script>alert(" not in body
    assert "&lt;script&gt;alert(0)" in body
    assert reverse("monitors:check", args=[check.pk]) in body
    assert "<polyline" not in body  # one result: no sparkline yet


def test_overview_with_many_checks_reads_no_result(
    user_client, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr("monitors.views.PER_PAGE", 30)
    team = make_team()
    for index in range(40):
        check = make_check(team, name=f"check-{index:02d}", alert_after=1)
        for minute in range(3):
            ok = minute != 1 or index == 39
            latency = 0.02 if index else 0.3
            check.record(Outcome(ok=ok and index != 38, message="HTTP 200", latency=latency), T0)
    summarize_checks(T0)
    with django_assert_max_num_queries(10):
        response = user_client.get(reverse("monitors:overview"), HTTP_ACCEPT_LANGUAGE="fr")
    body = response.content.decode()
    assert body.count("<polyline") == 30
    assert body.index("check-38") < body.index("check-00")  # down first
    assert "67 %" in body  # 2 of 3 results ok, in every window
    assert "≤ 0,5 / 0,5 s" in body  # check-00's p50 / p95 buckets
    assert "≤ 0,05 / 0,05 s" in body
    assert "Page 1 sur 2" in body and "check-39" not in body
    second = user_client.get(reverse("monitors:overview"), {"page": 2}, HTTP_HX_REQUEST="true")
    assert second.content.decode().count("<polyline") == 10
    assert "check-39" in second.content.decode()


def test_overview_filters_by_state_and_serves_the_partial(user_client):
    team = make_team()
    up = make_check(team, name="up-one")
    up.record(OK, T0)
    down = make_check(team, name="down-one", alert_after=1)
    down.record(FAIL, T0)
    response = user_client.get(
        reverse("monitors:overview"), {"state": "down"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "down-one" in body and "up-one" not in body
    assert "<html" not in body


def test_check_page_shows_the_offending_rows_and_the_file_mark(
    user_client, django_assert_max_num_queries
):
    check = make_check(name="stock", managed_by="monitors.yaml", alert_after=1)
    now = check.next_run_at
    for minutes in range(3):
        check.record(OK, now + timedelta(minutes=minutes))
    rows = Outcome(
        ok=False,
        message="2 rows",
        details={"row_count": 2, "columns": ["sku"], "rows": [["<b>A</b>"], ["B"]]},
    )
    check.record(rows, now + timedelta(minutes=5))
    with django_assert_max_num_queries(12):
        response = user_client.get(reverse("monitors:check", args=[check.pk]))
    body = response.content.decode()
    assert "&lt;b&gt;A&lt;/b&gt;" in body
    assert "monitors.yaml" in body
    assert reverse("monitors:incident", args=[Incident.objects.get().pk]) in body


def test_incidents_open_first_and_resolved_says_so(user_client, django_assert_max_num_queries):
    first = make_check(name="first", alert_after=1)
    first.record(FAIL, T0)
    Incident.objects.get(monitor=first).resolve(None, Incident.How.HAND, T0)
    second = make_check(name="second", alert_after=1)
    second.record(FAIL, T0 - timedelta(days=1))
    with django_assert_max_num_queries(8):
        response = user_client.get(reverse("monitors:incidents"), HTTP_ACCEPT_LANGUAGE="fr")
    body = response.content.decode()
    assert body.index("second :") < body.index("first :")  # French: a space before the colon
    assert "résolu" in body
    assert "<th>Ouvert</th>" in body  # an incident, not the triage board's "Ouverte" issue


def test_incident_page_timeline_and_hand_acknowledge(user, user_client):
    from rotation.models import Membership

    check = make_check(name="site", alert_after=1)
    check.record(FAIL, T0)
    incident = Incident.objects.get()
    Membership.objects.create(team=check.team, user=user)
    response = user_client.get(reverse("monitors:incident", args=[incident.pk]))
    assert reverse("monitors:ack", args=[incident.pk]) in response.content.decode()
    user_client.post(reverse("monitors:ack", args=[incident.pk]))
    user_client.post(reverse("monitors:note", args=[incident.pk]), {"text": "<i>on it</i>"})
    incident.refresh_from_db()
    assert incident.state == Incident.State.ACKNOWLEDGED
    assert (incident.acknowledged_by, incident.acknowledged_how) == (user, "hand")
    body = user_client.get(reverse("monitors:incident", args=[incident.pk])).content.decode()
    assert "&lt;i&gt;on it&lt;/i&gt;" in body
    user_client.post(reverse("monitors:resolve", args=[incident.pk]))
    incident.refresh_from_db()
    assert incident.state == Incident.State.RESOLVED


def test_incident_page_with_many_events_has_a_bounded_query_count(
    user, user_client, django_assert_max_num_queries
):
    check = make_check(name="site", alert_after=1)
    check.record(FAIL, T0)
    incident = Incident.objects.get()
    for index in range(50):
        incident.add_note(user, f"note {index}", T0 + timedelta(minutes=index))
    with django_assert_max_num_queries(12):
        response = user_client.get(reverse("monitors:incident", args=[incident.pk]))
    body = response.content.decode()
    assert "note 0" in body and "note 49" in body


def test_outsider_cannot_acknowledge(user_client):
    check = make_check(alert_after=1)
    check.record(FAIL, T0)
    incident = Incident.objects.get()
    response = user_client.post(reverse("monitors:ack", args=[incident.pk]))
    assert response.status_code == 403


def test_pages_need_a_login(client):
    assert client.get(reverse("monitors:overview")).status_code == 302
    assert client.get(reverse("monitors:incidents")).status_code == 302


def test_overview_in_french_says_durations_and_why_a_latency_is_missing(user_client):
    from monitors.templatetags.monitors import since

    team = make_team()
    fresh = make_check(team, name="fresh")
    failing = make_check(team, name="failing", alert_after=1)
    never = make_check(team, name="never")
    with time_machine.travel(T0 + timedelta(seconds=20), tick=False):
        fresh.record(OK, T0)
        failing.record(FAIL, T0)  # connection refused: no latency measured
        response = user_client.get(reverse("monitors:overview"), HTTP_ACCEPT_LANGUAGE="fr")
    body = response.content.decode()
    assert "0 minute" not in body
    assert body.count("&lt; 1 min") == 2  # fresh and failing changed state 20 s ago
    assert "0,050 s" in body
    assert "— aucune réponse mesurée" in body
    assert "— pas encore lancé" in body
    assert never.last_checked_at is None
    from django.utils import translation

    with translation.override("fr"):
        assert since(T0, T0 + timedelta(seconds=59)) == "< 1 min"
        assert since(T0, T0 + timedelta(minutes=1)) == "1\xa0minute"
        assert since(T0, T0 + timedelta(minutes=2, seconds=5)) == "2\xa0minutes"
        assert since(T0, T0 + timedelta(hours=3, minutes=1)) == "3\xa0heures, 1\xa0minute"


def test_resolving_by_hand_a_check_still_down_says_it_will_open_again(user, user_client):
    from rotation.models import Membership

    check = make_check(name="site", alert_after=1)
    check.record(FAIL, T0)
    incident = Incident.objects.get()
    Membership.objects.create(team=check.team, user=user)
    response = user_client.post(reverse("monitors:resolve", args=[incident.pk]), follow=True)
    body = response.content.decode()
    assert "sa sonde site est toujours en panne : son prochain échec ouvrira" in body
    check.record(FAIL, T0 + timedelta(minutes=1))
    assert Incident.objects.unresolved().get() != incident
    recovering = make_check(check.team, name="api", alert_after=1, recover_after=1)
    recovering.record(FAIL, T0)
    other = Incident.objects.get(monitor=recovering)
    recovering.state = recovering.State.UP  # up again, its incident left open
    recovering.save(update_fields=["state"])
    response = user_client.post(reverse("monitors:resolve", args=[other.pk]), follow=True)
    assert "toujours en panne" not in response.content.decode()


def test_overview_says_which_checks_are_in_maintenance_in_one_query(
    user_client, django_assert_max_num_queries
):
    from datetime import time

    from monitors.models import MaintenanceWindow

    team = make_team()
    one_off, weekly, plain = (make_check(team, name=n) for n in ("deploy", "nightly", "api"))
    MaintenanceWindow.objects.create(
        team=team, name="deploy", start=T0 - timedelta(minutes=5), end=T0 + timedelta(hours=1)
    ).checks.add(one_off)
    local = team.local(T0)
    MaintenanceWindow.objects.create(
        team=team, name="nightly", weekday=local.weekday(),
        weekly_start=time(0, 0), weekly_end=time(23, 59),
    ).checks.add(weekly, plain)  # fmt: skip
    MaintenanceWindow.objects.create(
        team=team, name="past", start=T0 - timedelta(hours=3), end=T0 - timedelta(hours=2)
    ).checks.add(plain)
    # plain is only in the weekly one: pretend its day is another.
    MaintenanceWindow.objects.filter(name="nightly").update(weekday=(local.weekday() + 1) % 7)
    MaintenanceWindow.objects.create(
        team=team, name="nightly-today", weekday=local.weekday(),
        weekly_start=time(0, 0), weekly_end=time(23, 59),
    ).checks.add(weekly)  # fmt: skip
    with time_machine.travel(T0, tick=False), django_assert_max_num_queries(11):
        body = user_client.get(reverse("monitors:overview"), HTTP_ACCEPT_LANGUAGE="fr").content
    rows = {
        name: body.decode().split(f">{name}<")[1].split("</tr>")[0]
        for name in ("deploy", "nightly", "api")
    }
    assert "en maintenance" in rows["deploy"] and "en maintenance" in rows["nightly"]
    assert "en maintenance" not in rows["api"]
