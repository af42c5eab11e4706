"""Monitors as code: a file applied twice changes nothing, exports back, and a bad file is
refused whole with its line named."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from monitors import config
from monitors.models import Channel, Check, MaintenanceWindow
from rotation.tests.factories import TeamFactory

EXAMPLE = (Path(__file__).parent / "data" / "example.yaml").read_text()


@pytest.fixture
def secrets_env(monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.example/T0/B0/very-secret")
    monkeypatch.setenv("PD_ROUTING_KEY", "R0UT1NGKEY")
    monkeypatch.setenv("SHOP_RO_DSN", "postgres://ro:pw@127.0.0.1/shop")


@pytest.fixture
def demo_team(db):
    return TeamFactory(slug="demo", timezone="Europe/Paris")


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
    assert first.count("+ create") == 9
    assert Check.objects.filter(team=demo_team).count() == 5
    site = Check.objects.get(name="site")
    assert (site.interval, site.alert_after, site.managed_by) == (60, 2, str(monitors_file))
    assert site.config["max_latency"] == 2
    assert "ping demo/export-nocturne: http" in first

    second = apply_file(monitors_file)
    assert "+ create" not in second and "~ update" not in second
    assert second.count("= unchanged") == 9


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
