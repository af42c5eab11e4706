"""The rules page: listed with their hits in a bounded number of queries, written by the
team's members, edited and retired by its managers only; the board and the detail show the
rule that pre-qualified an item and undo it in one click; the handover lists them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from rotation import handover
from rotation.models import Membership
from rotation.tests.factories import MembershipFactory, TeamFactory
from tests.factories import UserFactory
from triage.models import Action, Item, QualificationRule, RuleHit
from triage.tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db

RULES = "/board/rules"


def make_rule(team, **fields):
    defaults = {"name": "404 du dehors", "pattern": "RecordNotFound", "qualification": "expected"}
    return QualificationRule.objects.create(team=team, **(defaults | fields))


@pytest.fixture
def manager_client(client, source):
    manager = UserFactory()
    MembershipFactory(team=source.team, user=manager, role=Membership.Role.MANAGER)
    client.force_login(manager)
    return client


def test_the_board_links_to_the_rules_page(member_client):
    response = member_client.get("/board")
    assert f'href="{RULES}"' in response.content.decode()


def test_the_rules_page_needs_a_login(client):
    response = client.get(RULES)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_rules_page_lists_hits_and_authors_in_a_bounded_number_of_queries(
    member_client, source, django_assert_max_num_queries
):
    author = UserFactory(first_name="Camille", last_name="Martin")
    now = timezone.now()
    for n in range(30):
        rule = make_rule(source.team, name=f"règle {n}", created_by=author, source=source)
        for days in (1, 20):
            RuleHit.objects.create(
                rule=rule, item=ItemFactory(source=source), at=now - timedelta(days=days)
            )
    make_rule(TeamFactory(), name="another team's")

    # session, user, memberships (shared with the watch badge), the rules with their hits and
    # authors, the badge's watches and overrides, and the form's choices: teams (twice: the
    # required select reads its first option) and sources. None of them per rule.
    with django_assert_max_num_queries(9):
        response = member_client.get(RULES)

    page = response.content.decode()
    assert page.count('class="rule"') == 30
    assert "another team's" not in page
    assert "Camille Martin" in page
    listed = response.context["rules"][0]
    assert (listed.hits_7d, listed.hits_30d) == (1, 2)


def test_a_member_creates_a_rule_and_an_invalid_regex_is_refused_in_french(member_client, source):
    data = {
        "name": "timeouts",
        "team": source.team.pk,
        "source": "",
        "kind": "",
        "field": "title",
        "match": "regex",
        "pattern": "Timeout(",
        "qualification": "temporary",
    }
    refused = member_client.post(RULES, data, HTTP_ACCEPT_LANGUAGE="fr")

    assert refused.status_code == 422
    assert "pas une expression régulière valide" in refused.content.decode()
    assert not QualificationRule.objects.exists()

    created = member_client.post(RULES, data | {"pattern": r"Timeout\("})

    assert created.status_code == 302
    rule = QualificationRule.objects.get()
    assert (rule.created_by, rule.team, rule.pattern) == (
        created.wsgi_request.user,
        source.team,
        r"Timeout\(",
    )


def test_a_rule_cannot_be_written_for_another_team(member_client, source):
    other = SourceFactory(name="elsewhere")
    data = {
        "name": "x",
        "team": other.team.pk,
        "field": "title",
        "match": "contains",
        "pattern": "x",
        "qualification": "temporary",
    }
    assert member_client.post(RULES, data).status_code == 422
    data |= {"team": source.team.pk, "source": other.pk}
    assert member_client.post(RULES, data).status_code == 422
    assert not QualificationRule.objects.exists()


def test_create_a_rule_from_an_item_fills_the_form_from_it(member_client, source):
    item = ItemFactory(
        source=source,
        kind="job",
        title="ActiveRecord::RecordNotFound: Couldn't find Lieu 12",
        payload={"error_class": "ActiveRecord::RecordNotFound"},
    )
    detail = member_client.get(f"/board/items/{item.pk}").content.decode()
    assert f'href="{RULES}?item={item.pk}"' in detail

    form = member_client.get(RULES, {"item": item.pk}).context["form"]

    assert form.initial["field"] == "exception_type"
    assert form.initial["pattern"] == "ActiveRecord::RecordNotFound"
    assert (form.initial["source"], form.initial["kind"]) == (source.pk, "job")


def test_a_member_sees_rules_read_only_and_cannot_edit_or_retire(member_client, source):
    rule = make_rule(source.team)

    page = member_client.get(RULES).content.decode()

    assert f"/board/rules/{rule.pk}/edit" not in page
    assert f"/board/rules/{rule.pk}/retire" not in page
    assert member_client.get(f"/board/rules/{rule.pk}/edit").status_code == 403
    assert member_client.post(f"/board/rules/{rule.pk}/retire").status_code == 403
    rule.refresh_from_db()
    assert rule.retired_at is None


def test_someone_outside_the_team_does_not_see_the_rule(user_client, source):
    rule = make_rule(source.team)
    assert rule.name not in user_client.get(RULES).content.decode()
    assert user_client.post(f"/board/rules/{rule.pk}/retire").status_code == 404


def test_a_manager_edits_and_retires_a_rule(manager_client, source):
    rule = make_rule(source.team)
    page = manager_client.get(RULES).content.decode()
    assert f"/board/rules/{rule.pk}/edit" in page

    edited = manager_client.post(
        f"/board/rules/{rule.pk}/edit",
        {
            "name": "404 publics",
            "source": source.pk,
            "kind": "issue",
            "field": "origin",
            "match": "regex",
            "pattern": "^Public::",
            "qualification": "expected",
        },
    )
    assert edited.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.source, rule.field, rule.team) == (
        "404 publics",
        source,
        "origin",
        source.team,
    )

    assert manager_client.post(f"/board/rules/{rule.pk}/retire").status_code == 302
    rule.refresh_from_db()
    assert rule.retired_at is not None and rule.retired_by is not None
    assert not QualificationRule.objects.applying_to(source).exists()
    assert "/retire" not in manager_client.get(RULES).content.decode()


def test_the_board_row_shows_the_rule_and_undoes_it_in_one_htmx_click(
    member_client, source, flaky_backend
):
    rule = make_rule(source.team, name="404 du dehors")
    item = ItemFactory(source=source, qualification="expected", rule=rule)
    RuleHit.objects.create(rule=rule, item=item)

    board = member_client.get("/board", {"state": "all"}).content.decode()
    assert "par la règle 404 du dehors" in board or "by rule 404 du dehors" in board
    assert 'value="undo"' in board

    row = member_client.post(
        f"/board/items/{item.pk}/qualify",
        {"action": "undo", "key": "k"},
        headers={"HX-Request": "true"},
    )

    assert row.status_code == 200
    item.refresh_from_db()
    assert (item.qualification, item.rule) == ("", None)
    assert "404 du dehors" in row.content.decode()  # the flash names the rule undone
    assert flaky_backend.calls == []  # nothing upstream: the rule wrote nothing there
    assert Action.objects.get(item=item).params["rule"] == rule.pk


def test_the_board_filters_the_items_a_rule_prequalified(member_client, source):
    rule = make_rule(source.team)
    by_rule = ItemFactory(source=source, qualification="expected", rule=rule)
    ItemFactory(source=source, qualification="expected")
    ItemFactory(source=source)

    response = member_client.get("/board", {"state": "by_rule"})

    assert [item.pk for item in response.context["page"]] == [by_rule.pk]


def test_the_board_pays_no_query_per_rule_marker(
    member_client, source, django_assert_max_num_queries
):
    rule = make_rule(source.team)
    for _ in range(20):
        ItemFactory(source=source, qualification="expected", rule=rule)
    with django_assert_max_num_queries(8):
        member_client.get("/board", {"state": "all"})


def test_the_handover_snapshot_holds_the_items_qualified_by_rule():
    source = SourceFactory(name="prod")
    start = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    rule = make_rule(source.team, name="404 du dehors")
    for n, undone in ((1, True), (2, False), (3, False)):
        RuleHit.objects.create(
            rule=rule,
            item=ItemFactory(source=source),
            at=start + timedelta(days=n),
            undone_at=start + timedelta(days=n, hours=1) if undone else None,
        )
    RuleHit.objects.create(rule=rule, item=ItemFactory(source=source), at=start - timedelta(days=1))
    make_rule(TeamFactory(), name="elsewhere")

    section = handover.build_snapshot(source.team, start, start + timedelta(days=14))["sections"][
        "qualified_by_rule"
    ]

    assert len(section["data"]) == 1
    assert section["data"][0]["title"].startswith("404 du dehors → ")
    assert "3" in str(section["data"][0]["detail"]) and "1" in str(section["data"][0]["detail"])
    assert Item.objects.count() == 4


def test_the_detail_shows_the_rule_and_undoes_it_without_javascript(member_client, source):
    rule = make_rule(source.team, name="<b>404</b>")
    item = ItemFactory(source=source, qualification="expected", rule=rule)
    detail_url = f"/board/items/{item.pk}"

    page = member_client.get(detail_url).content.decode()

    assert "&lt;b&gt;404&lt;/b&gt;" in page and "<b>404</b>" not in page
    assert 'class="detail-rule"' in page and 'value="undo"' in page

    response = member_client.post(
        f"{detail_url}/qualify", {"action": "undo", "key": "k"}, HTTP_REFERER=detail_url
    )

    assert (response.status_code, response["Location"]) == (302, detail_url)
    item.refresh_from_db()
    assert (item.qualification, item.rule) == ("", None)
    assert "dans Vigie seulement" in member_client.get(detail_url).content.decode()
