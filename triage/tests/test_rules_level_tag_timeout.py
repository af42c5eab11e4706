"""Rules on the level and on tags (from the list payload, else read from Sentry for new items
only, when a tag rule asks, a bounded number of times), and a pattern that backtracks without
end: it matches nothing, the sync finishes and the rules page warns."""

import pytest
from django.core.exceptions import ValidationError
from structlog.testing import capture_logs

from rotation.models import Membership
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage import models, rules
from triage.models import Item, QualificationRule, RuleSubjects
from triage.sources import backend_for
from triage.sync import sync_source

pytestmark = pytest.mark.django_db

RULES = "/board/rules"


def make_rule(team, **fields):
    defaults = {"name": "règle", "match": "contains", "qualification": "expected"}
    return QualificationRule.objects.create(team=team, **(defaults | fields))


def tag_requests(fake_sentry):
    return [path for method, path, _query in fake_sentry.requests if "/tags/" in path]


def test_a_level_rule_takes_the_items_of_that_level_only():
    rule = QualificationRule(field="level", match="regex", pattern=r"^(info|warning)$")
    assert rule.matches(RuleSubjects("issue", "Deprecation", "", {}, level="warning"))
    assert not rule.matches(RuleSubjects("issue", "Deprecation", "", {}, level="error"))


def test_a_tag_rule_matches_any_value_of_its_key_and_not_an_item_without_it():
    rule = QualificationRule(field="tag", tag_key="transaction", pattern="webhooks#")
    subjects = RuleSubjects("issue", "x", "", {}, tags={"transaction": "WebHooks#create"})
    assert rule.matches(subjects)
    assert not rule.matches(RuleSubjects("issue", "x", "", {}, tags={"url": "webhooks#"}))
    several = RuleSubjects("issue", "x", "", {}, lookup=lambda key: ["Home#index", "Webhooks#x"])
    assert rule.matches(several)


def test_a_tag_rule_needs_its_key_and_another_field_drops_it(team):
    rule = QualificationRule(
        team=team, name="sans clé", field="tag", tag_key="  ", pattern="x", qualification="bug"
    )
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert "tag_key" in refused.value.message_dict
    rule.field = "title"
    rule.tag_key = "transaction"
    rule.full_clean()
    assert rule.tag_key == ""


def test_the_level_and_the_listed_handled_tag_match_without_another_request(fake_sentry, team):
    handled = make_rule(team, name="gérées", field="tag", tag_key="handled", pattern="yes")
    info = make_rule(team, name="info", field="level", pattern="info", qualification="temporary")
    fake_sentry.add_issue(title="Deprecation: x", level="info", unhandled=True)
    fake_sentry.add_issue(title="Caught: y", level="error", unhandled=False)
    fake_sentry.add_issue(title="Crash: z", level="error", unhandled=True)

    sync_source(team.sources.get().pk)

    taken = dict(Item.objects.values_list("title", "rule"))
    assert taken == {"Deprecation: x": info.pk, "Caught: y": handled.pk, "Crash: z": None}
    assert tag_requests(fake_sentry) == []


def test_a_tag_the_list_lacks_is_read_from_sentry_for_new_items_only(fake_sentry, team):
    old = fake_sentry.add_issue(
        title="Old: mirrored before the rule", culprit="WebhooksController#create"
    )
    sync_source(team.sources.get().pk)
    rule = make_rule(team, field="tag", tag_key="transaction", pattern="Webhooks")
    fake_sentry.occur(old["id"])
    new = fake_sentry.add_issue(
        title="New: from the webhook", _tags={"transaction": ["WebhooksController#create"]}
    )
    other = fake_sentry.add_issue(title="New: elsewhere", _tags={"url": ["https://x/"]})
    fake_sentry.requests.clear()

    sync_source(team.sources.get().pk)

    assert Item.objects.get(external_id=new["id"]).rule == rule
    assert Item.objects.get(external_id=other["id"]).rule is None
    assert Item.objects.get(external_id=old["id"]).rule is None
    # One read per new item, of the key the rule names; none for the item already mirrored.
    assert sorted(tag_requests(fake_sentry)) == sorted(
        f"/api/0/organizations/acme/issues/{issue['id']}/tags/transaction/"
        for issue in (new, other)
    )


