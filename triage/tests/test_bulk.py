"""The bulk bar: one action on the selected rows, each item through its row's own code path,
each answered on its own row; a source that is down fails only its own items."""

import json
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from rotation.tests.factories import MembershipFactory, TeamFactory
from tests.fakes.sentry import FakeSentry
from triage.models import Action, Item, Source
from triage.sources.base import SourceError
from triage.sync import sync_source
from triage.tests.factories import ItemFactory, SourceFactory
from triage.views import MAX_BULK

pytestmark = pytest.mark.django_db

BOARD = reverse("triage:board")
BULK = reverse("triage:qualify-items")
HTMX = {"HX-Request": "true"}


def bulk(client, action, items, key="k1", **headers):
    data = {"action": action, "items": [item.pk for item in items], "key": key}
    return client.post(BULK, data, headers={**HTMX, **headers})


def rows_in(response):
    """The rows the answer swaps in place, by item id, with their text."""
    html = response.content.decode()
    found = re.findall(r'<tr id="item-(\d+)"[^>]*hx-swap-oob="true">(.*?)</tr>', html, re.S)
    return {
        int(pk): " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split()) for pk, body in found
    }


def test_the_board_has_a_checkbox_per_row_and_the_four_row_labels_above_the_list(
    member_client, source
):
    items = ItemFactory.create_batch(2, source=source)
    html = member_client.get(BOARD).content.decode()
    for item in items:
        assert (
            f'<input type="checkbox" name="items" value="{item.pk}" '
            f'form="bulk-form" aria-label="Sélectionner" '
            f'aria-describedby="item-{item.pk}-title">'
        ) in html
    bar = html[html.index('<form id="bulk-form"') : html.index("</form>", html.index("bulk-form"))]
    labels = re.findall(r'aria-describedby="bulk-count">([^<]+)</button>', bar)
    assert labels == ["Temporaire", "Bug", "Attendu", "Résolu"]
    assert 'id="bulk-all"' in html
    assert html.index('id="bulk-form"') < html.index('<table class="board">')


def test_someone_who_cannot_qualify_gets_no_checkbox_and_no_bar(user_client, item):
    item.source.team.share_board = True
    item.source.team.save()
    html = user_client.get(BOARD).content.decode()
    assert item.title in html
    assert 'name="items"' not in html and "bulk-form" not in html


def test_each_selected_item_is_qualified_and_its_row_answered_in_place(
    member_client, source, flaky_backend
):
    first, second, third = ItemFactory.create_batch(3, source=source)
    response = bulk(member_client, "temporary", [first, third])
    assert response.status_code == 200
    rows = rows_in(response)
    assert set(rows) == {first.pk, third.pk}
    assert all("Ignoré jusqu'à la prochaine occurrence." in text for text in rows.values())
    assert "Temporaire : appliqué à 2 éléments sur 2." in response.content.decode()
    states = dict(Item.objects.values_list("pk", "qualification"))
    assert states == {first.pk: "temporary", second.pk: "", third.pk: "temporary"}
    # One write upstream and one Action per item, as a click on each row would.
    assert [call[1] for call in flaky_backend.calls] == [first.external_id, third.external_id]
    assert Action.objects.filter(action="temporary", upstream_ok=True).count() == 2
    # The counts line refreshes itself right after.
    assert "board-changed" in json.loads(response.headers["HX-Trigger"])
    # A fresh key for the next bulk click.
    fresh = re.search(
        r'<input type="hidden" id="bulk-key" name="key" value="([^"]+)"', response.text
    )
    assert fresh and fresh.group(1) != "k1"


def test_a_refusal_is_shown_on_its_row_with_its_reason(member_client, source, flaky_backend):
    good, refused = ItemFactory.create_batch(2, source=source)
    # A request takes none of the bar's actions (its row has no checkbox; a forged post).
    Item.objects.filter(pk=refused.pk).update(kind=Item.Kind.REQUEST)
    response = bulk(member_client, "resolved", [good, refused])
    rows = rows_in(response)
    assert "Résolu." in rows[good.pk]
    assert "Cette source ne propose pas cette qualification." in rows[refused.pk]
    assert "1 en échec : voir sa ligne." in response.text
    html = response.text
    refused_row = html[html.index(f'<tr id="item-{refused.pk}"') :]
    refused_row = refused_row[: refused_row.index("</tr>")]
    assert "flash bad" in refused_row
    assert Item.objects.get(pk=good.pk).qualification == "resolved"
    assert Item.objects.get(pk=refused.pk).qualification == ""


