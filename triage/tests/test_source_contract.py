"""A source kind is one backend module plus one registry line: nothing else to edit."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from rotation.models import Profile
from rotation.tests.factories import MembershipFactory
from triage.actions import ACTIONS
from triage.issue_report import issue_body
from triage.models import Action, Item, Source
from triage.qualify import offered_actions
from triage.sources import REGISTRY, backend_class
from triage.sources.base import Account, SourceBackend, UpstreamState
from triage.tests.factories import ItemFactory

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


class DeskBackend(TrackerBackend):
    """A tracker that assigns its own accounts and takes comments, as Sentry does."""

    label = "Desk"
    assign_account = Account("desk", "Desk account", "Your Desk login: who Desk assigns.")
    can_comment = True
    members = ("ada",)
    # The upstream, in memory: what was written there.
    assigned = {}
    comments = {}

    def has_member(self, account):
        return account in self.members

    def assign(self, item, account):
        self.assigned[item.external_id] = account
        return UpstreamState(item.upstream_status, {"assignee": self.assigned[item.external_id]})

    def comment(self, item, text, *, retrying=False):
        self.comments.setdefault(item.external_id, []).append(text)
        return {"text": text}


@pytest.fixture
def tracker(monkeypatch):
    monkeypatch.setitem(REGISTRY, "tracker", f"{__name__}.TrackerBackend")


@pytest.fixture
def desk(monkeypatch):
    monkeypatch.setitem(REGISTRY, "desk", f"{__name__}.DeskBackend")
    monkeypatch.setattr(DeskBackend, "assigned", {})
    monkeypatch.setattr(DeskBackend, "comments", {})


def test_a_registered_kind_is_a_choice_without_a_migration(tracker):
    assert ("tracker", "Tracker") in Source._meta.get_field("kind").choices
    source = Source(kind="tracker", name="t", base_url="https://t.example", secret_env="T")
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


def test_a_kind_that_assigns_and_comments_needs_nothing_else(desk, client, user):
    membership = MembershipFactory(user=user)
    source = Source.objects.create(kind="desk", name="helpdesk", team=membership.team)
    item = ItemFactory(source=source)
    client.force_login(user)

    # The profile asks for the account the backend assigns, and checks it with the backend.
    assert "Desk account" in client.get("/rotation/mine/").content.decode()
    data = {"phone": "", "chat_handle": "", "github_login": "", "desk_account": "nobody"}
    response = client.post("/rotation/mine/", data)
    assert "Desk ne connaît aucun membre nobody dans helpdesk." in response.content.decode()
    data["desk_account"] = "ada"
    assert client.post("/rotation/mine/", data).status_code == 302
    assert Profile.objects.get(user=user).accounts == {"desk": "ada"}

    detail = client.get(f"/board/items/{item.pk}").content.decode()
    assert 'value="assign"' in detail and 'name="comment"' in detail
    url = f"/board/items/{item.pk}/qualify"
    client.post(url, {"action": "assign", "key": "k1"}, headers={"HX-Request": "true"})
    assert DeskBackend.assigned == {item.external_id: "ada"}
    client.post(url, {"action": "comment", "key": "k2", "comment": "Seen, fixing it."})
    (comment,) = DeskBackend.comments[item.external_id]
    assert comment.startswith("Seen, fixing it.")
    item.refresh_from_db()
    assert item.assignee == "ada"
    assert sorted(Action.objects.filter(item=item).values_list("action", "upstream_ok")) == [
        ("assign", True),
        ("comment", True),
    ]
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_a_kind_that_cannot_assign_asks_for_no_account(tracker, client, user):
    client.force_login(user)
    page = client.get("/rotation/mine/").content.decode()
    assert "Compte Sentry" in page  # Sentry's, and the demo's that imitates it
    assert 'name="tracker_account"' not in page


def test_every_board_action_is_in_one_registry():
    # The undo rule, the handover and the board's buttons read the same names.
    assert set(ACTIONS) == {
        "temporary", "bug", "expected", "resolved", "take", "done", "too_big", "requeue",
        "link", "assign", "comment", "undo",
    }  # fmt: skip
    assert all(ACTIONS[name].undo for name in ACTIONS if ACTIONS[name].qualification)


@pytest.mark.parametrize("kind", list(REGISTRY))
def test_a_backend_declares_only_actions_and_capabilities_the_registry_knows(kind):
    backend = backend_class(kind)
    # A typo here would silently offer nothing.
    assert set(backend.qualifications) <= set(ACTIONS), kind
    for action in ACTIONS.values():
        if action.needs:
            # Declared on the base class (an attribute or a property of the configuration),
            # so a backend that says nothing offers nothing, and a misspelt one is caught.
            assert hasattr(SourceBackend, action.needs), action.needs
            assert hasattr(backend, action.needs), (kind, action.needs)


def test_every_qualification_an_item_can_have_is_set_by_an_action_that_undoes():
    set_by = {action.qualification: action for action in ACTIONS.values() if action.qualification}
    for value, _label in Item.Qualification.choices:
        if value:
            assert value in set_by, value
            assert set_by[value].undo is not None, value


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("sentry", "Ouvrir dans Sentry"),
        ("bugsink", "Ouvrir dans Bugsink"),
        ("goodjob", "Ouvrir dans le tableau de bord de GoodJob"),
        ("djangoq", "Ouvrir dans l’admin Django"),
        ("github", "Ouvrir sur GitHub"),
    ],
)
def test_an_items_upstream_link_says_where_it_leads(kind, label, client, user):
    item = ItemFactory(
        source__kind=kind, source__name=f"{kind}-source", permalink="https://tracker.example/1"
    )
    MembershipFactory(team=item.source.team, user=user)
    client.force_login(user)
    page = client.get(f"/board/items/{item.pk}", headers={"accept-language": "fr"}).content
    assert f'target="_blank">{label}</a>'.encode() in page
    assert "Ouvrir à la source".encode() not in page


@pytest.mark.parametrize(("kind", "shown"), [("sentry", "56"), ("bugsink", "—"), ("goodjob", "—")])
def test_users_nobody_counted_are_shown_unknown_not_zero(kind, shown, client, user):
    item = ItemFactory(
        source__kind=kind, source__name=f"{kind}-users", user_count=56 * (kind == "sentry")
    )
    MembershipFactory(team=item.source.team, user=user)
    client.force_login(user)
    board = client.get(reverse("triage:board")).content.decode()
    assert f'<span id="item-{item.pk}-users">{shown}</span>' in board
    detail = client.get(f"/board/items/{item.pk}").content.decode()
    assert f"<dt>utilisateurs</dt><dd>{shown}</dd>" in detail
    assert f"**Users:** {shown}" in issue_body(item, {}, "<!-- vigie -->")
