"""Login throttling (django-axes): five failures lock the account and the address for 15
minutes, with one clear French message; the admin unlocks; force_login is unaffected."""

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN = "/accounts/login/"


@pytest.fixture
def camille(db):
    user = UserFactory(username="camille")
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client, username, password, address="192.0.2.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username, times, address="192.0.2.1"):
    for _n in range(times):
        assert attempt(client, username, "wrong", address).status_code in (200, 429)


def test_five_failures_lock_the_account_even_with_the_right_password(camille):
    client = Client()
    fail(client, "camille", 5)
    response = attempt(client, "camille", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Trop d’échecs de connexion" in html and "15 minutes" in html
    assert html.count('class="bad"') == 1
    assert "_auth_user_id" not in client.session
    # From another address too: the account is locked, not only the address.
    assert attempt(Client(), "camille", PASSWORD, address="198.51.100.7").status_code == 429


def test_an_address_trying_many_accounts_is_locked(camille):
    client = Client()
    for n in range(5):
        fail(client, f"someone{n}", 1, address="203.0.113.9")
    assert attempt(client, "camille", PASSWORD, address="203.0.113.9").status_code == 429
    # Elsewhere, camille logs in.
    assert attempt(Client(), "camille", PASSWORD, address="198.51.100.7").status_code == 302


def test_the_lock_ends_after_fifteen_minutes(camille):
    with time_machine.travel("2026-12-01 10:00Z", tick=False) as clock:
        client = Client()
        fail(client, "camille", 5)
        assert attempt(client, "camille", PASSWORD).status_code == 429
        clock.shift(16 * 60)
        assert attempt(client, "camille", PASSWORD).status_code == 302


def test_an_admin_unlocks_by_deleting_the_attempts(camille, admin_client):
    fail(Client(), "camille", 5)
    attempts = AccessAttempt.objects.filter(username="camille")
    assert attempts.exists()
    assert admin_client.get("/admin/axes/accessattempt/").status_code == 200
    response = admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )
    assert response.status_code == 302
    assert attempt(Client(), "camille", PASSWORD).status_code == 302


def test_force_login_is_not_throttled(client, camille):
    fail(Client(), "camille", 5)
    client.force_login(camille)
    assert client.get("/").status_code == 200