def test_an_upstream_refusal_marks_its_item_failed_and_retryable(
    member_client, source, flaky_backend
):
    items = ItemFactory.create_batch(2, source=source)
    flaky_backend.fail = SourceError("Sentry: HTTP 503 upstream unavailable")
    response = bulk(member_client, "expected", items)
    rows = rows_in(response)
    for item in items:
        assert "HTTP 503 upstream unavailable" in rows[item.pk]
        assert "Réessayer" in rows[item.pk]
        # Still ticked: pressing Attendu again retries them.
        assert re.search(rf'value="{item.pk}" form="bulk-form"[^>]* checked>', response.text)
    assert set(Item.objects.values_list("writeback_state", flat=True)) == {"failed"}

    flaky_backend.fail = None
    response = bulk(member_client, "expected", items, key="k2")
    assert set(Item.objects.values_list("qualification", flat=True)) == {"expected"}
    assert "appliqué à 2 éléments sur 2" in response.text


def test_attendu_in_bulk_takes_the_threshold_given_else_each_team_s_own(
    member_client, member, source, flaky_backend
):
    source.team.expected_ignore_count = 3
    source.team.save()
    mine, other = ItemFactory(source=source), ItemFactory(source=SourceFactory(name="other"))
    MembershipFactory(team=other.source.team, user=member)
    bulk(member_client, "expected", [mine, other])
    assert dict(Item.objects.values_list("pk", "qualification_params")) == {
        mine.pk: {"ignoreCount": 3, "ignoreWindow": 10080},
        other.pk: {"ignoreCount": 10, "ignoreWindow": 10080},
    }
    data = {"action": "expected", "items": [mine.pk], "key": "k2", "ignore_window": "60"}
    member_client.post(BULK, data, headers=HTMX)
    assert Item.objects.get(pk=mine.pk).qualification_params == {
        "ignoreCount": 3,
        "ignoreWindow": 60,
    }


def test_a_double_click_does_one_thing(member_client, source, flaky_backend):
    items = ItemFactory.create_batch(3, source=source)
    bulk(member_client, "temporary", items)
    response = bulk(member_client, "temporary", items)  # the same key: the same click again
    assert len(flaky_backend.calls) == 3
    assert Action.objects.count() == 3
    assert all("Déjà fait." in text for text in rows_in(response).values())


def test_a_bug_raised_on_one_item_does_not_stop_the_others(
    member_client, source, flaky_backend, monkeypatch
):
    broken, fine = ItemFactory.create_batch(2, source=source)
    write = flaky_backend.set_status

    def set_status(self, item, status, details=None):
        if item.pk == broken.pk:
            raise TypeError("a bug")
        return write(self, item, status, details)

    monkeypatch.setattr(flaky_backend, "set_status", set_status)
    rows = rows_in(bulk(member_client, "resolved", [broken, fine]))
    assert "erreur inattendue (TypeError)" in rows[broken.pk]
    assert Item.objects.get(pk=fine.pk).qualification == "resolved"
    assert Item.objects.get(pk=broken.pk).writeback_state == "failed"


def test_only_members_of_the_source_team_qualify(user_client, item, flaky_backend):
    item.source.team.share_board = True
    item.source.team.save()
    rows = rows_in(bulk(user_client, "temporary", [item]))
    assert "Seuls les membres de l'équipe de la source" in rows[item.pk]
    assert flaky_backend.calls == []
    assert not Action.objects.exists()


def test_items_the_user_cannot_see_are_left_out(member_client, source, flaky_backend):
    mine = ItemFactory(source=source)
    hidden = ItemFactory(source=SourceFactory(name="elsewhere"))
    response = bulk(member_client, "temporary", [mine, hidden])
    assert set(rows_in(response)) == {mine.pk}
    assert Item.objects.get(pk=hidden.pk).qualification == ""
    assert hidden.title not in response.text


