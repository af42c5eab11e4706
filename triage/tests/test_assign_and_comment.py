"""M'attribuer sets Sentry's assignedTo to the vigie's "Compte Sentry" and reads it back;
Commenter posts once on the Sentry issue, and a retry after a lost answer never posts twice
(nor does Bug's comment with the GitHub issue's link)."""

import re
from html import unescape

import pytest
from django.core.cache import cache

from rotation.models import Profile, Team
from rotation.tests.factories import MembershipFactory
from triage.models import Action, Item
from triage.sync import sync_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(sentry_source, fake_sentry, fake_github, client, user):
    cache.clear()
    team = Team.objects.create(slug="prod-team", name="Prod")
    sentry_source.team = team
    sentry_source.github_repository = "acme/app"
    sentry_source.save()
    MembershipFactory(team=team, user=user)
    client.force_login(user)
    issue = fake_sentry.add_issue(title="NoMethodError: undefined method `name' for nil")
    sync_source(sentry_source.pk)
    item = Item.objects.get(source=sentry_source, external_id=issue["id"])

    def click(action, key, htmx=True, **extra):
        data = {"action": action, "key": key, **extra}
        headers = {"HX-Request": "true"} if htmx else {}
        return client.post(f"/board/items/{item.pk}/qualify", data, headers=headers)

    return item, issue, click


def set_account(user, account):
    profile = Profile.of(user)
    profile.sentry_account = account
    profile.save()


def test_mes_vigies_has_the_sentry_account_field(client, user):
    MembershipFactory(user=user)
    client.force_login(user)
    page = client.get("/rotation/mine/").content.decode()
    assert "Compte Sentry" in page
    data = {"phone": "", "chat_handle": "", "github_login": "", "sentry_account": " marie "}
    assert client.post("/rotation/mine/", data).status_code == 302
    assert Profile.objects.get(user=user).sentry_account == "marie"


def test_assign_to_me_sets_assigned_to_and_shows_it_on_the_row(board, fake_sentry, user):
    item, issue, click = board
    set_account(user, "marie")
    response = click("assign", "k1")
    page = response.content.decode()
    assert fake_sentry.issues[issue["id"]]["assignedTo"]["email"] == "marie@example.org"
    assert "assignée à Marie Curie" in page
    item.refresh_from_db()
    assert item.assignee == "Marie Curie"
    assert item.qualification == ""  # not a qualification
    assert Action.objects.get(item=item, action="assign").upstream_ok is True


def test_the_row_and_the_detail_offer_m_attribuer(board, client):
    item, _issue, _click = board
    row = unescape(client.get("/board").content.decode())
    assert "M'attribuer" in row
    # Commenter and Lier need a field: on the detail only.
    assert 'value="comment"' not in row and 'value="link"' not in row
    detail = unescape(client.get(f"/board/items/{item.pk}").content.decode())
    assert "M'attribuer" in detail
    assert "Commenter" in detail and 'name="comment"' in detail
    assert "Lier" in detail and 'name="link"' in detail


def test_assign_without_an_account_says_where_to_set_it(board, fake_sentry):
    _item, issue, click = board
    response = click("assign", "k1")
    assert response.status_code == 422
    assert "Compte Sentry" in response.content.decode() or "compte Sentry" in (
        response.content.decode()
    )
    assert fake_sentry.issues[issue["id"]]["assignedTo"] is None


def test_an_account_sentry_does_not_know_is_a_failure(board, fake_sentry, user):
    item, _issue, click = board
    set_account(user, "nobody@example.org")
    click("assign", "k1")
    item.refresh_from_db()
    assert item.writeback_state == Item.Writeback.FAILED
    assert item.assignee == ""


def test_a_comment_is_posted_once_on_sentry(board, fake_sentry, client):
    _item, issue, click = board
    response = click("comment", "k1", htmx=False, comment="Vu avec l'équipe, correctif demain.")
    assert response.status_code == 302
    (note,) = fake_sentry.comments[issue["id"]]
    assert note["data"]["text"].startswith("Vu avec l'équipe, correctif demain.")
    click("comment", "k1", comment="Vu avec l'équipe, correctif demain.")  # a double click
    assert len(fake_sentry.comments[issue["id"]]) == 1


def test_a_retry_after_a_lost_answer_does_not_post_twice(board, fake_sentry):
    item, issue, click = board
    text = "Vu avec l'équipe."
    click("comment", "k1", comment=text)
    # The comment reached Sentry but the answer was lost: the attempt is recorded as failed.
    Action.objects.filter(item=item, action="comment").update(upstream_ok=False)
    Item.objects.filter(pk=item.pk).update(writeback_state=Item.Writeback.FAILED)
    response = click("retry", "k2")
    assert "Commentaire publié." in response.content.decode()
    assert len(fake_sentry.comments[issue["id"]]) == 1
    item.refresh_from_db()
    assert item.writeback_state == Item.Writeback.NONE


