"""A source kind is one backend module plus one registry line: nothing else to edit."""

import io

import pytest
from django.core.management import call_command

from triage.actions import ACTIONS
from triage.models import Item, Source
from triage.qualify import offered_actions
from triage.sources import REGISTRY
from triage.sources.base import SourceBackend

pytestmark = pytest.mark.django_db


class TrackerBackend(SourceBackend):
    label = "Tracker"
    fields = ("base_url", "secret_env", "secret")
    cli_help = "A tracker that only resolves."
    qualifications = ("resolved",)

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--url", required=True)

    @classmethod
    def configure(cls, source, options):
        source.base_url = options["url"]


@pytest.fixture
def tracker(monkeypatch):
    monkeypatch.setitem(REGISTRY, "tracker", f"{__name__}.TrackerBackend")


def test_a_registered_kind_is_a_choice_without_a_migration(tracker):
    assert ("tracker", "Tracker") in Source._meta.get_field("kind").choices
    source = Source(kind="tracker", name="t", base_url="https://t.example")
    source.full_clean()  # the choice validates
    out = io.StringIO()
    call_command("makemigrations", "triage", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_its_addsource_sub_command_comes_from_the_backend(tracker, monkeypatch):
    monkeypatch.setenv("TRACKER_TOKEN", "t0ken")
    out = io.StringIO()
    call_command(
        "addsource", "tracker", "--name", "t", "--url", "https://t.example",
        "--token-env", "TRACKER_TOKEN", stdout=out,
    )  # fmt: skip
    source = Source.objects.get(name="t")
    assert (source.kind, source.base_url, source.secret_env) == (
        "tracker",
        "https://t.example",
        "TRACKER_TOKEN",
    )
    assert "Added tracker source 't': https://t.example, synced every 5 min." in out.getvalue()


def test_the_board_offers_what_the_backend_declares(tracker):
    source = Source.objects.create(kind="tracker", name="t")
    assert offered_actions(source, Item.Kind.ISSUE) == ("resolved", "undo")
    assert offered_actions(source, Item.Kind.REQUEST) == ("undo",)


def test_every_board_action_is_in_one_registry():
    # The undo rule, the handover and the board's buttons read the same names.
    assert set(ACTIONS) == {
        "temporary", "bug", "expected", "resolved", "take", "done", "too_big", "requeue",
        "link", "assign", "comment", "undo",
    }  # fmt: skip
    assert all(ACTIONS[name].undo for name in ACTIONS if ACTIONS[name].qualification)
