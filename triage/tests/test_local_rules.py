"""Local qualification rules: refused when the pattern is not a regex, applied by the sync to
new items only, undone in one click, retired, counted."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from rotation.tests.factories import MembershipFactory, TeamFactory
from triage import qualify
from triage.models import Action, Item, QualificationRule, RuleHit, RuleSubjects, exception_type
from triage.sync import sync_source
from triage.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def make_rule(team, **fields):
    defaults = {
        "name": "404 venues du dehors",
        "field": QualificationRule.Field.TITLE,
        "match": QualificationRule.Match.CONTAINS,
        "pattern": "recordnotfound",
        "qualification": QualificationRule.Verdict.EXPECTED,
    }
    return QualificationRule.objects.create(team=team, **(defaults | fields))


def test_a_pattern_that_is_not_a_regex_is_refused_with_the_reason(team):
    rule = QualificationRule(
        team=team, name="cassée", match="regex", pattern="Timeout(", qualification="temporary"
    )
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert "pas une expression régulière valide" in str(refused.value.message_dict["pattern"])
    assert "missing )" in str(refused.value.message_dict["pattern"])


def test_the_same_pattern_in_plain_text_is_accepted_and_matched_literally(team):
    rule = QualificationRule(
        team=team, name="texte", match="contains", pattern="Timeout(", qualification="temporary"
    )
    rule.full_clean()
    assert rule.matches(RuleSubjects("issue", "net::TIMEOUT(30s) reading", "", {}))
    assert not rule.matches(RuleSubjects("issue", "Timeout 30s", "", {}))


def test_the_exception_type_is_sentrys_metadata_else_a_jobs_error_class_else_the_title_head():
    sentry = {"metadata": {"type": "ActiveRecord::RecordNotFound", "value": "Couldn't find"}}
    assert exception_type("x", sentry) == "ActiveRecord::RecordNotFound"
    assert exception_type("x", {"error_class": "Net::ReadTimeout"}) == "Net::ReadTimeout"
    assert exception_type("KeyError: 'id'", {}) == "KeyError"
    assert exception_type("ActiveRecord::RecordNotFound: x", {}) == "ActiveRecord::RecordNotFound"
    assert exception_type("a message", {}) == ""
    rule = QualificationRule(
        field="exception_type", match="regex", pattern=r"^ActiveRecord::RecordNotFound$"
    )
    assert rule.matches(RuleSubjects("issue", "x", "", sentry))
    wrapped = "ActiveJob::DeserializationError: ActiveRecord::RecordNotFound"
    assert not rule.matches(RuleSubjects("issue", wrapped, "", {}))


def test_a_huge_title_is_only_matched_on_its_start():
    rule = QualificationRule(field="title", match="contains", pattern="needle")
    huge = "x" * 1_000_000
    assert rule.matches(RuleSubjects("issue", "needle " + huge, "", {}))
    assert not rule.matches(RuleSubjects("issue", huge + " needle", "", {}))


def test_a_rule_for_jobs_does_not_take_a_web_request_issue():
    rule = QualificationRule(field="title", match="contains", pattern="RecordNotFound", kind="job")
    assert rule.matches(RuleSubjects("job", "ActiveRecord::RecordNotFound: x", "", {}))
    wrapped = "ActiveJob::DeserializationError: ActiveRecord::RecordNotFound"
    assert not rule.matches(RuleSubjects("issue", wrapped, "", {}))


def test_the_sync_prequalifies_new_matching_items_and_leaves_the_others(fake_sentry, team):
    rule = make_rule(team)
    make_rule(
        team, name="jobs only", kind="job", field="title", pattern="PG::", qualification="bug"
    )
    fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")
    fake_sentry.add_issue(title="PG::ConnectionBad: could not connect", culprit="db")

    sync_source(team.sources.get().pk)

    found = Item.objects.get(title__startswith="ActiveRecord")
    assert (found.qualification, found.rule, found.qualified_by) == ("expected", rule, None)
    # A web-request issue: the jobs-only rule does not take it.
    assert Item.objects.get(title__startswith="PG::").qualification == ""
    assert list(RuleHit.objects.values_list("rule", "item")) == [(rule.pk, found.pk)]


def test_only_new_items_are_prequalified_not_those_already_mirrored(fake_sentry, team):
    issue = fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")
    sync_source(team.sources.get().pk)
    make_rule(team)
    fake_sentry.occur(issue["id"], times=3)

    sync_source(team.sources.get().pk)

    assert Item.objects.get().qualification == ""
    assert not RuleHit.objects.exists()


def test_new_occurrences_of_a_prequalified_item_do_not_make_it_come_back(fake_sentry, team):
    make_rule(team)
    issue = fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")
    sync_source(team.sources.get().pk)
    fake_sentry.occur(issue["id"], at=timezone.now() + timedelta(minutes=5), times=3)

    sync_source(team.sources.get().pk)

    item = Item.objects.get()
    assert (item.qualification, item.came_back, item.tally) == ("expected", False, 15)


def test_a_retired_rule_is_no_longer_applied(fake_sentry, team, user):
    make_rule(team).retire(user)
    fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")

    sync_source(team.sources.get().pk)

    assert Item.objects.get().qualification == ""
    assert not RuleHit.objects.exists()


def test_the_first_matching_rule_wins_and_a_source_rule_before_a_team_rule(fake_sentry, team):
    make_rule(team, name="team-wide", qualification="temporary")
    own = make_rule(team, name="this source", source=team.sources.get())
    fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")

    sync_source(team.sources.get().pk)

    assert Item.objects.get().rule == own


def test_a_rule_of_another_team_does_not_apply(fake_sentry, team):
    make_rule(TeamFactory())
    fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")

    sync_source(team.sources.get().pk)

    assert Item.objects.get().qualification == ""


def test_undo_restores_the_unqualified_state_locally_and_records_it(fake_sentry, team, user):
    rule = make_rule(team)
    MembershipFactory(team=team, user=user)
    fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")
    sync_source(team.sources.get().pk)
    item = Item.objects.get()
    assert item.can_be_undone
    fake_sentry.requests.clear()

    outcome = qualify.qualify_item(item, user, "undo", idempotency_key="k1")

    assert outcome.ok and rule.name in outcome.message
    item.refresh_from_db()
    assert (item.qualification, item.rule, item.qualified_at) == ("", None, None)
    assert fake_sentry.requests == []  # the rule wrote nothing upstream: nothing to take back
    undo = Action.objects.get(item=item)
    assert (undo.action, undo.user, undo.params) == (
        "undo",
        user,
        {"undoes": "expected", "rule": rule.pk},
    )
    assert RuleHit.objects.get().undone_by == user
    with pytest.raises(qualify.QualifyError):
        qualify.qualify_item(item, user, "undo", idempotency_key="k2")


def test_qualifying_by_hand_takes_the_item_from_the_rule(flaky_backend, source, member):
    rule = make_rule(source.team)
    item = ItemFactory(source=source, qualification="expected", rule=rule)

    outcome = qualify.qualify_item(item, member, "temporary", idempotency_key="k")

    assert outcome.ok
    item.refresh_from_db()
    assert (item.qualification, item.rule, item.qualified_by) == ("temporary", None, member)


def test_hits_are_counted_over_the_last_7_and_30_days(source):
    rule = make_rule(source.team)
    now = timezone.now()
    for days in (1, 6, 8, 29, 31):
        RuleHit.objects.create(
            rule=rule, item=ItemFactory(source=source), at=now - timedelta(days=days)
        )
    RuleHit.objects.filter(at__lt=now - timedelta(days=7)).filter(
        at__gt=now - timedelta(days=10)
    ).update(undone_at=now)

    with time_machine.travel(now, tick=False):
        counted = QualificationRule.objects.with_hits(timezone.now()).get()

    assert (counted.hits_7d, counted.hits_30d, counted.undone_30d) == (2, 4, 1)


def test_manage_py_sync_applies_the_rules_and_says_how_many(fake_sentry, team):
    from io import StringIO

    from django.core.management import call_command

    make_rule(team)
    fake_sentry.add_issue(title="ActiveRecord::RecordNotFound: Couldn't find Rdv 7")
    fake_sentry.add_issue(title="PG::ConnectionBad: could not connect")
    out = StringIO()

    call_command("sync", stdout=out)

    assert out.getvalue().strip().endswith(", 1 pre-qualified by rules")
    assert Item.objects.filter(rule__isnull=False).count() == 1
