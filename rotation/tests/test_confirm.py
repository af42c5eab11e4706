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
