"""An upstream that echoes our token in an error body: the token is stored, logged and shown
nowhere (source error, sync output, item write-back error, Action row, flash, banner, logs)."""

import contextlib
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.translation import gettext_noop

from triage.models import Item, Source
from triage.sources.base import SourceError, render_facts, secret_of
from triage.sync import sync_source
from triage.tests.factories import SourceFactory
from vigie.logging import REDACTED, redact_text, register_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def echoing_sentry(fake_sentry):
    def echo():
        # No "Bearer"/"token" prefix: only the registry of configured secrets can catch it.
        body = {"detail": f"bad request for key:{fake_sentry.token}; see docs"}
        fake_sentry.script.append((400, {}, body))

    return echo


def dump():
    out = io.StringIO()
    call_command("dumpdata", "triage", "vigie", stdout=out)
    return out.getvalue()


def test_a_token_echoed_by_sentry_appears_nowhere(
    sentry_source, fake_sentry, echoing_sentry, client, user, caplog
):
    from rotation.models import Team
    from rotation.tests.factories import MembershipFactory

    caplog.set_level(logging.DEBUG)
    token = fake_sentry.token
    team = Team.objects.create(slug="prod-team", name="Prod")
    Source.objects.filter(pk=sentry_source.pk).update(team=team)
    MembershipFactory(team=team, user=user)
    client.force_login(user)
    issue = fake_sentry.add_issue(title="boom")
    sync_source(sentry_source.pk)
    item = Item.objects.get(source=sentry_source, external_id=issue["id"])

    # A sync that fails: the source's error and the sync's output.
    echoing_sentry()
    out = io.StringIO()
    with contextlib.suppress(CommandError):  # a failed sync may exit non-zero
        call_command("sync", source=sentry_source.name, stdout=out, stderr=out)
    sentry_source.refresh_from_db()
    assert sentry_source.last_error and token not in sentry_source.last_error
    assert token not in out.getvalue()

    # A write-back that fails: flash message (no-JS), the row (HTMX), the stored error.
    echoing_sentry()
    response = client.post(
        f"/board/items/{item.pk}/qualify", {"action": "temporary", "key": "k1"}, follow=True
    )
    assert token not in response.content.decode()
    echoing_sentry()
    response = client.post(
        f"/board/items/{item.pk}/qualify",
        {"action": "temporary", "key": "k2"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "Temporaire" in html and token not in html
    item.refresh_from_db()
    assert item.writeback_error and token not in item.writeback_error

    # The failing-source banner and every stored row.
    Source.objects.filter(pk=sentry_source.pk).update(state=Source.State.ERROR)
    assert token not in client.get("/board").content.decode()
    assert token not in dump()
    assert REDACTED in dump()
    assert token not in caplog.text
    assert all(token not in str(record.__dict__) for record in caplog.records)


def test_registered_secrets_are_redacted_from_any_text():
    register_secret("https://hooks.slack.example/T000/B000/XXXXsecret")
    text = "POST https://hooks.slack.example/T000/B000/XXXXsecret: HTTP 404 no_service"
    assert redact_text(text) == f"POST {REDACTED}: HTTP 404 no_service"
    register_secret("abc")  # too short to be a secret: ordinary words are left alone
    assert redact_text("abc def") == "abc def"


def test_a_missing_secret_is_named_in_the_readers_language(monkeypatch):
    monkeypatch.delenv("VIGIE_TEST_BUGSINK_TOKEN", raising=False)
    source = SourceFactory.build(kind="bugsink", secret_env="VIGIE_TEST_BUGSINK_TOKEN")
    with pytest.raises(SourceError) as error:
        secret_of(source, gettext_noop("Bugsink token"))
    with translation.override("fr"):
        assert render_facts(error.value.facts()) == (
            "la variable d'environnement VIGIE_TEST_BUGSINK_TOKEN qui doit contenir le jeton "
            "Bugsink n'est pas définie"
        )
    with translation.override("en"):
        assert render_facts(error.value.facts()) == (
            "the environment variable VIGIE_TEST_BUGSINK_TOKEN holding the Bugsink token is not set"
        )
