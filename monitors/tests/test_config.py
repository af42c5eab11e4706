"""Monitors as code: a file applied twice changes nothing, exports back, and a bad file is
refused whole with its line named."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitors import config
from monitors.models import AlertRule, Channel, Check, MaintenanceWindow
from rotation.tests.factories import TeamFactory
from triage.tests.factories import SourceFactory

EXAMPLE = (Path(__file__).parent / "data" / "example.yaml").read_text()


@pytest.fixture
def secrets_env(monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.example/T0/B0/very-secret")
    monkeypatch.setenv("PD_ROUTING_KEY", "R0UT1NGKEY")
    monkeypatch.setenv("SHOP_RO_DSN", "postgres://ro:pw@127.0.0.1/shop")


@pytest.fixture
def demo_team(db):
    team = TeamFactory(slug="demo", timezone="Europe/Paris")
    SourceFactory(name="prod", team=team)
    SourceFactory(name="jobs", team=team)
    return team


@pytest.fixture
def monitors_file(tmp_path):
    path = tmp_path / "monitors.yaml"
    path.write_text(EXAMPLE)
    return path


def apply_file(path, *args):
    from io import StringIO

    out = StringIO()
    call_command("monitors", "apply", str(path), *args, stdout=out)
    return out.getvalue()


def test_apply_creates_then_changes_nothing(demo_team, secrets_env, monitors_file):
    first = apply_file(monitors_file)
    assert first.count("+ create") == 16
    assert Check.objects.filter(team=demo_team).count() == 5
    site = Check.objects.get(name="site")
    assert (site.interval, site.alert_after, site.managed_by) == (60, 2, str(monitors_file))
    assert site.config["max_latency"] == 2
    assert "ping demo/export-nocturne: http" in first

    second = apply_file(monitors_file)
    assert "+ create" not in second and "~ update" not in second
    assert second.count("= unchanged") == 16


def test_secrets_stay_references_in_the_database(demo_team, secrets_env, monitors_file):
    apply_file(monitors_file)
    slack = Channel.objects.get(name="equipe")
    assert slack.url == "${SLACK_WEBHOOK_URL}"
    assert Check.objects.get(name="stock-negatif").config["dsn"] == "${SHOP_RO_DSN}"
    text, warnings = config.export()
    assert "very-secret" not in text and "R0UT1NGKEY" not in text and "pw@" not in text
    assert warnings == []


def test_update_names_the_fields(demo_team, secrets_env, monitors_file):
    apply_file(monitors_file)
    monitors_file.write_text(EXAMPLE.replace("interval: 60s", "interval: 30s"))
    out = apply_file(monitors_file, "--dry-run")
    assert "~ update check demo/site: interval" in out
    assert Check.objects.get(name="site").interval == 60  # dry run
    apply_file(monitors_file)
    assert Check.objects.get(name="site").interval == 30


def test_export_applies_back_to_the_same_state(demo_team, secrets_env, monitors_file, tmp_path):
    apply_file(monitors_file)
    exported, _ = config.export()
    again = tmp_path / "exported.yaml"
    again.write_text(exported)
    out = apply_file(again)
    assert "+ create" not in out and "- delete" not in out
    assert "ping_url" in exported
    window = MaintenanceWindow.objects.get(name="migration")
    assert window.team.local(window.start).strftime("%Y-%m-%dT%H:%M") == "2027-01-12T22:00"
    assert "window: 5m" in exported and "action_interval: 1d" in exported
    assert "~ update rule demo/pic: managed_by\n" in out  # only the file differs


def test_rules_from_the_file(demo_team, secrets_env, monitors_file):
    apply_file(monitors_file)
    spike = AlertRule.objects.get(name="pic")
    assert (spike.kind, spike.source.name, spike.severity) == ("event_spike", "prod", "critical")
    assert spike.params == {"events": 10, "window": 300}
    assert spike.action_interval == 86400 and spike.managed_by == str(monitors_file)
    backlog = AlertRule.objects.get(name="backlog")
    assert backlog.source is None and backlog.params == {"older_than": 86400, "count": 1}
    assert AlertRule.objects.get(name="site-lent").runbook == "rb-003"
    jobs = AlertRule.objects.get(name="jobs-abandonnes")
    assert (jobs.params["rate_warning"], jobs.params["rate_critical"]) == (5, 20)
    monitors_file.write_text(EXAMPLE.replace("events: 10", "events: 25"))
    assert "~ update rule demo/pic: params" in apply_file(monitors_file)
    assert AlertRule.objects.get(name="pic").params["events"] == 25


def test_a_rule_cannot_watch_another_teams_source(demo_team, secrets_env, monitors_file):
    SourceFactory(name="ailleurs", team=TeamFactory(slug="other"))
    monitors_file.write_text(EXAMPLE.replace("source: prod, events", "source: ailleurs, events"))
    with pytest.raises(CommandError, match=r":29: .*belongs to another team"):
        apply_file(monitors_file)


def test_prune_deletes_what_the_file_no_longer_names(demo_team, secrets_env, monitors_file):
    apply_file(monitors_file)
    monitors_file.write_text(EXAMPLE.replace("  - {name: sentry-statut", "  - {name: autre-statut"))
    out = apply_file(monitors_file)
    assert "- delete" not in out
    assert Check.objects.filter(name="sentry-statut").exists()
    out = apply_file(monitors_file, "--prune")
    assert "- delete check demo/sentry-statut" in out
    assert not Check.objects.filter(name="sentry-statut").exists()


@pytest.mark.parametrize(
    ("change", "line", "named"),
    [
        (("interval: 60s", "intervall: 60s"), 9, "'intervall': unknown key"),
        (("timeout: 10s", "timeout: ten seconds"), 10, "bad duration"),
        (("interval: 60s", "interval: 5s"), 9, "at least 10s"),
        (("SELECT id, sku, qty FROM stock WHERE qty < 0", "DELETE FROM stock"), 22, "query"),
        (
            ("SELECT id, sku, qty FROM stock WHERE qty < 0", "SELECT 1; DROP TABLE stock"),
            22,
            "query",
        ),
        (("${SHOP_RO_DSN}", "${NOT_SET_ANYWHERE}"), 21, "NOT_SET_ANYWHERE"),
        (("team: demo, type: tls", "team: nowhere, type: tls"), 19, "unknown team 'nowhere'"),
        (("checks: [site, certificat]", "checks: [site, nope]"), 26, "unknown check 'nope'"),
        (('"${PD_ROUTING_KEY}"', "R0UT1NGKEY"), 3, "write it as a reference"),
        (("day: tuesday", "day: mardi"), 25, "English day name"),
        (("window: 5m, severity: critical", "windw: 5m"), 29, "unknown key 'windw'"),
        (("window: 1h", "window: an hour"), 30, "bad duration 'an hour' for 'window'"),
        (("source: jobs", "source: nulle-part"), 30, "unknown source 'nulle-part'"),
        (("type: nobody_on_watch", "type: personne"), 33, "'type' must be one of"),
        (("older_than: 24h", "older_than: 24h, source: prod, events: 3"), 31, "'events'"),
        (("window: 5m,", "window: 2d,"), 29, "at most one day"),
        (("count: 20,", "count: 20, rate_critical: 150%,"), 30, "a percentage above 0"),
        (("team: demo, type: source_stale", "team: nowhere, type: source_stale"), 32, "nowhere"),
        (
            ("https://app.example.org/health", "http://127.0.0.1:8000/health"),
            8,
            "'url': 127.0.0.1 is a loopback address",
        ),
    ],
)
def test_a_bad_file_is_refused_whole(demo_team, secrets_env, monitors_file, change, line, named):
    monitors_file.write_text(EXAMPLE.replace(*change))
    with pytest.raises(CommandError) as refused:
        apply_file(monitors_file)
    message = str(refused.value)
    assert f"{monitors_file}:{line}:" in message
    assert named in message
    assert "nothing applied" in message
    assert not Check.objects.exists() and not Channel.objects.exists()
    assert not AlertRule.objects.exists()


def test_a_missing_variable_is_named_not_its_value(
    demo_team, secrets_env, monkeypatch, monitors_file
):
    monkeypatch.delenv("SLACK_WEBHOOK_URL")
    with pytest.raises(CommandError, match="SLACK_WEBHOOK_URL"):
        apply_file(monitors_file)


def test_durations():
    assert config.parse_duration("250ms") == 0.25
    assert config.parse_duration("1d") == 86400
    assert config.parse_duration(45) == 45
    assert config.format_duration(3600) == "1h"
    assert config.format_duration(90) == "90s"
    with pytest.raises(ValueError):
        config.parse_duration("-1s")


def test_an_internal_target_is_refused_by_a_dry_run_and_saved_once_allowed(
    demo_team, secrets_env, monitors_file
):
    internal = EXAMPLE.replace("https://app.example.org/health", "http://127.0.0.1:8000/health")
    monitors_file.write_text(internal)
    with pytest.raises(
        CommandError, match=r":8: check 'site': 'url': 127.0.0.1 is a loopback address"
    ):
        apply_file(monitors_file, "--dry-run")
    monitors_file.write_text(internal.replace("allow_private: false", "allow_private: true"))
    assert "+ create check demo/site" in apply_file(monitors_file)
    assert Check.objects.get(name="site").allow_private
