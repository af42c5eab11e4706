"""The 2-minute page (seed 002): its verdict, its five answers, its cost and its JSON twin."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from monitors.models import Check, Incident, Runbook
from monitors.status import DEGRADED, OPERATIONAL, OUTAGE, team_status, verdict_of
from monitors.tests.helpers import T0, make_check, make_team
from rotation.models import ApiToken
from rotation.tests.factories import MembershipFactory, ShiftFactory
from tests.factories import UserFactory
from triage.models import Release, Source
from triage.tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db

CHAIN = [
    {"order": 1, "label": "Vigie", "delay_minutes": 0, "user_id": None, "name": "Camille"},
    {"order": 2, "label": "Tech lead", "delay_minutes": 15, "user_id": None, "name": "Dominique"},
]


def open_incident(team, check=None, *, severity="critical", category="technical", at=T0, **extra):
    key = check.incident_key if check else f"rule:{at.timestamp()}:{severity}"
    return Incident.objects.create(
        team=team,
        key=key,
        monitor=check,
        title=extra.pop("title", f"{check.name if check else 'rule'}: boom"),
        severity=severity,
        category=category,
        opened_at=at,
        escalation=CHAIN,
        current_level=1,
        next_escalation_at=at + timedelta(minutes=15),
        **extra,
    )


@pytest.fixture
def team():
    return make_team()


@pytest.fixture
def member(team):
    membership = MembershipFactory(
        team=team, user=UserFactory(first_name="Camille", last_name="Martin")
    )
    profile = membership.profile
    profile.phone, profile.chat_handle = "+33 6 11 22 33 44", "@camille"
    profile.save()
    ShiftFactory(membership=membership, start=T0 - timedelta(days=1), end=T0 + timedelta(days=6))
    return membership


@pytest.fixture
def member_client(client, member):
    client.force_login(member.user)
    return client


def test_verdict_is_the_worst_open_severity():
    assert verdict_of([]) == OPERATIONAL
    assert verdict_of(["info"]) == OPERATIONAL
    assert verdict_of(["info", "warning"]) == DEGRADED
    assert verdict_of(["warning", "critical", "info"]) == OUTAGE


def test_answers_come_from_stored_rows(team, member):
    slow = make_check(
        team, name="api", last_status_code=503, last_message="HTTP 503", last_ok=False
    )
    rows = make_check(
        team,
        name="stock",
        kind=Check.Kind.SQL,
        last_message="3 rows",
        last_ok=False,
        last_details={"row_count": 3},
        runbook="rb-002",
    )
    Runbook.objects.create(team=team, slug="rb-002", title="RB-002 : PostgreSQL", body="x")
    first = open_incident(team, slow, severity="warning", at=T0 - timedelta(minutes=40))
    open_incident(team, rows, category="business", at=T0 - timedelta(minutes=10))
    resolved = open_incident(team, severity="critical", at=T0 - timedelta(hours=5))
    resolved.resolve(None, Incident.How.HAND, T0 - timedelta(hours=4))
    first.acknowledge(member.user, Incident.How.HAND, T0 - timedelta(minutes=30))
    source = SourceFactory(team=team, name="prod")
    Release.objects.create(source=source, version="app@2.13.0", deployed_at=T0 - timedelta(days=2))
    Release.objects.create(source=source, version="app@2.14.0", deployed_at=T0 - timedelta(hours=1))
    Release.objects.create(
        source=source, version="app@2.15.0", deployed_at=T0 - timedelta(minutes=5)
    )

    status = team_status(team, T0)

    assert status.verdict == OUTAGE
    # The outage began with the critical incident, not with the older warning one.
    assert status.since.at == T0 - timedelta(minutes=10)
    assert status.since.local == "09:50"  # Paris, winter time
    assert status.release.short_version == "2.14.0"  # the last one before it started
    assert status.categories == ["technical", "business"]
    why = {c.origin: c for c in status.causes}
    assert why["api"].status_code == 503 and why["api"].message == "HTTP 503"
    assert why["api"].code_label == ""  # the message already says it
    slow.last_ok, slow.last_message = True, "200 OK"  # recovering, not yet past recover_after
    slow.save()
    assert team_status(team, T0).causes[0].message == "api: boom"  # what it opened with
    assert why["stock"].row_count == 3
    assert why["stock"].runbook.url == "/runbooks/demo/rb-002"
    assert why["api"].acknowledged_by == "Camille Martin" and why["api"].next_level is None
    assert why["stock"].next_level["label"] == "Tech lead"
    assert why["stock"].next_at.local == "10:05"
    assert status.vigie.membership == member


def test_page_answers_in_french_with_the_verdict_as_its_own_element(member_client, team, member):
    check = make_check(
        team,
        name="site",
        last_message="keyword missing",
        last_ok=False,
        last_status_code=502,
        runbook="https://wiki/rb",
    )
    open_incident(team, check, at=T0 - timedelta(minutes=12))
    with time_machine.travel(T0, tick=False):
        response = member_client.get(reverse("monitors:status"))
    body = response.content.decode()
    assert '<strong id="verdict" class="verdict verdict-outage">PANNE</strong>' in body
    assert "<code>HTTP 502</code> keyword missing" in body
    assert "technique" in body and "09:48" in body and "12" in body
    assert "Vigie : Camille Martin" in body and "+33 6 11 22 33 44" in body and "@camille" in body
    assert "prochain : Tech lead (Dominique) à 10:03" in body
    assert 'href="https://wiki/rb" rel="noopener noreferrer"' in body
    assert "Aucune release connue avant." in body  # none mirrored: the other answers stand
    assert 'hx-trigger="every 15s"' in body and "status.js" in body


def test_an_incident_opened_seconds_ago_and_a_rule_cause_read_in_french(member_client, team):
    from vigie.phrases import Phrase

    title = Phrase("%(name)s is down", name="api")
    open_incident(team, title=title, title_said=title.said(), at=T0 - timedelta(seconds=20))
    with time_machine.travel(T0, tick=False):
        body = member_client.get(reverse("monitors:status")).content.decode()
    assert "(il y a &lt; 1 min)" in body  # not "0 minute"
    assert "api est en panne" in body and "api is down" not in body


def test_quiet_team_is_operational(member_client, team):
    make_check(team, name="site", state=Check.State.UP)
    body = member_client.get(reverse("monitors:status")).content.decode()
    assert 'verdict-operational">OPÉRATIONNEL<' in body


def test_below_the_fold_pending_checks_stale_sources_and_backlog(member_client, team):
    make_check(team, name="flaky", consecutive_failures=1, alert_after=3, last_ok=False)
    make_check(team, name="down", consecutive_failures=5, last_ok=False, state=Check.State.DOWN)
    SourceFactory(team=team, name="fresh", last_success_at=T0)
    stale = SourceFactory(team=team, name="muette", last_success_at=T0 - timedelta(hours=2))
    ItemFactory.create_batch(3, source=stale)
    ItemFactory(source=stale, qualification="bug")
    with time_machine.travel(T0, tick=False):
        status = team_status(team, T0)
        body = member_client.get(reverse("monitors:status")).content.decode()
    assert [c.name for c in status.pending] == ["flaky"]
    assert [s.name for s in status.stale_sources] == ["muette"]
    assert status.backlog == 3
    assert "flaky</a> — 1 échec(s) sur 3" in body
    assert "3 éléments à qualifier" in body and 'href="/board"' in body


def test_the_page_costs_the_same_with_many_checks_and_incidents(
    member_client, team, member, django_assert_max_num_queries
):
    runbook = Runbook.objects.create(team=team, slug="rb-001", title="RB-001", body="x")
    checks = Check.objects.bulk_create(
        Check(team=team, name=f"check-{n}", kind="http", config={}, runbook=runbook.slug)
        for n in range(300)
    )
    for n, check in enumerate(checks[:50]):
        open_incident(team, check, severity="warning" if n % 2 else "critical")
    Check.objects.filter(pk__in=[c.pk for c in checks[50:80]]).update(
        consecutive_failures=1, last_ok=False
    )
    Check.objects.filter(pk__in=[c.pk for c in checks[80:120]]).update(
        state=Check.State.DOWN, state_changed_at=T0, last_ok=False
    )
    SourceFactory.create_batch(5, team=team, last_success_at=T0)
    release_source = Source.objects.filter(team=team).first()
    Release.objects.create(
        source=release_source, version="2.14.0", deployed_at=T0 - timedelta(days=1)
    )
    # session, user, memberships (+ badge: watches, overrides), incidents with checks and
    # acknowledgers, checks down without one, runbooks, release, pending checks, sources,
    # backlog count
    with time_machine.travel(T0, tick=False), django_assert_max_num_queries(13):
        response = member_client.get(reverse("monitors:status"))
    assert response.status_code == 200
    assert "et 44 autres incidents ouverts" in response.content.decode()
    assert "et 34 autres sondes en panne" in response.content.decode()
    with django_assert_max_num_queries(13):
        member_client.get(reverse("monitors:status"), headers={"HX-Request": "true"})


def test_polled_fragment_is_marked_and_hostile_text_is_escaped(member_client, team):
    check = make_check(
        team,
        name="<script>alert(1)</script>",
        last_message="<img src=x onerror=alert(2)>",
        last_ok=False,
    )
    open_incident(team, check, title="<b>t</b>")
    response = member_client.get(reverse("monitors:status"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response["X-Vigie-Status"] == "1"
    assert "<html" not in body and 'id="status-board"' in body
    assert "<script>alert" not in body and "<img" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_team_outside_the_users_is_not_found(member_client):
    other = make_team("other")
    assert member_client.get(reverse("monitors:status"), {"team": other.slug}).status_code == 404


def test_json_needs_a_token_and_carries_the_verdict_on_top(client, team, member):
    check = make_check(team, name="site", last_message="HTTP 500", last_status_code=500)
    open_incident(team, check, severity="warning", at=T0 - timedelta(minutes=3))
    url = reverse("monitors:status-json")
    assert client.get(url).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    _token, secret = ApiToken.objects.issue(member.user, "wall screen")
    with time_machine.travel(T0, tick=False):
        data = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert data["verdict"] == "degraded"
    assert data["since"]["local"] == "09:57"
    assert data["categories"] == ["technical"]
    assert data["incidents"][0]["status_code"] == 500
    assert data["incidents"][0]["next_escalation"]["label"] == "Tech lead"
    assert data["vigie"] == {
        "name": "Camille Martin",
        "phone": "+33 6 11 22 33 44",
        "chat_handle": "@camille",
        "until": (T0 + timedelta(days=6)).isoformat(),
    }
    assert data["release"] is None
    outsider = UserFactory()
    _t, other = ApiToken.objects.issue(outsider, "bot")
    response = client.get(url, {"team": team.slug}, HTTP_AUTHORIZATION=f"Bearer {other}")
    assert response.status_code == 404


def test_a_release_list_that_fails_leaves_the_other_answers(
    member_client, team, member, fake_sentry, sentry_source
):
    from triage.releases import sync_releases

    sentry_source.team = team
    sentry_source.save()
    fake_sentry.script = [(502, {}, {"detail": "bad gateway"})] * 5
    assert sync_releases() == []
    check = make_check(team, name="site", last_message="connection refused", last_ok=False)
    open_incident(team, check, category="business", at=T0 - timedelta(minutes=5))
    with time_machine.travel(T0, tick=False):
        body = member_client.get(reverse("monitors:status")).content.decode()
    assert ">PANNE<" in body and "09:55" in body and "métier" in body
    assert "Vigie : Camille Martin" in body and "connection refused" in body
    assert "Aucune release connue avant." in body


def test_a_user_without_a_team_is_told_so(user_client):
    response = user_client.get(reverse("monitors:status"))
    assert response.status_code == 200
    assert 'id="verdict"' not in response.content.decode()
    assert user_client.get(reverse("monitors:status-json")).status_code == 404


def down_check(team, name, *, at, **fields):
    fields.setdefault("last_message", "connection refused")
    return make_check(
        team, name=name, state=Check.State.DOWN, state_changed_at=at, last_ok=False, **fields
    )


def test_a_critical_check_down_with_its_incident_resolved_by_hand_is_an_outage(team):
    check = down_check(team, "api", at=T0 - timedelta(minutes=30), category="business")
    open_incident(team, check, at=T0 - timedelta(minutes=30)).resolve(
        None, Incident.How.HAND, T0 - timedelta(minutes=20)
    )
    open_incident(team, severity="info", at=T0 - timedelta(hours=3))
    make_check(team, name="site", state=Check.State.UP)
    down_check(team, "old", at=T0 - timedelta(days=1), enabled=False)  # watched no more

    status = team_status(team, T0)

    assert status.verdict == OUTAGE
    assert [d.check.name for d in status.down_checks] == ["api"]
    assert status.down_checks[0].message == "connection refused"
    assert status.since.at == T0 - timedelta(minutes=30)  # not the info incident's 3 hours
    assert status.categories == ["technical", "business"]  # the info incident is technical


def test_since_is_the_oldest_problem_of_the_verdict_s_severity(team):
    source = SourceFactory(team=team, name="prod")
    Release.objects.create(source=source, version="1.0", deployed_at=T0 - timedelta(days=1))
    open_incident(team, severity="info", at=T0 - timedelta(hours=5))
    status = team_status(team, T0)
    assert (status.verdict, status.since, status.release) == (OPERATIONAL, None, None)
    open_incident(team, severity="warning", at=T0 - timedelta(hours=2))
    down_check(team, "cert", at=T0 - timedelta(hours=1), last_details={"severity": "warning"})
    status = team_status(team, T0)
    assert (status.verdict, status.since.at) == (DEGRADED, T0 - timedelta(hours=2))
    down_check(team, "api", at=T0 - timedelta(minutes=20))
    open_incident(team, severity="critical", at=T0 - timedelta(minutes=10))
    status = team_status(team, T0)
    assert (status.verdict, status.since.at) == (OUTAGE, T0 - timedelta(minutes=20))
    assert status.release.version == "1.0"


def test_a_third_party_down_degrades_only(team):
    down_check(team, "stripe", at=T0, kind=Check.Kind.STATUSPAGE)
    assert team_status(team, T0).verdict == DEGRADED


def test_an_outage_begun_in_maintenance_is_an_outage_since_it_began(team, outbox):
    from monitors.models import MaintenanceWindow
    from monitors.tests.helpers import FAIL

    check = make_check(team, name="api", alert_after=1)
    window = MaintenanceWindow.objects.create(
        team=team, name="deploy", start=T0 - timedelta(hours=1), end=T0
    )
    window.checks.add(check)
    check.record(FAIL, T0 - timedelta(minutes=30))
    status = team_status(team, T0 - timedelta(minutes=10))
    assert status.verdict == OUTAGE and [d.check for d in status.down_checks] == [check]
    check.record(FAIL, T0)  # the window has ended: the incident opens
    status = team_status(team, T0 + timedelta(minutes=1))
    assert status.down_checks == [] and [c.origin for c in status.causes] == ["api"]
    assert status.causes[0].opened.at == T0
    assert status.since.at == T0 - timedelta(minutes=30)


def test_page_and_json_say_outage_for_a_check_down_without_an_incident(
    member_client, client, team, member
):
    check = down_check(team, "<b>api</b>", at=T0 - timedelta(minutes=30), last_message="<i>x</i>")
    open_incident(team, check, at=T0 - timedelta(minutes=30)).resolve(
        None, Incident.How.HAND, T0 - timedelta(minutes=20)
    )
    with time_machine.travel(T0, tick=False):
        body = member_client.get(reverse("monitors:status")).content.decode()
    assert '<strong id="verdict" class="verdict verdict-outage">PANNE</strong>' in body
    assert "OPÉRATIONNEL" not in body
    assert "09:30" in body and "(il y a 30" in body
    assert "En panne, sans incident ouvert" in body and "1 sonde en panne sans incident" in body
    assert "&lt;b&gt;api&lt;/b&gt;" in body and "&lt;i&gt;x&lt;/i&gt;" in body
    assert "contrôles et règles sont au calme" not in body
    _token, secret = ApiToken.objects.issue(member.user, "wall screen")
    with time_machine.travel(T0, tick=False):
        url = reverse("monitors:status-json")
        data = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert data["verdict"] == "outage" and data["since"]["local"] == "09:30"
    assert data["incidents"] == []
    assert data["down_checks"] == [
        {
            "check": "<b>api</b>",
            "severity": "critical",
            "category": "technical",
            "message": "<i>x</i>",
            "down": {"at": (T0 - timedelta(minutes=30)).isoformat(), "local": "09:30"},
        }
    ]


def test_page_says_nothing_started_when_only_info_is_open(member_client, client, team, member):
    open_incident(team, severity="info", at=T0 - timedelta(hours=3))
    with time_machine.travel(T0, tick=False):
        body = member_client.get(reverse("monitors:status")).content.decode()
    assert 'verdict-operational">OPÉRATIONNEL<' in body
    assert "Seuls des problèmes de niveau information sont ouverts." in body
    assert "08:00" not in body.split('data-answer="since"')[1].split('data-answer="kind"')[0]
    _token, secret = ApiToken.objects.issue(member.user, "wall screen")
    url = reverse("monitors:status-json")
    data = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert (data["verdict"], data["since"]) == ("operational", None)