def test_nothing_selected_or_an_action_the_bar_does_not_offer_is_refused(member_client, item):
    response = bulk(member_client, "temporary", [])
    assert response.status_code == 422
    assert "Sélectionnez d'abord au moins un élément." in unescape(response.text)
    for action in ("undo", "take", "comment", "nonsense"):
        response = bulk(member_client, action, [item])
        assert response.status_code == 422
    too_many = {"action": "temporary", "items": list(range(1, MAX_BULK + 2)), "key": "k1"}
    response = member_client.post(BULK, too_many, headers=HTMX)
    assert response.status_code == 422 and f"au plus {MAX_BULK} éléments" in response.text
    assert not Action.objects.exists()


def test_the_bulk_post_needs_a_login_and_the_csrf_token(client, member, item, flaky_backend):
    response = bulk(client, "temporary", [item])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert bulk(client, "temporary", [item]).status_code == 403
    assert flaky_backend.calls == []
    page = client.get(BOARD)
    token = page.context["csrf_token"]
    response = bulk(client, "temporary", [item], **{"X-CSRFToken": str(token)})
    assert response.status_code == 200
    assert Item.objects.get().qualification == "temporary"


def test_without_javascript_the_results_come_back_as_messages(member_client, source, flaky_backend):
    good, refused = ItemFactory.create_batch(2, source=source)
    Item.objects.filter(pk=refused.pk).update(kind=Item.Kind.REQUEST)
    data = {"action": "temporary", "items": [good.pk, refused.pk], "key": "k1"}
    response = member_client.post(BULK, data, follow=True)
    texts = [str(message) for message in response.context["messages"]]
    assert "Temporaire : appliqué à 1 élément sur 2. 1 en échec : voir sa ligne." in texts
    assert any(refused.title[:80] in text and "ne propose pas" in text for text in texts)
    assert Item.objects.get(pk=good.pk).qualification == "temporary"


def test_a_single_row_action_also_refreshes_the_counts_line(member_client, item, flaky_backend):
    html = member_client.get(BOARD).content.decode()
    assert 'hx-trigger="every 30s, board-changed from:body"' in html
    response = member_client.post(
        reverse("triage:qualify-item", args=[item.pk]),
        {"action": "temporary", "key": "k1"},
        headers=HTMX,
    )
    assert "board-changed" in json.loads(response.headers["HX-Trigger"])


@pytest.mark.parametrize("count", [5, 20])
def test_the_bulk_post_takes_a_bounded_number_of_queries_per_item(
    member_client, source, flaky_backend, django_assert_max_num_queries, count
):
    items = ItemFactory.create_batch(count, source=source)
    # Once: session, user, memberships (visibility, then the qualifying teams for the writes
    # and for the rows), the items, the rows read again. Per item: the idempotency key, the
    # claim, the Action (savepoint, insert, release), its result, the item's new state.
    with django_assert_max_num_queries(7 + 7 * count):
        response = bulk(member_client, "temporary", items)
    assert len(rows_in(response)) == count


# Two Sentry organisations, one of them down: the other's items are qualified, the failed ones
# say why and can be sent again.


@pytest.fixture
def sentry_client(sentry_source, client, user):
    """A member of the team of the source on the fake Sentry, logged in."""
    sentry_source.team = TeamFactory()
    sentry_source.save()
    MembershipFactory(team=sentry_source.team, user=user)
    client.force_login(user)
    return client


@pytest.fixture
def down_sentry():
    fake = FakeSentry(org="other").start()
    yield fake
    fake.stop()


