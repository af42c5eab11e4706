"""**Annuler** only where there is something to undo; **Je prends** on a request someone else
holds asks first (HTMX and without JavaScript), and undo gives it back to them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rotation.models import Profile
from triage.models import Action, Item
from triage.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(source, member):
    """A request Dominique holds; the member's GitHub login is camille-m."""
    Profile.objects.filter(user=member).update(github_login="camille-m")
    return ItemFactory(
        source=source,
        kind=Item.Kind.REQUEST,
        external_id="acme/app#7",
        upstream_status="open",
        assignee="dominique",
        payload={"repo": "acme/app", "number": 7, "labels": ["vigie"]},
    )


def click(client, item, action, key, htmx=True, **extra):
    headers = {"HX-Request": "true"} if htmx else {}
    data = {"action": action, "key": key, **extra}
    return client.post(f"/board/items/{item.pk}/qualify", data, headers=headers)


def row(html, item):
    start = html.index(f'id="item-{item.pk}"')
    return html[start : html.index("</tr>", start)]


def test_annuler_is_offered_only_after_a_confirmed_qualification(member_client, source):
    fresh = ItemFactory(source=source)
    qualified = ItemFactory(source=source, qualification=Item.Qualification.RESOLVED)
    Action.objects.create(item=qualified, action="resolved", upstream_ok=True)
    failed = ItemFactory(source=source, qualification=Item.Qualification.RESOLVED)
    Action.objects.create(item=failed, action="resolved", upstream_ok=False)
    html = member_client.get("/board", {"state": "all"}).content.decode()
    assert ">Annuler</button>" not in row(html, fresh)
    assert ">Annuler</button>" in row(html, qualified)
    assert ">Annuler</button>" not in row(html, failed)
    assert not fresh.can_be_undone and qualified.can_be_undone and not failed.can_be_undone


def test_the_undo_rule_costs_no_query_per_row(member_client, source):
    for _n in range(5):
        item = ItemFactory(source=source, qualification=Item.Qualification.RESOLVED)
        Action.objects.create(item=item, action="resolved", upstream_ok=True)
    member_client.get("/board", {"state": "all"})
    with CaptureQueriesContext(connection) as five:
        member_client.get("/board", {"state": "all"})
    for _n in range(5):
        item = ItemFactory(source=source, qualification=Item.Qualification.RESOLVED)
        Action.objects.create(item=item, action="resolved", upstream_ok=True)
    with CaptureQueriesContext(connection) as ten:
        member_client.get("/board", {"state": "all"})
    assert len(five) == len(ten)


def test_je_prends_on_a_held_request_asks_first_then_undo_gives_it_back(member_client, held):
    response = click(member_client, held, "take", "k1")
    assert response.status_code == 200
    html = response.content.decode()
    assert "@dominique" in html and 'value="take_over"' in html
    held.refresh_from_db()
    assert held.assignee == "dominique" and not held.actions.exists()

    response = click(member_client, held, "take_over", "k2")
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.assignee == "camille-m" and held.qualification == Item.Qualification.TAKEN
    assert held.actions.get().params == {"assignee": "camille-m", "previous": ["dominique"]}

    response = click(member_client, held, "undo", "k3")
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.assignee == "dominique" and held.qualification == ""


def test_the_confirm_step_works_without_javascript(member_client, held):
    response = click(member_client, held, "take", "k1", htmx=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert "@dominique" in html and 'name="action" value="take_over"' in html
    response = click(member_client, held, "take_over", "k1", htmx=False)
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.assignee == "camille-m"