def test_tags_are_not_read_when_no_tag_rule_asks_or_an_earlier_rule_took_the_item(
    fake_sentry, team
):
    make_rule(team, name="par titre", field="title", pattern="RecordNotFound")
    make_rule(team, name="par transaction", field="tag", tag_key="transaction", pattern="Rdvs")
    fake_sentry.add_issues(3)  # RecordNotFound titles: the title rule, tried first, takes them

    sync_source(team.sources.get().pk)

    assert Item.objects.filter(rule__name="par titre").count() == 3
    assert tag_requests(fake_sentry) == []


def test_tag_reads_are_bounded_per_sync(fake_sentry, team, monkeypatch):
    monkeypatch.setattr(rules, "TAG_LOOKUPS", 2)
    make_rule(team, field="tag", tag_key="transaction", pattern="RdvsController")
    fake_sentry.add_issues(5, title="Boom: x")

    run = sync_source(team.sources.get().pk)

    assert (run.created, run.error) == (5, "")
    assert len(tag_requests(fake_sentry)) == 2
    assert Item.objects.filter(rule__isnull=False).count() == 2
    # The three left unread are tried again by the next syncs, two reads a sync, oldest first;
    # one the vigie qualified in between is not.
    assert Item.objects.filter(rules_pending=True).count() == 3
    by_hand = Item.objects.filter(rules_pending=True).order_by("-mirrored_at", "-pk").first()
    Item.objects.filter(pk=by_hand.pk).update(qualification=Item.Qualification.TEMPORARY)
    fake_sentry.requests.clear()

    assert sync_source(team.sources.get().pk).prequalified == 2

    assert len(tag_requests(fake_sentry)) == 2
    assert Item.objects.filter(rule__isnull=False).count() == 4
    assert Item.objects.get(pk=by_hand.pk).rule is None
    fake_sentry.requests.clear()
    assert sync_source(team.sources.get().pk).prequalified == 0
    assert tag_requests(fake_sentry) == []


def test_sentry_answers_no_value_for_a_tag_the_issue_does_not_have(fake_sentry, sentry_source):
    issue = fake_sentry.add_issue(title="Boom", _tags={"transaction": ["A#b", "C#d"]})
    backend = backend_for(sentry_source)
    assert backend.tag_values(issue["id"], "transaction") == ["A#b", "C#d"]
    assert backend.tag_values(issue["id"], "browser") == []


