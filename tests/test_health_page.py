"""The home page's "Vigie itself": each check's facts worded in the reader's language, while
/health keeps its English for machines."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.conf import settings
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from monitors.tasks import SCHEDULER
from monitors.tests.helpers import make_check
from tests.factories import UserFactory
from triage.models import Source
from vigie import health
from vigie.models import Heartbeat, Notification
from vigie.tasks import WORKER

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def checks(client, language="fr"):
    """The home page's checks as {label: wording}, in `language`."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with time_machine.travel(NOW, tick=False):
        page = client.get("/").content.decode()
    table = re.search(r'<table class="checks">(.*?)</table>', page, re.S).group(1)
    assert "{" not in table and "'" not in table  # no repr of a dict or a list
    rows = re.findall(r'<th scope="row">(.*?)</th><td class="\w+">(.*?)</td>', table, re.S)
    return {label: _text(text) for label, text in rows}


def _text(html):
    """The words shown, list items after a "|", spaces collapsed (not the non-breaking ones
    Django's filters put)."""
    text = re.sub(r"<[^>]+>", "", re.sub(r"<li>", " | ", html))
    return unescape(re.sub(r"[ \n]+", " ", text).strip())


def beat(name, ago):
    with time_machine.travel(NOW - ago, tick=False):
        Heartbeat.beat(name)


def test_all_is_well_in_french(staff_client):
    beat(WORKER, timedelta(seconds=10))
    assert checks(staff_client) == {
        "Base de données": "en ordre",
        "Migrations": "en ordre",
        "Exécuteur des tâches de fond": "en ordre",
        "File des notifications": "en ordre",
        "Réglages des notifications": "en ordre",
        "Sources": "aucune source surveillée",
        "Synchronisations en cours": "aucune bloquée",
        "Planificateur des sondes": "en ordre",
    }


def test_a_worker_never_seen_and_a_stale_scheduler(staff_client):
    make_check()
    beat(SCHEDULER, timedelta(minutes=5))
    shown = checks(staff_client)
    assert shown["Exécuteur des tâches de fond"] == "jamais vu"
    assert shown["Planificateur des sondes"] == "dernier signe de vie il y a 5\xa0minutes"


def test_a_stale_worker_in_both_languages(client):
    client.force_login(UserFactory())
    beat(WORKER, timedelta(minutes=3))
    assert checks(client)["Exécuteur des tâches de fond"] == (
        "dernier signe de vie il y a 3\xa0minutes"
    )
    assert checks(client, "en")["Background worker"] == "last sign of life 3\xa0minutes ago"


def test_a_stuck_outbox_and_pending_migrations(staff_client, monkeypatch):
    beat(WORKER, timedelta(seconds=10))
    Notification.objects.create(
        key="k", kind="slack", subject="s", severity="info",
        next_attempt_at=NOW - timedelta(minutes=16),
    )  # fmt: skip
    monkeypatch.setattr(health, "_migrations_ok_until", 0.0)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [1, 2])
    shown = checks(staff_client)
    assert shown["File des notifications"] == "une notification attend depuis 16\xa0minutes"
    assert shown["Migrations"] == "2 migrations non appliquées"


def test_a_check_that_raises(staff_client, monkeypatch):
    monkeypatch.setitem(
        health.CHECKS, "upstream", health.Check("tests.test_health_page.raises", label="Amont")
    )
    assert checks(staff_client)["Amont"] == "la vérification a échoué (RuntimeError)"


def raises():
    raise RuntimeError("boom")


def sources_in_trouble():
    Source.objects.create(
        kind="sentry", name="broken", base_url="http://127.0.0.1:9", organization="o",
        scopes=["1"], state=Source.State.AUTH_ERROR,
    )  # fmt: skip
    Source.objects.create(
        kind="sentry", name="late", base_url="http://127.0.0.1:9", organization="o",
        scopes=["1"], state=Source.State.OK, last_success_at=NOW - timedelta(minutes=40),
    )  # fmt: skip
    Source.objects.create(
        kind="sentry", name="held", base_url="http://127.0.0.1:9", organization="o",
        scopes=["1"], state=Source.State.OK, last_success_at=NOW,
        sync_started_at=NOW - timedelta(minutes=20), sync_heartbeat_at=NOW - timedelta(minutes=7),
    )  # fmt: skip


def test_staff_see_which_sources_fail_in_french(staff_client):
    sources_in_trouble()
    shown = checks(staff_client)
    assert shown["Sources"] == (
        "1 en ordre, 2 en échec | broken (erreur d'authentification) "
        "| late (dernière synchronisation il y a 40\xa0minutes)"
    )
    assert shown["Synchronisations en cours"] == (
        "1 bloquée | held (sa synchronisation s’est arrêtée il y a 7\xa0minutes)"
    )


def test_members_see_counts_without_names(client):
    client.force_login(UserFactory())
    sources_in_trouble()
    shown = checks(client)
    assert shown["Sources"] == "1 en ordre, 2 en échec"
    assert shown["Synchronisations en cours"] == "1 bloquée"


def test_health_stays_english_for_a_french_reader(staff_client):
    sources_in_trouble()
    beat(WORKER, timedelta(minutes=3))
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    with time_machine.travel(NOW, tick=False):
        body = staff_client.get("/health").json()
    assert body["checks"]["worker"] == "stale: last heartbeat 180 s ago"
    assert body["checks"]["sources"] == {
        "ok": 1, "failing": 2, "problems": ["broken auth_error", "late stale (40 min)"],
    }  # fmt: skip
    assert body["checks"]["sync_claims"] == {
        "stuck": 1, "problems": ["held sync claim stuck (7 min)"],
    }  # fmt: skip


def test_a_notification_waiting_for_a_setting_in_french(staff_client):
    beat(WORKER, timedelta(seconds=10))
    Notification.objects.create(
        key="k", kind="slack", subject="s", severity="info", misconfigured=True,
        last_error="AM_HOOK_URL: environment variable is not set",
    )  # fmt: skip
    assert checks(staff_client)["Réglages des notifications"] == (
        "1 notification attend un réglage qui manque à l’exécuteur : "
        "AM_HOOK_URL: environment variable is not set"
    )
