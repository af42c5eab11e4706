from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from rotation.models import Team
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage import qualify
from triage.models import Action, Item
from triage.qualify import QualifyError, qualify_item
from triage.sources.base import SourceError
from triage.tests.factories import ActionFactory, ItemFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "item-1"}


def post(client, item, action, key="k1", **extra):
    return client.post(
        reverse("triage:qualify-item", args=[item.pk]),
        {"action": action, "key": key, **extra},
        headers=HTMX,
    )


@pytest.mark.parametrize(
    ("action", "status", "details", "qualification"),
    [
        ("temporary", "ignored", {"ignoreCount": 1}, Item.Qualification.TEMPORARY),
        (
            "expected",
            "ignored",
            {"ignoreCount": 10, "ignoreWindow": 10080},
            Item.Qualification.EXPECTED,
        ),
        ("resolved", "resolved", None, Item.Qualification.RESOLVED),
    ],
)
def test_one_click_writes_upstream_swaps_the_row_and_logs_the_action(
    member_client, member, item, flaky_backend, action, status, details, qualification
):
    response = post(member_client, item, action)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="item-{item.pk}" data-item-id="{item.pk}"')
    assert flaky_backend.calls == [("set_status", item.external_id, status, details)]
    item.refresh_from_db()
    assert item.qualification == qualification
    assert item.upstream_status == status
    assert item.qualification_params == (details or {})
    assert item.qualified_by == member and item.qualified_at
    assert item.writeback_state == Item.Writeback.NONE
    logged = Action.objects.get(item=item)
    assert (logged.user, logged.action, logged.upstream_ok) == (member, action, True)
    assert logged.params == (details or {})
    assert logged.upstream_response["status"] == status


def test_expected_uses_the_team_default_threshold(member_client, item, flaky_backend):
    item.source.team.expected_ignore_count = 3
    item.source.team.expected_ignore_window = 60
    item.source.team.save()
    post(member_client, item, "expected")
    assert flaky_backend.calls[0][3] == {"ignoreCount": 3, "ignoreWindow": 60}


def test_expected_takes_the_threshold_the_vigie_picked(member_client, item, flaky_backend):
    post(member_client, item, "expected", ignore_count="50", ignore_window="1440")
    assert flaky_backend.calls[0][3] == {"ignoreCount": 50, "ignoreWindow": 1440}
    item.refresh_from_db()
    assert item.qualification_params == {"ignoreCount": 50, "ignoreWindow": 1440}


@pytest.mark.parametrize(("window", "upstream"), [("20160", (5, 10080)), ("43200", (2, 10080))])
def test_a_window_longer_than_the_upstreams_is_held_upstream_as_a_week_with_a_scaled_count(
    member_client, item, flaky_backend, window, upstream
):
    # 10 in 2 weeks: two weeks cover it, so one of them holds at least 5 and the upstream
    # reopens no later than Vigie's threshold is reached; Vigie counts the rest.
    response = post(member_client, item, "expected", ignore_window=window)
    assert response.status_code == 200
    count, longest = upstream
    assert flaky_backend.calls[0][3] == {"ignoreCount": count, "ignoreWindow": longest}
    assert Action.objects.get().params == {"ignoreCount": 10, "ignoreWindow": int(window)}
    assert "Vigie compte le reste" in response.content.decode()


def test_a_window_longer_than_vigies_memory_is_refused(member_client, item, flaky_backend):
    response = post(member_client, item, "expected", ignore_window="43201")
    assert response.status_code == 422
    assert "30 jours" in response.content.decode()
    assert flaky_backend.calls == []
    assert not Action.objects.exists()


def test_the_window_limit_is_the_backends_own(member_client, item, flaky_backend, monkeypatch):
    # A week is Sentry's cap: an upstream without one (jobs, qualified locally) takes longer.
    monkeypatch.setattr(flaky_backend, "max_ignore_window", None)
    assert post(member_client, item, "expected", ignore_window="20160").status_code == 200
    assert flaky_backend.calls[0][3] == {"ignoreCount": 10, "ignoreWindow": 20160}


def test_undo_goes_back_to_unresolved_and_unqualified(member_client, item, flaky_backend):
    post(member_client, item, "temporary", key="a")
    response = post(member_client, item, "undo", key="b")
    assert response.status_code == 200
    assert flaky_backend.calls[-1] == ("set_status", item.external_id, "unresolved", None)
    item.refresh_from_db()
    assert (item.qualification, item.upstream_status, item.qualified_by) == ("", "unresolved", None)
    assert Action.objects.get(action="temporary").undone
    assert post(member_client, item, "undo", key="c").status_code == 422  # nothing left to undo


