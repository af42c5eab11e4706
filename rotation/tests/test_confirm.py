import pytest
from django.test import Client
from django.urls import reverse

from rotation.models import ApiToken, Membership, Override, Shift
from rotation.tests.conftest import paris
from rotation.tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def _confirm_then_do(user, url):
    """A GET asks and changes nothing; the POST of its form (CSRF included) does it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(url)
    assert page.status_code == 200
    assert '<form method="post">' in page.content.decode()
    assert client.post(url).status_code == 403  # no CSRF token: refused
    token = page.context["csrf_token"]
    return page, client.post(url, {"csrfmiddlewaretoken": str(token)})


def test_removing_a_member_asks_first(rotation, members, manager):
    url = reverse("rotation:remove-member", args=["core", members[2].pk])
    page, done = _confirm_then_do(manager.user, url)
    assert f"Retirer {members[2].name} de la rotation ?" in page.content.decode()
    assert done.status_code == 302
    assert not Membership.objects.get(pk=members[2].pk).active


def test_removing_an_override_asks_first(rotation, members, manager):
    override = Override.objects.create(
        team=rotation, membership=members[2], start=paris(2026, 12, 1, 9), end=paris(2026, 12, 2, 9)
    )
    url = reverse("rotation:delete-override", args=["core", override.pk])
    _page, done = _confirm_then_do(manager.user, url)
    assert done.status_code == 302 and not Override.objects.exists()


def test_regenerating_asks_first(rotation, manager):
    url = reverse("rotation:generate-shifts", args=["core"])
    # A newcomer: regenerating hands them future watches, so it shows when it happened.
    newcomer = MembershipFactory(team=rotation)
    client = Client()
    client.force_login(manager.user)
    assert client.get(url).status_code == 200
    assert not Shift.objects.filter(membership=newcomer).exists()  # the GET did nothing
    _page, done = _confirm_then_do(manager.user, url)
    assert done.status_code == 302 and Shift.objects.filter(membership=newcomer).exists()


def test_revoking_a_token_asks_first(members):
    token, _secret = ApiToken.objects.issue(members[0].user, "bot")
    url = reverse("rotation:revoke-api-token", args=[token.pk])
    _page, done = _confirm_then_do(members[0].user, url)
    token.refresh_from_db()
    assert done.status_code == 302 and token.revoked


def test_a_new_feed_address_asks_first(rotation, members, manager):
    camille = members[0]
    old = camille.feed_token
    url = reverse("rotation:regenerate-feed-token", args=["core"])
    page, done = _confirm_then_do(camille.user, f"{url}?scope=me")
    assert "Donner une nouvelle adresse à votre flux ?" in page.content.decode()
    camille.refresh_from_db()
    assert done.status_code == 302 and camille.feed_token != old


def test_only_managers_give_the_team_feed_a_new_address(client, rotation, members, manager):
    old = rotation.feed_token
    url = reverse("rotation:regenerate-feed-token", args=["core"]) + "?scope=team"
    client.force_login(members[0].user)
    assert client.post(url).status_code == 302
    rotation.refresh_from_db()
    assert rotation.feed_token == old
    _page, done = _confirm_then_do(manager.user, url)
    rotation.refresh_from_db()
    assert done.status_code == 302 and rotation.feed_token != old
    # No scope, no feed: nothing is done, and no success is claimed.
    assert client.post(reverse("rotation:regenerate-feed-token", args=["core"])).status_code == 404
