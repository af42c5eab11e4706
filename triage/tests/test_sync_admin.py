import pytest

from tests.factories import UserFactory
from triage.models import Item, Source, SyncRun

pytestmark = pytest.mark.django_db

SECRET = "sntrys_stored_secret_value_42"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def source():
    return Source.objects.create(
        kind="sentry", name="prod", organization="acme", scopes=["74"], secret=SECRET
    )


def form_data(source, **changes):
    data = {
        "kind": source.kind,
        "name": source.name,
        "sync_interval_minutes": 5,
        "base_url": "https://sentry.io",
        "organization": source.organization,
        "scopes": "74",
        "environment": "production",
        "secret_env": "",
        "secret": "",
        "github_repository": "",
        "enabled": "on",
    }
    data.update(changes)
    return data


def test_the_stored_token_is_never_shown_back(admin_client, source):
    page = admin_client.get(f"/admin/triage/source/{source.pk}/change/")
    assert page.status_code == 200
    assert SECRET not in page.content.decode()


def test_a_blank_token_keeps_the_stored_one_and_a_new_one_replaces_it(admin_client, source):
    url = f"/admin/triage/source/{source.pk}/change/"
    assert admin_client.post(url, form_data(source)).status_code == 302
    source.refresh_from_db()
    assert source.secret == SECRET
    admin_client.post(url, form_data(source, secret="sntrys_new"))
    source.refresh_from_db()
    assert source.secret == "sntrys_new"
    # Without a token left, Sentry cannot be read: forgetting it needs a variable named.
    response = admin_client.post(url, form_data(source, clear_secret="on"))
    assert response.context["adminform"].form.errors["secret_env"] == [
        "Nommez la variable d’environnement qui contient le jeton ou le DSN, ou enregistrez-en "
        "un ci-dessous."
    ]
    admin_client.post(url, form_data(source, clear_secret="on", secret_env="SENTRY_TOKEN"))
    source.refresh_from_db()
    assert source.secret == ""


def test_item_action_and_syncrun_pages_load(admin_client, source):
    item = Item.objects.create(source=source, external_id="1", title="<script>alert(1)</script>")
    item.actions.create(action="resolved")
    SyncRun.objects.create(source=source, started_at=item.actions.get().created_at)
    for model in ("item", "action", "syncrun"):
        page = admin_client.get(f"/admin/triage/{model}/")
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.content.decode()
    assert admin_client.get(f"/admin/triage/item/{item.pk}/change/").status_code == 200
    assert admin_client.get("/admin/triage/item/add/").status_code == 403


def test_projects_are_typed_one_per_line_or_comma_separated(admin_client, source):
    url = f"/admin/triage/source/{source.pk}/change/"
    scopes = "74, rdv-insertion\n\n  rdv-mairie \n74"
    assert admin_client.post(url, form_data(source, scopes=scopes)).status_code == 302
    source.refresh_from_db()
    assert source.scopes == ["74", "rdv-insertion", "rdv-mairie"]
    page = admin_client.get(url).content.decode()
    assert "74\nrdv-insertion\nrdv-mairie</textarea>" in page


def test_a_refused_field_keeps_the_token_just_typed(admin_client, source):
    url = f"/admin/triage/source/{source.pk}/change/"
    response = admin_client.post(url, form_data(source, secret="sntrys_typed", scopes="a b"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["scopes"]
    assert 'value="sntrys_typed"' in response.content.decode()
    assert SECRET not in response.content.decode()  # the stored one still never
    source.refresh_from_db()
    assert source.secret == SECRET


def test_the_form_shows_the_fields_of_the_sources_kind(admin_client, source):
    sentry = admin_client.get(f"/admin/triage/source/{source.pk}/change/").content.decode()
    assert 'name="organization"' in sentry and 'name="scopes"' in sentry
    jobs = Source.objects.create(kind="goodjob", name="jobs", secret_env="DSN")
    page = admin_client.get(f"/admin/triage/source/{jobs.pk}/change/").content.decode()
    assert 'name="base_url"' in page and 'name="secret_env"' in page
    assert 'name="organization"' not in page and 'name="scopes"' not in page