def test_a_source_down_fails_only_its_own_items_with_the_real_reason(
    sentry_source, fake_sentry, down_sentry, sentry_client, monkeypatch
):
    client = sentry_client
    monkeypatch.setattr("triage.sources.sentry.time.sleep", lambda seconds: None)
    monkeypatch.setenv("VIGIE_TEST_OTHER_TOKEN", down_sentry.token)
    other = Source.objects.create(
        kind="sentry",
        name="other",
        base_url=down_sentry.url,
        organization=down_sentry.org,
        scopes=["74"],
        environment="production",
        secret_env="VIGIE_TEST_OTHER_TOKEN",
        team=sentry_source.team,
    )
    up_issues = [fake_sentry.add_issue() for _ in range(2)]
    down_issues = [down_sentry.add_issue() for _ in range(2)]
    sync_source(sentry_source.pk)
    sync_source(other.pk)
    up = list(Item.objects.filter(source=sentry_source).order_by("pk"))
    down = list(Item.objects.filter(source=other).order_by("pk"))
    assert len(up) == len(down) == 2
    # Every answer a 503, however many times it is asked.
    down_sentry.script = [(503, {}, {"detail": "Sentry is down for maintenance"})] * 100

    response = bulk(client, "expected", [up[0], down[0], up[1], down[1]])
    rows = rows_in(response)
    for item, issue in zip(up, up_issues, strict=True):
        assert "Ignoré tant qu'il reste sous 10 occurrences" in rows[item.pk]
        assert fake_sentry.issues[issue["id"]]["status"] == "ignored"
    # The first item of the source that is down: written, failed, with Sentry's answer.
    assert "HTTP 503" in rows[down[0].pk] and "Sentry is down for maintenance" in rows[down[0].pk]
    assert "Réessayer" in rows[down[0].pk]
    # The next one is not sent to a source that just did not answer; it says why.
    assert (
        "Non envoyé : other n'a pas répondu pour un autre élément juste avant" in rows[down[1].pk]
    )
    assert "Sentry is down for maintenance" in rows[down[1].pk]
    assert not [
        query for _m, _p, query in down_sentry.requests if down[1].external_id in str(query)
    ]
    assert all(down_sentry.issues[i["id"]]["status"] == "unresolved" for i in down_issues)
    assert "appliqué à 2 éléments sur 4. 2 en échec : voir leurs lignes." in response.text
    assert dict(Item.objects.values_list("pk", "writeback_state")) == {
        up[0].pk: "",
        up[1].pk: "",
        down[0].pk: "failed",
        down[1].pk: "",
    }
    # Both stay ticked: back up, the same button sends them.
    for item in down:
        assert re.search(rf'value="{item.pk}" form="bulk-form"[^>]* checked>', response.text)
    down_sentry.script = []
    response = bulk(client, "expected", down, key="k2")
    assert set(Item.objects.values_list("qualification", flat=True)) == {"expected"}
    assert all(down_sentry.issues[i["id"]]["status"] == "ignored" for i in down_issues)


def test_a_refusal_about_one_item_does_not_hold_back_the_rest_of_its_source(
    sentry_source, fake_sentry, sentry_client
):
    issues = [fake_sentry.add_issue() for _ in range(2)]
    sync_source(sentry_source.pk)
    items = list(Item.objects.order_by("pk"))
    # Sentry's bulk update says yes to an id it did not touch: the read-back fails that one.
    fake_sentry.frozen.add(issues[0]["id"])
    rows = rows_in(bulk(sentry_client, "resolved", items))
    assert "prod ne l'a pas appliqué" in rows[items[0].pk]
    assert "Résolu." in rows[items[1].pk]


def test_bug_in_bulk_opens_one_github_issue_per_item_and_comments_each_on_sentry(
    sentry_source, fake_sentry, fake_github, sentry_client
):
    sentry_source.github_repository = "acme/app"
    sentry_source.save()
    issues = [fake_sentry.add_issue(title=f"NoMethodError {n}") for n in range(2)]
    sync_source(sentry_source.pk)
    items = list(Item.objects.order_by("pk"))
    rows = rows_in(bulk(sentry_client, "bug", items))
    bulk(sentry_client, "bug", items)  # a double click
    opened = fake_github.issues("acme/app")
    assert sorted(issue["title"].split("] ")[1] for issue in opened) == [
        "NoMethodError 0",
        "NoMethodError 1",
    ]
    for item, issue in zip(items, issues, strict=True):
        item.refresh_from_db()
        assert item.qualification == Item.Qualification.BUG
        assert "Issue GitHub ouverte." in rows[item.pk]
        (comment,) = fake_sentry.comments[issue["id"]]
        assert item.github_issue_url in str(comment)
