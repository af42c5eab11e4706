import re

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_pages_need_a_login(client):
    for url in ["/", "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_login_page_is_in_french_by_default(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Connexion" in html
    assert "Nom d’utilisateur" in html or "Nom d'utilisateur" in html


def test_an_english_browser_still_gets_french(client):
    html = client.get("/accounts/login/", headers={"Accept-Language": "en-US,en;q=0.9"}).content
    assert '<html lang="fr">' in html.decode()


def test_english_is_available(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html


def test_login_home_and_logout(client):
    user = UserFactory(username="camille")
    response = client.post("/accounts/login/", {"username": "camille", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert user.get_full_name() in home.content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_says_so(client):
    UserFactory(username="camille")
    response = client.post("/accounts/login/", {"username": "camille", "password": "nope"})
    assert response.status_code == 200
    assert "ne correspondent pas" in response.content.decode()


def test_a_wrong_password_gives_one_message(client):
    UserFactory(username="camille")
    response = client.post("/accounts/login/", {"username": "camille", "password": "nope"})
    page = response.content.decode()
    assert page.count("ne correspondent pas") == 1
    # Django's own wording of the same refusal is not shown as well.
    assert "errorlist" not in page
    assert "sensible à la casse" not in page


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer new passphrase",
            "new_password2": "a much longer new passphrase",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a much longer new passphrase")


def test_posts_need_the_csrf_token():
    UserFactory(username="camille")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "camille", "password": PASSWORD})
    assert response.status_code == 403


def test_pages_carry_a_csp_with_a_nonce_on_the_htmx_script(user_client):
    response = user_client.get("/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "default-src 'self'" in policy
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "htmx" in response.content.decode()


def test_home_shows_vigie_health(user_client):
    html = user_client.get("/").content.decode()
    assert "jamais vu" in html  # the worker has not run in this test
