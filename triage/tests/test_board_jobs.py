"""Jobs on the board: local qualifications, the seed 000 warning, and Relancer for django-q2."""

import pytest

from rotation.models import Team
from rotation.tests.factories import MembershipFactory
from triage.models import Action, Item, Source
from triage.sources import REGISTRY
from triage.sync import sync_source
from triage.tests.factories import ItemFactory, SourceFactory
from triage.tests.test_djangoq import CALLS, ago, failure, send_reminder

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_client(client, user):
    team = Team.objects.create(slug="jobs-team", name="Jobs")
    MembershipFactory(team=team, user=user)
    client.force_login(user)
    return team, client


def post(client, item, action, key):
    return client.post(
        f"/board/items/{item.pk}/qualify",
        {"action": action, "key": key},
        headers={"HX-Request": "true"},
    )


def test_a_not_found_job_warns_before_and_after_attendu(team_client, monkeypatch):
    team, client = team_client
    # The local-only qualifications of every job backend, without a GoodJob database.
    monkeypatch.setitem(REGISTRY, "goodjob", "triage.sources.jobs.JobBackend")
    source = SourceFactory(name="rdv-jobs", kind="goodjob", team=team)
    item = ItemFactory(
        source=source,
        kind=Item.Kind.JOB,
        title="ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=?",
        payload={"error_class": "ActiveRecord::RecordNotFound", "job_class": "ReminderJob"},
    )
    board = client.get("/board").content.decode()
    assert "usually a real bug" in board or "souvent un vrai bug" in board
    assert 'value="resolved"' not in board  # GoodJob has no write API: local qualifications only
    response = post(client, item, "expected", "k1")
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.EXPECTED
    assert "souvent un vrai bug" in response.content.decode()


def test_relancer_requeues_a_failed_task_of_this_vigie(team_client, monkeypatch):
    team, client = team_client
    failure(send_reminder, 1001, stopped=ago(minutes=5))
    source = Source.objects.create(kind="djangoq", name="vigie-tasks", team=team)
    sync_source(source.pk)
    item = Item.objects.get(source=source)
    assert "Relancer" in client.get("/board").content.decode()
    # Meanwhile the record came back: the requeued task now succeeds.
    monkeypatch.setattr(
        "triage.tests.test_djangoq.send_reminder",
        lambda rdv_id, *, channel="sms": CALLS.append((rdv_id, channel)),
    )
    CALLS.clear()
    response = post(client, item, "requeue", "k1")
    post(client, item, "requeue", "k1")  # a double click runs it once
    assert response.status_code == 200
    # Tests run django-q2 tasks inline: the requeued task ran again with its arguments.
    assert CALLS == [(1001, "sms")]
    action = Action.objects.get(item=item, action="requeue")
    assert action.upstream_ok is True
    assert action.upstream_response["func"].endswith("send_reminder")
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.UNQUALIFIED


def test_another_apps_tasks_offer_no_relancer(team_client):
    team, client = team_client
    source = SourceFactory(name="other-app", kind="djangoq", team=team, secret_env="X")
    item = ItemFactory(source=source, kind=Item.Kind.JOB)
    assert 'value="requeue"' not in client.get("/board").content.decode()
    response = post(client, item, "requeue", "k1")
    assert response.status_code == 422
