"""Alert rules: each type fires on its cause through a real sync or the tick, opens one
incident per cause on the checks' path, stays quiet inside its action interval, and clears by
itself where its condition can."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation

from monitors import rules
from monitors.models import AlertRule, Channel, Check, Incident
from monitors.templatetags.monitors import message_of
from monitors.tests.helpers import make_check
from rotation.tests.factories import MembershipFactory, ShiftFactory, TeamFactory
from triage.models import Item, ItemCount, Source
from triage.sources import REGISTRY
from triage.sources.base import ItemData, SourceError
from triage.sources.demo import DemoBackend
from triage.sync import sync_source
from triage.tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ScriptedBackend(DemoBackend):
    """Yields whatever the test put in `upstream` ({external_id: ItemData})."""

    upstream = {}
    job_totals = None

    def fetch(self, *, since=None):
        return iter(list(type(self).upstream.values()))

    def totals(self, since):
        return type(self).job_totals


@pytest.fixture
def upstream(monkeypatch):
    ScriptedBackend.upstream, ScriptedBackend.job_totals = {}, None
    monkeypatch.setitem(REGISTRY, "demo", f"{__name__}.ScriptedBackend")
    return ScriptedBackend.upstream


@pytest.fixture
def team():
    team = TeamFactory(slug="demo", timezone="Europe/Paris")
    Channel.objects.create(
        team=team, kind="webhook", name="equipe", url="https://hooks.example/x", min_severity="info"
    )
    return team


@pytest.fixture
def source(team):
    return SourceFactory(name="prod", team=team, state=Source.State.NEW)


def issue(external_id, count, kind="issue", first_seen=T0 - timedelta(days=3)):
    return ItemData(
        external_id=external_id,
        kind=kind,
        title=f"Error {external_id}",
        short_id=f"APP-{external_id}",
        upstream_status="unresolved",
        environment="production",
        first_seen=first_seen,
        last_seen=T0,
        tally=count,
    )


def sync_at(source, at):
    with time_machine.travel(at, tick=False):
        run = sync_source(source.pk)
    assert run.error == ""
    return run


def rule(team, kind, source=None, **fields):
    fields.setdefault("severity", "warning")
    params = fields.pop("params", {})
    made = AlertRule(team=team, name=kind, kind=kind, source=source, params=params, **fields)
    made.created_at = T0 - timedelta(days=1)
    made.full_clean()
    made.save()
    return made


def tick_at(at):
    with time_machine.travel(at, tick=False):
        rules.evaluate_timed(at)


def test_new_issue_opens_one_incident_per_new_issue_never_for_the_first_mirror(
    team, source, upstream
):
    rule(team, "new_issue", source, params={"environment": "production"})
    upstream.update({str(n): issue(str(n), 3) for n in range(3)})
    sync_at(source, T0)
    assert not Incident.objects.exists()  # the first mirror is history

    upstream["9"] = issue("9", 1)
    sync_at(source, T0 + timedelta(minutes=5))
    incident = Incident.objects.get()
    item = Item.objects.get(external_id="9")
    assert incident.rule.kind == "new_issue"
    assert incident.key == f"rule:{incident.rule_id}:item:{item.pk}"
    assert (incident.severity, incident.category) == ("warning", "technical")
    assert "APP-9" in incident.title
    assert incident.notifications().filter(label__startswith="equipe").count() == 1

    upstream["9"] = issue("9", 4)
    sync_at(source, T0 + timedelta(minutes=10))
    assert Incident.objects.count() == 1


def test_event_spike_counts_events_between_syncs_and_keeps_quiet_inside_the_interval(
    team, source, upstream
):
    spike = rule(team, "event_spike", source, severity="critical", params={"events": 10})
    upstream["1"] = issue("1", 100)
    sync_at(source, T0)
    assert not ItemCount.objects.exists()  # the first mirror's counts are not events
    for minutes, count in ((5, 105), (10, 110)):
        upstream["1"] = issue("1", count)
        sync_at(source, T0 + timedelta(minutes=minutes))
    assert not Incident.objects.exists()  # 5 then 5: never more than 10 in 5 minutes

    upstream["1"] = issue("1", 125)
    sync_at(source, T0 + timedelta(minutes=15))
    incident = Incident.objects.get()
    assert incident.rule == spike and incident.severity == "critical"
    assert incident.title.startswith("15 ")

    upstream["1"] = issue("1", 150)
    sync_at(source, T0 + timedelta(minutes=20))
    assert Incident.objects.count() == 1  # joined
    incident.resolve(None, Incident.How.HAND, T0 + timedelta(minutes=21))
    upstream["1"] = issue("1", 175)
    sync_at(source, T0 + timedelta(minutes=25))
    assert Incident.objects.count() == 1  # same cause inside the 24 h action interval

    upstream["1"] = issue("1", 200)
    sync_at(source, T0 + timedelta(hours=24, minutes=30))
    assert Incident.objects.count() == 2
    assert ItemCount.objects.filter(at__lt=T0 + timedelta(hours=1)).count() == 0  # pruned


def test_discarded_jobs_adds_the_groups_discards_in_the_window(team, source, upstream):
    rule(team, "discarded_jobs", source, params={"count": 20, "window": 3600})
    upstream.update({"a": issue("a", 50, "job"), "b": issue("b", 50, "job")})
    sync_at(source, T0)
    upstream.update({"a": issue("a", 60, "job"), "b": issue("b", 58, "job")})
    sync_at(source, T0 + timedelta(minutes=20))
    assert not Incident.objects.exists()  # 18 in the hour
    # A new group after the first mirror counts from zero.
    upstream["c"] = issue("c", 3, "job", first_seen=T0 + timedelta(minutes=30))
    sync_at(source, T0 + timedelta(minutes=40))
    incident = Incident.objects.get()
    assert incident.key.endswith(f"source:{source.pk}")
    assert incident.title.startswith("21 ")


def test_rules_over_a_source_that_never_synced_do_nothing(team, source, upstream, monkeypatch):
    def refuse(self, since=None):
        raise SourceError("connection refused")

    monkeypatch.setattr(ScriptedBackend, "fetch", refuse)
    for kind in ("new_issue", "event_spike", "discarded_jobs"):
        AlertRule.objects.create(team=team, name=kind, kind=kind, source=source)
    AlertRule.objects.create(team=team, name="stale", kind="source_stale", params={"after": 60})
    AlertRule.objects.create(team=team, name="backlog", kind="unqualified_backlog")
    with time_machine.travel(T0, tick=False):
        assert "connection refused" in sync_source(source.pk).error
    tick_at(T0 + timedelta(hours=2))
    for kind in rules.AFTER_SYNC:
        rule_row = AlertRule.objects.get(kind=kind)
        assert rules.causes(rule_row, T0, previous_success=None, started=None) == []
    assert not Incident.objects.exists()


def test_source_stale_opens_then_resolves_after_a_successful_sync(team, source, upstream):
    rule(team, "source_stale", params={"after": 1800})
    sync_at(source, T0)
    tick_at(T0 + timedelta(minutes=29))
    assert not Incident.objects.exists()
    tick_at(T0 + timedelta(minutes=31))
    incident = Incident.objects.get()
    assert "prod" in incident.title
    sync_at(source, T0 + timedelta(minutes=35))
    incident.refresh_from_db()
    assert (incident.state, incident.resolved_how) == ("resolved", "auto")


def test_unqualified_backlog_counts_old_items_and_clears_when_they_are_qualified(team, source):
    rule(team, "unqualified_backlog", severity="info", params={"older_than": 86400})
    old = ItemFactory.create_batch(3, source=source, first_seen=T0 - timedelta(days=2))
    ItemFactory(source=source, first_seen=T0 - timedelta(hours=2))
    ItemFactory(source=source, first_seen=T0 - timedelta(days=2), qualification="bug")
    tick_at(T0)
    incident = Incident.objects.get()
    assert incident.title.startswith("3 ")
    # The window in words of the reader's language, not the config file's "1d".
    assert incident.title == "3 items unqualified for more than 1 day"
    with translation.override("fr"):
        assert incident.spoken_title == "3 éléments non qualifiés depuis plus de 1 jour"
    assert not incident.notifications().exists()  # info is for digests, never a page
    Item.objects.filter(pk__in=[i.pk for i in old]).update(qualification="temporary")
    tick_at(T0 + timedelta(minutes=1))
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_nobody_on_watch_now_then_at_the_next_handover(team, monkeypatch):
    watching = rule(team, "nobody_on_watch", severity="critical")
    tick_at(T0)
    now_incident = Incident.objects.get()
    assert now_incident.key == watching.incident_key("now")
    assert now_incident.escalation  # the team's chain, frozen at open

    member = MembershipFactory(team=team)
    ShiftFactory(membership=member, start=T0 - timedelta(days=1), end=T0 + timedelta(days=6))
    tick_at(T0 + timedelta(minutes=1))
    now_incident.refresh_from_db()
    assert now_incident.state == "resolved"
    following = Incident.objects.unresolved().get()
    assert following.key.startswith(watching.incident_key("next:"))
    ShiftFactory(
        membership=MembershipFactory(team=team),
        start=T0 + timedelta(days=6),
        end=T0 + timedelta(days=13),
    )
    tick_at(T0 + timedelta(minutes=2))
    assert not Incident.objects.unresolved().exists()


def test_check_rules_down_for_a_while_slow_and_certificate_in_its_window(team):
    site = make_check(team, name="site", state=Check.State.DOWN, state_changed_at=T0)
    make_check(team, name="api", state=Check.State.UP, last_latency=3.5)
    cert = make_check(
        team,
        name="cert",
        kind=Check.Kind.TLS,
        config={"host": "app.example.org", "port": 443, "warn_days": 21, "critical_days": 7},
        state=Check.State.UP,
        last_details={"days_left": 12},
    )
    rule(team, "check_down", params={"after": 600, "check": "site"})
    rule(team, "check_slow", params={"max_latency": 2})
    rule(team, "cert_expiring")
    tick_at(T0 + timedelta(minutes=5))
    assert sorted(Incident.objects.values_list("title", flat=True)) == [
        "Certificate of cert expires in 12 days",
        "api answers in 3.50 s (more than 2 s)",
    ]  # stored in English, read in the reader's language
    assert sorted(i.spoken_title for i in Incident.objects.all()) == [
        "Le certificat de cert expire dans 12 jours",
        "api répond en 3.50 s (plus de 2 s)",
    ]
    Check.objects.filter(pk=site.pk).update(
        last_message="connection refused",
        last_details={"said": {"id": "connection refused", "params": {}}},
    )
    tick_at(T0 + timedelta(minutes=11))  # site down for 11 minutes, more than `after`
    down = Incident.objects.get(rule__kind="check_down")
    assert down.key.endswith(f"check:{site.pk}") and down.spoken_title == "site est en panne"
    opened = down.events.get(kind="opened")
    assert opened.text == "connection refused"  # the check's message, said again in French:
    assert message_of(opened) == "connexion refusée"
    Check.objects.filter(pk=site.pk).update(state=Check.State.UP)
    Check.objects.filter(pk=cert.pk).update(last_details={"days_left": 80})
    tick_at(T0 + timedelta(minutes=12))
    assert list(Incident.objects.unresolved().values_list("rule__kind", flat=True)) == [
        "check_slow"
    ]


def test_a_failing_rule_never_fails_the_sync_nor_the_other_rules(
    team, source, upstream, monkeypatch
):
    rule(team, "new_issue", source)
    rule(team, "source_stale", params={"after": 60})
    monkeypatch.setitem(rules.EVALUATORS, "new_issue", lambda *a, **k: 1 / 0)
    upstream["1"] = issue("1", 1)
    sync_at(source, T0)
    tick_at(T0 + timedelta(minutes=5))
    assert Incident.objects.get().rule.kind == "source_stale"


def test_manage_py_sync_runs_the_rules_and_the_incident_page_names_the_rule(
    team, source, upstream, user_client
):
    from django.core.management import call_command
    from django.urls import reverse

    new = rule(team, "new_issue", source)
    upstream["1"] = issue("1", 1)
    sync_at(source, T0)
    upstream["2"] = issue("2", 1)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        call_command("sync", "--source", "prod", stdout=open("/dev/null", "w"))  # noqa: SIM115
    incident = Incident.objects.get(rule=new)
    page = user_client.get(reverse("monitors:incident", args=[incident.pk]))
    assert "Règle d'alerte new_issue (nouvelle issue)" in page.content.decode()


def test_job_failure_rate_warning_above_5_critical_above_20_where_the_source_knows_totals(
    team, source, upstream, user_client
):
    from django.urls import reverse

    rule(team, "discarded_jobs", source, params={"count": 1000})
    ScriptedBackend.job_totals = (10, 5)
    sync_at(source, T0)
    assert not Incident.objects.exists()  # 10 jobs in the hour: too few to read a rate
    ScriptedBackend.job_totals = (200, 8)
    sync_at(source, T0 + timedelta(minutes=5))
    assert not Incident.objects.exists()  # 4 %
    ScriptedBackend.job_totals = (200, 12)
    sync_at(source, T0 + timedelta(minutes=10))
    warning = Incident.objects.get()
    assert (warning.severity, warning.title) == (
        "warning",
        "6.0 % of the jobs failed in the last hour on prod",
    )
    assert warning.spoken_title == "6.0 % des jobs en échec dans la dernière heure sur prod"
    assert message_of(warning.events.get(kind="opened")) == "12 en échec sur 200"
    page = reverse("monitors:incident", args=[warning.pk])
    body = user_client.get(page).text
    assert "6.0 % des jobs en échec" in body and "12 en échec sur 200" in body
    # The worker notifies in the instance's language (LANGUAGE_CODE: French).
    subject = warning.notifications().get().subject
    assert subject == "[avertissement] 6.0 % des jobs en échec dans la dernière heure sur prod"
    warning.resolve(None, Incident.How.HAND, T0 + timedelta(minutes=11))
    ScriptedBackend.job_totals = (200, 50)
    sync_at(source, T0 + timedelta(hours=25))
    assert Incident.objects.unresolved().get().severity == "critical"


def test_django_q2_knows_its_totals(source):
    import uuid

    from django_q.models import Task

    from triage.sources.djangoq import DjangoQBackend

    for index in range(12):
        stopped = T0 - timedelta(minutes=10 if index < 9 else 90)
        Task.objects.create(
            id=uuid.uuid4().hex, name=f"t{index}", func="app.tasks.run",
            started=stopped - timedelta(seconds=1), stopped=stopped, success=index % 3 != 0,
        )  # fmt: skip
    backend = DjangoQBackend(Source(kind="djangoq", name="own"))
    assert backend.totals(T0 - timedelta(hours=1)) == (9, 3)


def test_a_count_going_down_is_no_event_and_the_tick_evaluates_the_timed_rules(
    team, source, upstream, monkeypatch
):
    from monitors import tasks

    # Travelling in time ages the test's own connection past CONN_MAX_AGE (PostgreSQL).
    monkeypatch.setattr(tasks, "close_old_connections", lambda: None)

    rule(team, "discarded_jobs", source, params={"count": 5, "window": 3600})
    rule(team, "nobody_on_watch", severity="critical")
    upstream.update({"a": issue("a", 100, "job"), "b": issue("b", 10, "job")})
    sync_at(source, T0)
    upstream.update({"a": issue("a", 90, "job"), "b": issue("b", 14, "job")})
    sync_at(source, T0 + timedelta(minutes=5))
    assert not Incident.objects.exists()  # +4, not 4 - 10
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        tasks.tick(clock=lambda: 0, sleep=lambda seconds: None)
    assert Incident.objects.get().rule.kind == "nobody_on_watch"


def test_admin_checks_a_rules_parameters_and_source(team, source, admin_client):
    from django.urls import reverse

    url = reverse("admin:monitors_alertrule_add")
    form = {
        "team": team.pk,
        "name": "pic",
        "kind": "event_spike",
        "params": '{"events": 25}',
        "severity": "critical",
        "category": "technical",
        "action_interval": 86400,
    }
    refused = admin_client.post(url, form, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Ce type de règle surveille une source." in refused.content.decode()
    # Which sources a failure rate can be read from, where the parameters are typed.
    assert "django-q2, et GoodJob qui garde ses jobs terminés" in refused.content.decode()
    refused = admin_client.post(url, {**form, "source": source.pk, "params": '{"evnts": 3}'})
    assert "evnts" in refused.content.decode()
    admin_client.post(url, {**form, "source": source.pk})
    assert AlertRule.objects.get(name="pic").params == {"events": 25, "window": 300}
    assert admin_client.get(reverse("admin:monitors_alertrule_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:monitors_digest_changelist")).status_code == 200


def test_an_open_failure_rate_incident_is_raised_to_critical_when_the_rate_crosses_it(
    team, source, upstream, monkeypatch, user_client
):
    from django.urls import reverse

    from tests.factories import UserFactory

    camille, dominique = UserFactory(username="camille"), UserFactory(username="dominique")
    levels = [
        {"order": order, "label": f"L{order}", "delay_minutes": delay, "user_id": user.pk,
         "name": user.username, "phone": "", "chat_handle": ""}
        for order, delay, user in ((1, 0, camille), (2, 15, dominique))
    ]  # fmt: skip
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: levels)
    Channel.objects.create(
        team=team, kind="webhook", name="astreinte", url="https://hooks.example/y",
        min_severity="critical",
    )  # fmt: skip
    rule(team, "discarded_jobs", source, params={"count": 1000})
    ScriptedBackend.job_totals = (200, 12)
    sync_at(source, T0)
    incident = Incident.objects.get()
    assert incident.severity == "warning"
    labels = set(incident.notifications().values_list("label", flat=True))
    assert labels == {f"equipe (#{team.channels.get(name='equipe').pk})"}  # nobody paged

    ScriptedBackend.job_totals = (200, 30)
    sync_at(source, T0 + timedelta(minutes=5))
    ScriptedBackend.job_totals = (200, 50)
    raised_at = T0 + timedelta(hours=2)
    sync_at(source, raised_at)
    incident.refresh_from_db()
    assert Incident.objects.count() == 1  # the same incident, raised
    assert (incident.severity, incident.spoken_title) == (
        "critical",
        "25.0 % des jobs en échec dans la dernière heure sur prod",
    )
    raised = incident.events.get(kind="severity_raised")
    assert raised.at == raised_at and raised.data["to"] == "critical"
    # Both channels hear it now as critical, and L1 (camille) is paged at once.
    team_events = incident.events.filter(kind="notified", data__team=True)
    assert sorted(e.text.split(" ")[0] for e in team_events) == ["astreinte", "equipe", "equipe"]
    assert list(incident.events.filter(data__level=1).values_list("kind", flat=True)) == [
        "notified"
    ]
    assert incident.current_level == 1
    assert incident.next_escalation_at == raised_at + timedelta(minutes=15)  # not from opening
    camille_destinations = incident.events.filter(data__level=1)
    page = user_client.get(reverse("monitors:incident", args=[incident.pk])).content.decode()
    assert "gravité relevée" in page and "de avertissement à critique : 25.0 %" in page

    ScriptedBackend.job_totals = (200, 60)
    sync_at(source, raised_at + timedelta(minutes=5))
    assert incident.notifications().count() == 3 + len(camille_destinations)  # raised once
    assert incident.events.filter(kind="severity_raised").count() == 1


def test_an_acknowledged_incident_raised_to_critical_tells_the_channels_and_pages_nobody(
    team, source, upstream
):
    rule(team, "discarded_jobs", source, params={"count": 1000})
    ScriptedBackend.job_totals = (200, 12)
    sync_at(source, T0)
    incident = Incident.objects.get()
    incident.acknowledge(None, Incident.How.HAND, T0 + timedelta(minutes=1))
    ScriptedBackend.job_totals = (200, 50)
    sync_at(source, T0 + timedelta(minutes=5))
    incident.refresh_from_db()
    assert (incident.severity, incident.state) == ("critical", "acknowledged")
    assert incident.next_escalation_at is None and incident.current_level == 0
    # The warning, its acknowledgement to the channel, then the raise.
    assert incident.notifications().count() == 3
    ScriptedBackend.job_totals = (200, 12)
    sync_at(source, T0 + timedelta(minutes=10))
    incident.refresh_from_db()
    assert incident.severity == "critical"  # never lowered while open


def test_at_most_50_causes_open_per_evaluation_the_rest_counted_in_a_summary(
    team, source, upstream
):
    rule(team, "new_issue", source)
    upstream["0"] = issue("0", 1)
    sync_at(source, T0)
    upstream.update({str(n): issue(str(n), 1) for n in range(1, 58)})
    sync_at(source, T0 + timedelta(minutes=5))
    assert Incident.objects.filter(key__contains=":item:").count() == rules.MAX_CAUSES
    summary = Incident.objects.get(key__contains=":more:")
    assert summary.title == "7 more causes of rule new_issue, not opened one by one"
    assert summary.spoken_title == "7 autres causes de la règle new_issue, non ouvertes une à une"
    assert message_of(summary.events.get(kind="opened")) == (
        "Au plus 50 incidents ouverts par règle et par évaluation."
    )


def test_past_the_cap_a_later_evaluation_opens_the_rest_and_resolves_the_summary(team):
    from triage.models import Source as SourceModel

    rule(team, "source_stale", params={"after": 1800})
    for n in range(53):
        SourceFactory(name=f"s{n}", team=team, last_success_at=T0 - timedelta(hours=1))
    assert SourceModel.objects.count() == 53
    tick_at(T0)
    assert Incident.objects.filter(key__contains=":source:").count() == 50
    summary = Incident.objects.get(key__contains=":more:")
    assert summary.title.startswith("3 more causes")
    tick_at(T0 + timedelta(minutes=1))
    assert Incident.objects.unresolved().filter(key__contains=":source:").count() == 53
    summary.refresh_from_db()
    assert summary.state == "resolved"
    assert not Incident.objects.unresolved().filter(key__contains=":more:").exists()