def test_undo_says_an_opened_github_issue_stays(member_client, item, flaky_backend):
    url = "https://github.example/acme/app/issues/9"
    Item.objects.filter(pk=item.pk).update(qualification="bug", github_issue_url=url)
    ActionFactory(item=item, action="bug")
    html = post(member_client, item, "undo").content.decode()
    assert "L&#x27;issue GitHub reste ouverte" in html
    item.refresh_from_db()
    assert item.github_issue_url == url and item.qualification == ""


def test_a_failed_write_back_says_so_offers_a_retry_and_changes_nothing_locally(
    member_client, item, flaky_backend
):
    flaky_backend.fail = SourceError("Sentry answered HTTP 502")
    html = post(member_client, item, "resolved", key="a").content.decode()

    assert html.count("Sentry answered HTTP 502") == 1  # said once, not again below
    assert ">Réessayer</button>" in html
    item.refresh_from_db()
    assert item.qualification == "" and item.upstream_status == "unresolved"
    assert item.writeback_state == Item.Writeback.FAILED
    failed = Action.objects.get()
    assert failed.upstream_ok is False and "502" in failed.upstream_response["error"]
    board = member_client.get(reverse("triage:board")).content.decode()
    assert "Sentry answered HTTP 502" in board and ">Réessayer</button>" in board

    flaky_backend.fail = None
    html = post(member_client, item, "retry", key="b").content.decode()
    assert ">Réessayer</button>" not in html
    item.refresh_from_db()
    assert item.qualification == "resolved" and item.writeback_state == ""
    assert [a.action for a in Action.objects.order_by("pk")] == ["resolved", "resolved"]


def test_an_upstream_that_does_not_confirm_is_a_failure(member_client, item, flaky_backend):
    # Sentry's bulk update answers success for an issue it did not touch: the read-back tells.
    flaky_backend.confirm = "unresolved"
    html = post(member_client, item, "temporary").content.decode()
    assert "toujours unresolved" in html
    item.refresh_from_db()
    assert item.qualification == "" and item.writeback_state == Item.Writeback.FAILED


def test_a_failure_is_stored_as_facts_and_worded_in_the_readers_language(
    member_client, item, flaky_backend
):
    flaky_backend.confirm = "unresolved"
    post(member_client, item, "temporary")  # from the French board
    item.refresh_from_db()
    assert item.writeback_failure == {
        "action": "temporary",
        "error": {
            "code": "%(source)s did not apply it: the issue is still %(status)s.",
            "params": {"source": "prod", "status": "unresolved"},
        },
        "permanent": False,
    }
    with translation.override("en"):
        assert item.writeback_error == (
            "Temporary: the write-back failed: prod did not apply it: the issue is still "
            "unresolved."
        )
    with translation.override("fr"):
        assert item.writeback_error == (
            "Temporaire : l'écriture a échoué : prod ne l'a pas appliqué : l'issue est toujours "
            "unresolved."
        )


def test_a_double_click_writes_once(member_client, item, flaky_backend):
    first = post(member_client, item, "temporary", key="same")
    second = post(member_client, item, "temporary", key="same")
    assert first.status_code == second.status_code == 200
    assert len(flaky_backend.calls) == 1
    assert Action.objects.count() == 1


def test_a_write_already_running_on_the_item_refuses_a_second_one(member, item, flaky_backend):
    Item.objects.filter(pk=item.pk).update(
        writeback_state=Item.Writeback.PENDING, writeback_started_at=timezone.now()
    )
    with pytest.raises(QualifyError, match="déjà en cours"):
        qualify_item(item, member, "resolved", {}, "other-tab")
    assert flaky_backend.calls == []


def test_a_stale_claim_does_not_block_the_item_forever(member, item, flaky_backend):
    Item.objects.filter(pk=item.pk).update(
        writeback_state=Item.Writeback.PENDING, writeback_started_at=item.first_seen
    )
    assert qualify_item(item, member, "resolved", {}, "k").ok


