"""Small requests on the board, with the offline demo backend: buttons, profile login, undo."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rotation.models import Profile
from rotation.tests.factories import MembershipFactory
from triage.models import Action, Item, Source
from triage.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_item(source):
    return ItemFactory(
        source=source,
        kind=Item.Kind.REQUEST,
        external_id="acme/app#12",
        short_id="app#12",
        title="Ajouter le motif à l'export <b>CSV</b>",
        origin="acme/app",
        level="",
        upstream_status="open",
        recent_counts=[],
        payload={"repo": "acme/app", "number": 12, "labels": ["vigie"]},
    )


def click(client, item, action, key, **extra):
    return client.post(
        f"/board/items/{item.pk}/qualify",
        {"action": action, "key": key, **extra},
        headers={"HX-Request": "true"},
    )


def test_a_request_gets_its_own_three_buttons_and_an_issue_keeps_its_own(
    member_client, request_item, item
):
    page = member_client.get("/board").content.decode()
    request_row = page[page.index(f'id="item-{request_item.pk}"') :]
    request_row = request_row[: request_row.index("</tr>")]
    for label in ("Je prends", "Fait", "Trop gros"):
        assert label in request_row
    assert 'value="temporary"' not in request_row and 'value="bug"' not in request_row
    assert 'name="comment"' in request_row
    assert "&lt;b&gt;CSV&lt;/b&gt;" in request_row  # titles are attacker-controlled
    issue_row = page[page.index(f'id="item-{item.pk}"') :]
    issue_row = issue_row[: issue_row.index("</tr>")]
    assert 'value="take"' not in issue_row and 'value="temporary"' in issue_row


def test_the_kind_filter_shows_only_requests(member_client, request_item, item):
    page = member_client.get("/board?kind=request").content.decode()
    assert f'id="item-{request_item.pk}"' in page and f'id="item-{item.pk}"' not in page
    # An unknown kind is ignored rather than emptying the board.
    page = member_client.get("/board?kind=nonsense").content.decode()
    assert f'id="item-{item.pk}"' in page


def test_je_prends_without_a_github_login_says_where_to_add_it(member_client, request_item):
    response = click(member_client, request_item, "take", "k1")
    assert response.status_code == 422
    assert "GitHub" in response.content.decode() and "profil" in response.content.decode()
    request_item.refresh_from_db()
    assert request_item.qualification == "" and not request_item.actions.exists()


def test_je_prends_assigns_the_login_of_the_profile_then_undo_unassigns(
    member_client, member, request_item
):
    Profile.objects.filter(user=member).update(github_login="camille-m")
    response = click(member_client, request_item, "take", "k1")
    assert response.status_code == 200
    request_item.refresh_from_db()
    assert request_item.qualification == Item.Qualification.TAKEN
    assert request_item.assignee == "camille-m"
    assert "camille-m" in response.content.decode()
    action = Action.objects.get(action="take")
    assert action.params == {"assignee": "camille-m", "previous": []} and action.upstream_ok

    click(member_client, request_item, "undo", "k2")
    request_item.refresh_from_db()
    assert (request_item.qualification, request_item.assignee) == ("", "")
    undo = Action.objects.get(action="undo")
    assert undo.params == {"undoes": "take", "assignee": "camille-m", "previous": []}
    assert Action.objects.get(action="take").undone


def test_fait_closes_and_leaves_the_to_qualify_list_and_a_long_comment_is_refused(
    member_client, request_item
):
    response = click(member_client, request_item, "done", "k1", comment="x" * 2001)
    assert response.status_code == 422 and "2000" in response.content.decode()
    assert not request_item.actions.exists()

    click(member_client, request_item, "done", "k2", comment="Export livré en prod.")
    request_item.refresh_from_db()
    assert request_item.qualification == Item.Qualification.DONE
    assert request_item.upstream_status == "closed"
    assert Action.objects.get(action="done").params == {"comment": "Export livré en prod."}
    assert f'id="item-{request_item.pk}"' not in member_client.get("/board").content.decode()


def test_a_request_closed_upstream_is_no_longer_to_qualify(member_client, request_item):
    Item.objects.filter(pk=request_item.pk).update(upstream_status="closed")
    page = member_client.get("/board").content.decode()
    assert f'id="item-{request_item.pk}"' not in page
    page = member_client.get("/board?state=all").content.decode()
    # A demo source: closed in the demo (a GitHub source's say "fermée sur GitHub").
    assert f'id="item-{request_item.pk}"' in page and "fermée (démo)" in page


def test_the_board_with_requests_stays_at_eight_queries(
    member_client, source, django_assert_max_num_queries
):
    for number in range(30):
        ItemFactory(source=source, kind=Item.Kind.REQUEST, external_id=f"acme/app#{number}")
    ItemFactory.create_batch(10, source=source)
    with django_assert_max_num_queries(8):
        member_client.get("/board")


def test_one_profile_holds_the_github_login_for_every_team(client, user):
    MembershipFactory(user=user)
    MembershipFactory(user=user)
    client.force_login(user)
    page = client.get("/rotation/mine/").content.decode()
    assert 'name="github_login"' in page

    bad = client.post("/rotation/mine/", {"github_login": "-not valid-", "phone": ""})
    assert bad.status_code == 400 and "GitHub" in bad.content.decode()
    assert Profile.objects.get(user=user).github_login == ""

    client.post("/rotation/mine/", {"github_login": "@camille-m", "phone": "+33 6 00"})
    saved = Profile.objects.filter(user=user).values_list("github_login", "phone").get()
    assert saved == ("camille-m", "+33 6 00")


def test_addsource_github(capsys):
    call_command(
        "addsource", "github", "--name", "asks", "--repo", "acme/app", "--repo", "acme/api"
    )
    source = Source.objects.get(name="asks")
    assert source.kind == "github"
    assert source.scopes == ["acme/app", "acme/api"]
    assert source.options == {"label": "vigie", "roadmap_label": "roadmap"}
    assert "issues labelled 'vigie' in acme/app, acme/api" in capsys.readouterr().out

    with pytest.raises(CommandError, match=r"^--repo: GitHub repositories, as owner/name\.$"):
        call_command("addsource", "github", "--name", "bad", "--repo", "not-a-repo")
    with pytest.raises(CommandError, match=r"^--roadmap-label: Two different labels"):
        call_command(
            "addsource", "github", "--name", "same", "--repo", "a/b", "--roadmap-label", "VIGIE"
        )