def test_an_empty_comment_is_refused(board, fake_sentry):
    _item, issue, click = board
    response = click("comment", "k1", comment="   ")
    assert response.status_code == 422
    assert issue["id"] not in fake_sentry.comments


def test_bug_retry_after_a_lost_comment_answer_does_not_comment_twice(board, fake_sentry):
    item, issue, click = board
    click("bug", "k1")
    (comment,) = fake_sentry.comments[issue["id"]]
    # Lost answer on the link's comment: the bug is retried.
    Action.objects.filter(item=item, action="bug").update(upstream_ok=False)
    Item.objects.filter(pk=item.pk).update(writeback_state=Item.Writeback.FAILED, qualification="")
    click("retry", "k2")
    assert fake_sentry.comments[issue["id"]] == [comment]
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.BUG


@pytest.mark.parametrize("reference", ["7", "#7", "acme/app#7", "URL"])
def test_lier_links_an_existing_issue_like_bug(board, fake_sentry, fake_github, reference):
    item, issue, click = board
    for number in range(1, 8):
        existing = fake_github.add_issue("acme/app", f"Bug {number}")
    reference = existing["html_url"] if reference == "URL" else reference
    response = click("link", "k1", link=reference)
    assert "Liée à l’issue GitHub acme/app#7." in response.content.decode()
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.BUG
    assert item.github_issue_url == existing["html_url"]
    (note,) = fake_sentry.comments[issue["id"]]
    assert note["data"]["text"] == existing["html_url"]
    assert len(fake_github.issues("acme/app")) == 7  # nothing opened
    # Undone like Bug: unresolved and unqualified again.
    click("undo", "k2")
    item.refresh_from_db()
    assert item.qualification == ""


def test_lier_refuses_what_is_not_an_issue(board, fake_sentry, fake_github):
    item, issue, click = board
    assert click("link", "k1", link="not an issue").status_code == 422
    pull = fake_github.add_pull_request("acme/app", "A fix")
    click("link", "k2", link=str(pull["number"]))
    item.refresh_from_db()
    assert item.writeback_state == Item.Writeback.FAILED
    assert item.qualification == ""
    assert issue["id"] not in fake_sentry.comments


def test_a_sentry_account_sentry_does_not_know_is_refused_when_saved(board, client, user):
    data = {"phone": "", "chat_handle": "", "github_login": "", "sentry_account": "nobody"}
    response = client.post("/rotation/mine/", data)
    assert response.status_code == 400
    assert "Sentry ne connaît aucun membre nobody dans acme." in response.content.decode()
    assert Profile.objects.get(user=user).sentry_account == ""
    data["sentry_account"] = "marie@example.org"
    assert client.post("/rotation/mine/", data).status_code == 302
    assert Profile.objects.get(user=user).sentry_account == "marie@example.org"


def test_a_sentry_that_cannot_be_asked_does_not_block_the_profile(board, client, user, fake_sentry):
    fake_sentry.token = "rotated"
    data = {"phone": "", "chat_handle": "", "github_login": "", "sentry_account": "marie"}
    assert client.post("/rotation/mine/", data).status_code == 302


def test_a_comment_from_the_panel_answers_with_the_panel_and_its_row(board, client):
    item, _issue, _click = board
    panel = {"HX-Request": "true", "HX-Target": "item-detail"}
    url = f"/board/items/{item.pk}/qualify"
    data = {"action": "comment", "key": "k1", "comment": "Vu.", "shown": f"{item.pk + 1},{item.pk}"}

    html = client.post(url, data, headers=panel).content.decode()

    assert html.lstrip().startswith('<article class="item-detail"')
    assert '<p class="flash ok">Commentaire publié.</p>' in html
    assert re.search(rf'<tr id="item-{item.pk}" [^>]*hx-swap-oob="true"', html)
    # The same answer for a board that does not show the row: the panel alone.
    data |= {"key": "k2", "comment": "Revu.", "shown": ""}
    html = client.post(url, data, headers=panel).content.decode()
    assert "Commentaire publié." in html and f'<tr id="item-{item.pk}"' not in html


def test_the_panel_forms_post_with_htmx_and_without_it(board, client):
    item, _issue, _click = board
    html = client.get(f"/board/items/{item.pk}", headers={"HX-Request": "true"}).content.decode()
    for form in ("detail-assign", "detail-comment", "detail-link"):
        tag = re.search(rf'<form [^>]*class="{form}"[^>]*>', html)[0]
        assert f'action="/board/items/{item.pk}/qualify"' in tag
        assert f'hx-post="/board/items/{item.pk}/qualify"' in tag
        assert 'hx-target="#item-detail"' in tag
    assert html.count('name="csrfmiddlewaretoken"') >= 3
    # Without JavaScript: a plain POST, back to the detail page it came from.
    detail_page = f"http://testserver/board/items/{item.pk}"
    response = client.post(
        f"/board/items/{item.pk}/qualify",
        {"action": "comment", "key": "k3", "comment": "Sans JS."},
        headers={"Referer": detail_page},
    )
    assert response.status_code == 302 and response["Location"] == detail_page