def test_outsiders_get_403_with_a_message(client, item, flaky_backend):
    outsider = UserFactory()
    MembershipFactory(user=outsider)  # a member of another team
    inactive = UserFactory()
    MembershipFactory(user=inactive, team=item.source.team, left_on=date(2026, 1, 1))
    for user in (outsider, inactive):
        client.force_login(user)
        response = post(client, item, "resolved")
        assert response.status_code == 403
        assert "Seuls les membres de l&#x27;équipe" in response.content.decode()
        response = client.post(
            reverse("triage:qualify-item", args=[item.pk]), {"action": "resolved"}
        )
        assert response.status_code == 403
    assert flaky_backend.calls == []
    assert not Action.objects.exists()


def test_superusers_qualify_any_source(client, item, flaky_backend):
    client.force_login(UserFactory(is_superuser=True))
    assert post(client, item, "resolved").status_code == 200
    item.refresh_from_db()
    assert item.qualification == "resolved"


def test_anonymous_posts_go_to_the_login(client, item):
    response = post(client, item, "resolved")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_posts_need_the_csrf_token(member, item, flaky_backend):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert post(client, item, "resolved").status_code == 403
    assert flaky_backend.calls == []


def test_without_javascript_a_click_redirects_back_with_a_message(
    member_client, item, flaky_backend
):
    board = reverse("triage:board") + "?state=all"
    response = member_client.post(
        reverse("triage:qualify-item", args=[item.pk]),
        {"action": "temporary", "key": "x"},
        headers={"Referer": f"http://testserver{board}"},
    )
    assert response.status_code == 302 and response["Location"].endswith(board)
    page = member_client.get(board).content.decode()
    assert "Ignoré jusqu&#x27;à la prochaine occurrence." in page


def test_unknown_actions_are_refused(member_client, item, flaky_backend):
    assert post(member_client, item, "delete").status_code == 422
    assert post(member_client, item, "retry").status_code == 422  # nothing failed


def test_qualifying_an_item_that_came_back_clears_the_flag(member_client, source, flaky_backend):
    item = ItemFactory(source=source, qualification="temporary", came_back=True)
    post(member_client, item, "expected")
    item.refresh_from_db()
    assert not item.came_back and item.qualification == "expected"


def test_only_the_qualifications_the_backend_offers_are_shown_and_accepted(
    member_client, item, flaky_backend, monkeypatch
):
    monkeypatch.setattr(flaky_backend, "qualifications", ("resolved",))
    html = member_client.get(reverse("triage:board")).content.decode()
    assert ">Résolu</button>" in html and ">Annuler</button>" not in html  # nothing to undo
    assert ">Bug</button>" not in html and ">Temporaire</button>" not in html
    assert post(member_client, item, "temporary").status_code == 422
    assert flaky_backend.calls == []


def test_an_unexpected_error_frees_the_item_and_marks_the_row(member, item, flaky_backend):
    flaky_backend.fail = RuntimeError("bug in a backend")
    with pytest.raises(RuntimeError):
        qualify_item(item, member, "resolved", {}, "k")
    item.refresh_from_db()
    assert item.writeback_state == Item.Writeback.FAILED
    assert "RuntimeError" in item.writeback_error
    assert Action.objects.get().upstream_ok is False


def test_an_item_deleted_upstream_offers_nothing_to_write_and_refuses_a_post(member_client, item):
    Item.objects.filter(pk=item.pk).update(upstream_status="gone")
    board = member_client.get(reverse("triage:board"), {"state": "all"}).content.decode()
    row = board.split(f'data-item-id="{item.pk}"')[1].split("</tr>")[0]
    assert "Supprimée à la source : plus rien à y écrire." in row
    assert "<button" not in row
    response = post(member_client, item, "resolved")
    assert response.status_code == 422
    assert "Supprimée à la source" in response.content.decode()
    assert not Action.objects.exists()


def test_a_click_on_an_upstream_that_hangs_fails_within_its_budget(
    client, user, sentry_source, monkeypatch
):
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # takes the connection, never answers
    listener.listen()
    sentry_source.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    sentry_source.team = Team.objects.create(slug="hang", name="Hang")
    sentry_source.save()
    item = ItemFactory(source=sentry_source)
    MembershipFactory(team=sentry_source.team, user=user)
    client.force_login(user)
    monkeypatch.setattr(qualify, "WEB_BUDGET", 0.3)
    # No retry after the read that used the budget up: the row says it was not written.
    monkeypatch.setattr("triage.sources.sentry.time.sleep", pytest.fail)
    try:
        html = post(client, item, "resolved").content.decode()
    finally:
        listener.close()
    assert "l&#x27;écriture a échoué" in html and "ReadTimeout" in html
    assert ">Réessayer</button>" in html
