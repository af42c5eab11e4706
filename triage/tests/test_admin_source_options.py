"""The source admin refuses JSON the database cannot store, with a message (never a 500)."""

import pytest

from triage.models import Source

pytestmark = pytest.mark.django_db

ADD = "/admin/triage/source/add/"


def post(admin_client, options):
    return admin_client.post(
        ADD,
        {
            "kind": "demo",
            "name": "demo",
            "enabled": "on",
            "sync_interval_minutes": "5",
            "scopes": "",
            "environment": "production",
            "options": options,
        },
    )


@pytest.mark.parametrize(
    "options",
    [
        "[" * 5000 + "]" * 5000,
        '{"a": ' * 30 + "1" + "}" * 30,
        '{"limit": 1e999}',
        '{"limit": NaN}',
        '{"name": "a\\u0000b"}',
        '{"a\\u0000": 1}',
        '{"name": "\\ud800"}',
    ],
    ids=["deep-5000", "deep-30", "inf", "nan", "nul", "nul-key", "surrogate"],
)
def test_unstorable_options_are_refused_with_a_message(admin_client, options):
    response = post(admin_client, options)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["options"]
    assert not Source.objects.exists()


def test_ordinary_options_are_saved(admin_client):
    response = post(admin_client, '{"limit": 1.5, "tags": ["a", {"b": null}]}')
    assert response.status_code == 302
    assert Source.objects.get().options == {"limit": 1.5, "tags": ["a", {"b": None}]}


def test_the_two_token_fields_have_distinct_labels(admin_client):
    html = admin_client.get(ADD).content.decode()
    assert html.count("Jeton enregistré") + html.count("jeton enregistré") >= 1
    assert "nouveau jeton enregistré" in html.lower()
