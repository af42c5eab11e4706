"""One profile per person: edited on "My watches", read by every team, paged through."""

import pytest
from django.urls import reverse

from rotation.models import Membership, Profile
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.com/services/T000/B000/abcdefSECRETwxyz"
ROUTING_KEY = "R0UT1NGKEYR0UT1NGKEYR0UT1NG9f3e"
MINE = "/rotation/mine/"


@pytest.fixture
def camille(client):
    user = UserFactory(username="camille", first_name="Camille", last_name="Martin")
    MembershipFactory(user=user)
    MembershipFactory(user=user)  # a second team: still one profile
    client.force_login(user)
    return user


def _save(client, **fields):
    data = {"phone": "+33 6 11", "chat_handle": "@camille", "github_login": "", **fields}
    return client.post(MINE, data)


def test_the_form_speaks_french_and_saves_the_paging_contacts(client, camille):
    page = client.get(MINE).content.decode()
    for label in ("Téléphone", "Sujet ntfy", "Webhook Slack ou Mattermost", "Clé de routage"):
        assert label in page
    assert "par e-mail" in page

    response = _save(
        client,
        ntfy_topic="https://ntfy.sh/camille-astreinte",
        slack_webhook=WEBHOOK,
        pagerduty_routing_key=ROUTING_KEY,
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=camille)
    assert (profile.phone, profile.ntfy_topic) == ("+33 6 11", "https://ntfy.sh/camille-astreinte")
    assert (profile.slack_webhook, profile.pagerduty_routing_key) == (WEBHOOK, ROUTING_KEY)


def test_a_saved_secret_shows_only_its_end_and_an_empty_field_keeps_it(client, camille):
    _save(client, slack_webhook=WEBHOOK, pagerduty_routing_key=ROUTING_KEY)
    page = client.get(MINE).content.decode()
    assert WEBHOOK not in page and ROUTING_KEY not in page
    assert "SECRET" not in page
    assert "Enregistré : ••••wxyz. Laisser vide pour le garder." in page
    assert "••••9f3e" in page

    _save(client, phone="+33 6 22")  # secrets left empty
    profile = Profile.objects.get(user=camille)
    assert profile.phone == "+33 6 22"
    assert (profile.slack_webhook, profile.pagerduty_routing_key) == (WEBHOOK, ROUTING_KEY)

    _save(client, remove_slack_webhook="on")
    profile.refresh_from_db()
    assert (profile.slack_webhook, profile.pagerduty_routing_key) == ("", ROUTING_KEY)


def test_a_bad_contact_is_refused_in_french_and_nothing_changes(client, camille):
    _save(client, slack_webhook=WEBHOOK)
    response = _save(client, ntfy_topic="pas une adresse", slack_webhook="")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Saisissez une URL valide." in page
    assert WEBHOOK not in page
    assert Profile.objects.get(user=camille).ntfy_topic == ""


def test_someone_in_no_team_yet_still_has_a_profile(client):
    user = UserFactory()
    client.force_login(user)
    assert "Vous n'êtes encore dans aucune équipe" in client.get(MINE).content.decode()
    _save(client)
    assert Profile.of(user).chat_handle == "@camille"


def test_profile_of_reads_the_one_already_fetched_or_creates_it(django_assert_num_queries):
    user = UserFactory()
    assert not Profile.objects.filter(user=user).exists()
    created = Profile.of(user)
    assert created.pk is not None and Profile.objects.get(user=user) == created
    with django_assert_num_queries(0):
        assert Profile.of(user) == created
    MembershipFactory(user=user)
    members = Membership.objects.select_related("user__profile")
    with django_assert_num_queries(1):
        assert members.get(user=user).profile == created


def test_the_members_page_shows_each_persons_contacts(client, camille):
    Profile.objects.filter(user=camille).update(phone="+33 6 99", chat_handle="@cam")
    team = camille.memberships.first().team
    page = client.get(reverse("rotation:members", args=[team.slug])).content.decode()
    assert "+33 6 99" in page and "@cam" in page


def test_destinations_are_the_email_then_each_contact_set():
    notify = pytest.importorskip("vigie.notify")
    user = UserFactory(first_name="Camille", last_name="Martin", email="camille@example.org")
    profile = Profile.of(user)
    assert profile.destinations() == [
        notify.Destination("email", {"to": "camille@example.org"}, "Camille Martin · e-mail")
    ]
    profile.ntfy_topic = "https://ntfy.example.org/camille"
    profile.slack_webhook = WEBHOOK
    profile.pagerduty_routing_key = ROUTING_KEY
    kinds = [(d.kind, d.config) for d in profile.destinations()]
    assert kinds == [
        ("email", {"to": "camille@example.org"}),
        ("ntfy", {"url": "https://ntfy.example.org/camille"}),
        ("slack", {"url": WEBHOOK}),
        ("pagerduty", {"routing_key": ROUTING_KEY}),
    ]
    user.email = ""
    assert [d.kind for d in profile.destinations()] == ["ntfy", "slack", "pagerduty"]


def test_the_admin_shows_the_secrets_masked_and_the_team_with_its_members(client, camille):
    Profile.objects.filter(user=camille).update(slack_webhook=WEBHOOK, phone="+33 6 44")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    profile = Profile.objects.get(user=camille)
    page = client.get(reverse("admin:rotation_profile_change", args=[profile.pk])).content.decode()
    assert "••••wxyz" in page and "SECRET" not in page and "+33 6 44" in page
    team = camille.memberships.first().team
    response = client.get(reverse("admin:rotation_team_change", args=[team.pk]))
    assert response.status_code == 200
    assert 'name="memberships-0-left_on"' in response.content.decode()


@pytest.mark.parametrize(
    ("field", "url", "said"),
    [
        (
            "ntfy_topic",
            "http://169.254.169.254/latest/meta-data",
            "Utilisez une adresse https:// : les notifications ne partent que chiffrées.",
        ),
        (
            "ntfy_topic",
            "https://169.254.169.254/latest/meta-data",
            "169.254.169.254 est une adresse lien-local : les notifications ne partent que",
        ),
        (
            "slack_webhook",
            "https://127.0.0.1:5432/x",
            "127.0.0.1 est une adresse de bouclage : les notifications ne partent que",
        ),
        ("slack_webhook", "https://localhost/x", "localhost est une adresse de bouclage"),
    ],
)
def test_a_contact_url_inside_the_network_is_refused(client, camille, settings, field, url, said):
    settings.VIGIE_NOTIFY_ALLOW_PRIVATE = False  # as in production
    response = _save(client, **{field: url})
    assert response.status_code == 400
    assert said in response.content.decode()
    assert getattr(Profile.objects.get(user=camille), field) == ""


def test_a_public_https_contact_url_is_saved_in_production(client, camille, settings):
    settings.VIGIE_NOTIFY_ALLOW_PRIVATE = False
    assert (
        _save(client, ntfy_topic="https://ntfy.sh/camille", slack_webhook=WEBHOOK).status_code
        == 302
    )
    assert Profile.objects.get(user=camille).ntfy_topic == "https://ntfy.sh/camille"
