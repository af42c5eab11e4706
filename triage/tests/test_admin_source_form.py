"""The source admin asks for the chosen kind's fields, with its backend's words, and refuses
what the backend refuses (the check `addsource` runs), field by field, before saving."""

import pytest
from django.core.management import CommandError, call_command

from triage.models import Source

pytestmark = pytest.mark.django_db

ADD = "/admin/triage/source/add/"


def post(admin_client, kind, **fields):
    data = {
        "kind": kind,
        "name": "errors",
        "enabled": "on",
        "sync_interval_minutes": "5",
        "environment": "production",
        "secret_env": "TRACKER_TOKEN",
        **fields,
    }
    response = admin_client.post(ADD, data)
    errors = response.context["adminform"].form.errors if response.status_code == 200 else {}
    return response, errors


def test_a_new_source_asks_for_its_kind_first(admin_client):
    page = admin_client.get(ADD).content.decode()
    assert 'href="?kind=bugsink">Bugsink</a>' in page
    assert 'name="base_url"' not in page and 'name="scopes"' not in page
    assert 'name="options"' not in page  # no raw JSON box for any kind


def test_the_chosen_kind_brings_its_fields_and_its_help(admin_client):
    page = admin_client.get(f"{ADD}?kind=bugsink").content.decode()
    assert 'name="base_url"' in page and 'name="scopes"' in page
    assert 'name="organization"' not in page and 'name="environment"' in page
    assert "L’id du projet Bugsink de l’environnement de production" in page
    assert "Les issues dont le dernier événement nomme un autre environnement sont écartées" in page
    sentry = admin_client.get(f"{ADD}?kind=sentry").content.decode()
    assert 'name="organization"' in sentry
    assert "Slugs ou ids de projets Sentry" in sentry and "Bugsink" not in sentry.split("<form")[1]


def test_a_bugsink_source_with_a_bad_project_and_no_scheme_is_refused(admin_client):
    _response, errors = post(
        admin_client, "bugsink", base_url="127.0.0.1:9", scopes="not a project!"
    )
    assert errors["scopes"] == [
        "Un id de projet Bugsink, un nombre (son projet de production : Bugsink a un projet "
        "par environnement)."
    ]
    assert errors["base_url"][0] == "Donnez l’adresse entière, commençant par https:// ou http://."
    assert not Source.objects.exists()


def test_a_bugsink_source_needs_its_address(admin_client):
    _response, errors = post(admin_client, "bugsink", base_url="", scopes="3")
    assert errors["base_url"] == ["L’adresse de Bugsink, par exemple https://bugsink.example.org."]
    response, errors = post(admin_client, "bugsink", base_url="http://127.0.0.1:9", scopes="3")
    assert response.status_code == 302
    assert Source.objects.get().scopes == ["3"]


def test_a_bugsink_source_given_the_api_s_address_keeps_bugsink_s(admin_client):
    response, _errors = post(
        admin_client, "bugsink", base_url="http://127.0.0.1:9/api/canonical/0/", scopes="3"
    )
    assert response.status_code == 302
    assert Source.objects.get().base_url == "http://127.0.0.1:9"


def test_a_sentry_source_needs_its_organisation_and_project_slugs(admin_client):
    _response, errors = post(admin_client, "sentry", organization="", scopes="my project")
    assert errors["organization"] == [
        "Le slug de l’organisation, tel qu’il figure dans ses adresses Sentry."
    ]
    assert errors["scopes"] == ["Slugs ou ids de projets Sentry : lettres, chiffres, - et _."]


def test_a_github_source_needs_owner_name_repositories(admin_client):
    _response, errors = post(admin_client, "github", scopes="acme/app, nope")
    assert errors["scopes"] == ["Des dépôts GitHub, sous la forme propriétaire/nom."]


def test_a_github_source_sets_its_two_labels_in_fields_of_their_own(admin_client):
    page = admin_client.get(f"{ADD}?kind=github").content.decode()
    assert 'name="label" value="vigie"' in page and 'name="roadmap_label" value="roadmap"' in page
    _response, errors = post(
        admin_client, "github", scopes="acme/app", label="Vigie", roadmap_label="vigie"
    )
    assert errors["roadmap_label"] == [
        "Deux étiquettes différentes : celle de la roadmap remplace celle de la vigie."
    ]
    response, _errors = post(
        admin_client, "github", scopes="acme/app", label="astreinte", roadmap_label="plus-tard"
    )
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.options == {"label": "astreinte", "roadmap_label": "plus-tard"}
    page = admin_client.get(f"/admin/triage/source/{source.pk}/change/").content.decode()
    assert 'name="label" value="astreinte"' in page


def test_a_kind_that_needs_a_token_is_refused_without_one(admin_client):
    _response, errors = post(admin_client, "goodjob", secret_env="", base_url="")
    assert "secret_env" in errors
    assert not Source.objects.exists()


def test_addsource_refuses_the_same_project(monkeypatch):
    monkeypatch.setenv("BUGSINK_TOKEN", "t0ken")
    with pytest.raises(CommandError, match=r"^--project: One Bugsink project id, a number"):
        call_command(
            "addsource", "bugsink", "--name", "b", "--url", "http://127.0.0.1:9",
            "--project", "not a project!", "--token-env", "BUGSINK_TOKEN",
        )  # fmt: skip


def test_the_two_token_fields_have_distinct_labels(admin_client):
    html = admin_client.get(f"{ADD}?kind=sentry").content.decode()
    assert html.count("Jeton enregistré") + html.count("jeton enregistré") >= 1
    assert "nouveau jeton enregistré" in html.lower()


def test_the_admin_names_every_field_in_french(admin_client):
    page = admin_client.get(f"{ADD}?kind=sentry").content.decode()
    assert ">Équipe\xa0:</label>" in page or ">Équipe :</label>" in page
    source = Source.objects.create(kind="demo", name="demo")
    item = source.items.create(external_id="1", title="KeyError", short_id="APP-1")
    item.actions.create(action="comment", params={"comment": "vu"})
    page = admin_client.get(f"/admin/triage/item/{item.pk}/change/").content.decode()
    for label in ("Identifiant court", "Vu la dernière fois", "Écriture à la source", "Titre"):
        assert f"<label>{label}" in page, label
    action = item.actions.get()
    page = admin_client.get(f"/admin/triage/action/{action.pk}/change/").content.decode()
    assert "<label>Paramètres" in page and "<label>Utilisateur" in page