def test_a_pattern_that_backtracks_without_end_matches_nothing_and_flags_the_rule(
    fake_sentry, team, client
):
    # The bound is what makes the sync finish: a fraction of a second per item.
    assert 0 < models.REGEX_TIMEOUT <= 1
    stuck = make_rule(team, name="catastrophe", field="title", match="regex", pattern=r"(a+)+b")
    after = make_rule(team, name="ensuite", field="title", pattern="aaaa", qualification="bug")
    fake_sentry.add_issues(3, title="a" * 5000)

    with capture_logs() as logs:
        run = sync_source(team.sources.get().pk)

    assert (run.created, run.error) == (3, "")
    timeouts = [log for log in logs if log["event"] == "rule_regex_timeout"]
    assert [(log["rule"], log["rule_name"]) for log in timeouts] == [(stuck.pk, "catastrophe")]
    # Left out after its first timeout: the rule after it takes every item.
    assert Item.objects.filter(rule=after).count() == 3
    stuck.refresh_from_db()
    assert stuck.timeouts == 1 and stuck.last_timeout_at is not None

    manager = UserFactory()
    MembershipFactory(team=team, user=manager, role=Membership.Role.MANAGER)
    client.force_login(manager)
    page = client.get(RULES, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "rule-warning" in page and "trop de temps" in page

    edited = {
        "name": stuck.name,
        "source": "",
        "kind": "",
        "field": "title",
        "tag_key": "",
        "match": "regex",
        "pattern": r"a+b",
        "qualification": "expected",
    }
    assert client.post(f"{RULES}/{stuck.pk}/edit", edited).status_code == 302
    stuck.refresh_from_db()
    assert (stuck.timeouts, stuck.last_timeout_at) == (0, None)
    assert "rule-warning" not in client.get(RULES).content.decode()


def test_the_form_asks_the_tag_key_in_french(member_client, source):
    data = {
        "name": "webhooks",
        "team": source.team.pk,
        "source": "",
        "kind": "",
        "field": "tag",
        "tag_key": "",
        "match": "contains",
        "pattern": "Webhooks",
        "qualification": "expected",
    }
    refused = member_client.post(RULES, data, HTTP_ACCEPT_LANGUAGE="fr")

    assert refused.status_code == 422
    assert "Nommez le tag" in refused.content.decode()
    assert member_client.post(RULES, data | {"tag_key": "transaction"}).status_code == 302
    rule = QualificationRule.objects.get()
    assert (rule.field, rule.tag_key) == ("tag", "transaction")
    listed = member_client.get(RULES).content.decode()
    assert "<code>transaction</code>" in listed


def test_a_jobs_tags_are_its_class_queue_and_error_class(source):
    from triage.sources.jobs import job_tags

    goodjob = {"job_class": "SendRdvReminderJob", "queue": "mailers", "error_class": "Net::X"}
    assert job_tags(goodjob) == goodjob
    assert job_tags({"func": "rdv.tasks.close", "error_class": ""}) == {
        "job_class": "rdv.tasks.close"
    }
    demo = backend_for(source)  # the demo's: its payload tags, and a job's
    assert demo.listed_tags({"tags": {"transaction": "A#b"}, "queue": "q"}) == {
        "transaction": "A#b",
        "queue": "q",
    }


def test_retiring_asks_first_and_only_a_manager_is_asked(client, member_client, source):
    rule = make_rule(source.team, name="info", field="level", pattern="info")
    assert member_client.get(f"{RULES}/{rule.pk}/retire").status_code == 403
    manager = UserFactory()
    MembershipFactory(team=source.team, user=manager, role=Membership.Role.MANAGER)
    client.force_login(manager)

    asked = client.get(f"{RULES}/{rule.pk}/retire", HTTP_ACCEPT_LANGUAGE="fr")

    assert asked.status_code == 200
    assert "Retirer la règle info ?" in asked.content.decode()
    rule.refresh_from_db()
    assert rule.retired_at is None
    assert client.post(f"{RULES}/{rule.pk}/retire").status_code == 302
    rule.refresh_from_db()
    assert rule.retired_by == manager
    # Retired: asking again leads back to the list.
    assert client.get(f"{RULES}/{rule.pk}/retire").status_code == 302


def test_bugsinks_list_gives_the_transaction_tag(source):
    from triage.sources.bugsink import BugsinkBackend

    backend = BugsinkBackend(source)
    assert backend.listed_tags({"transaction": "/rdvs/<id>"}) == {"transaction": "/rdvs/<id>"}
    assert backend.listed_tags({"transaction": None}) == {}
    assert not backend.can_read_tags


def test_a_tag_read_that_fails_leaves_that_item_untaken_and_the_sync_goes_on(fake_sentry, team):
    rule = make_rule(team, field="tag", tag_key="transaction", pattern="RdvsController")
    fake_sentry.add_issues(2, title="Boom: x")
    # The list is answered as usual, the first tag read is refused.
    fake_sentry.script = [None, (403, {}, {"detail": "You do not have permission."})]

    with capture_logs() as logs:
        run = sync_source(team.sources.get().pk)

    assert (run.created, run.error) == (2, "")
    assert Item.objects.filter(rule=rule).count() == 1
    failed = [log for log in logs if log["event"] == "rule_tag_lookup_failed"]
    assert [log["tag"] for log in failed] == ["transaction"]
    # Read again at the next sync, which the rule takes it at; one the rule does not take is
    # tried once, then left alone.
    [unread] = Item.objects.filter(rules_pending=True)
    other = fake_sentry.add_issue(title="Boom: y", _tags={"transaction": ["Other#x"]})
    fake_sentry.script = [None, (403, {}, {"detail": "You do not have permission."})]
    sync_source(team.sources.get().pk)
    assert Item.objects.get(external_id=other["id"]).rules_pending
    assert Item.objects.get(pk=unread.pk).rule == rule
    assert not Item.objects.get(pk=unread.pk).rules_pending

    sync_source(team.sources.get().pk)

    assert not Item.objects.filter(rules_pending=True).exists()
    assert Item.objects.get(external_id=other["id"]).rule is None
