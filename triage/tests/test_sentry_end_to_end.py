"""The whole loop against the fake servers: mirror from Sentry, one click on the board, the
write-back Sentry confirms, the GitHub issue and its link commented on the Sentry issue."""

import pytest

from rotation.models import Team
from rotation.tests.factories import MembershipFactory
from triage.models import Action, Item
from triage.sync import sync_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(sentry_source, fake_sentry, fake_github, client, user):
    team = Team.objects.create(slug="prod-team", name="Prod")
    sentry_source.team = team
    sentry_source.github_repository = "acme/app"
    sentry_source.save()
    MembershipFactory(team=team, user=user)
    client.force_login(user)
    issue = fake_sentry.add_issue(title="NoMethodError: undefined method `name' for nil")
    sync_source(sentry_source.pk)
    item = Item.objects.get(source=sentry_source, external_id=issue["id"])

    def click(action, key, **extra):
        data = {"action": action, "key": key, **extra}
        return client.post(f"/board/items/{item.pk}/qualify", data, headers={"HX-Request": "true"})

    return item, issue, click


def test_temporaire_ignores_until_next_occurrence_in_sentry(board, fake_sentry):
    item, issue, click = board
    response = click("temporary", "k1")
    assert response.status_code == 200
    assert fake_sentry.issues[issue["id"]]["status"] == "ignored"
    assert fake_sentry.issues[issue["id"]]["statusDetails"]["ignoreCount"] == 1
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.TEMPORARY


def test_attendu_uses_the_team_threshold(board, fake_sentry):
    _item, issue, click = board
    click("expected", "k1")
    details = fake_sentry.issues[issue["id"]]["statusDetails"]
    assert details["ignoreCount"] == 10
    assert details["ignoreWindow"] == 10080


def test_a_write_sentry_does_not_apply_is_not_taken_for_done(board, fake_sentry):
    item, issue, click = board
    fake_sentry.frozen.add(issue["id"])
    response = click("resolved", "k1")
    assert "Réessayer" in response.content.decode()
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.UNQUALIFIED
    assert fake_sentry.issues[issue["id"]]["status"] == "unresolved"


def test_bug_opens_one_github_issue_and_comments_it_on_sentry(board, fake_sentry, fake_github):
    item, issue, click = board
    click("bug", "k1")
    click("bug", "k1")  # a double click
    (opened,) = fake_github.issues("acme/app")
    assert issue["permalink"] in opened["body"]
    assert "Rdv.find" in opened["body"]  # the top frame of the latest event
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.BUG
    assert item.github_issue_url == opened["html_url"]
    (comment,) = fake_sentry.comments[issue["id"]]
    assert opened["html_url"] in str(comment)
    assert Action.objects.filter(item=item, action="bug").count() == 1
