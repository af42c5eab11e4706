"""The vigie's memory: an Attendu outlives Sentry's 7-day window and its retention. Qualified
by hand it leaves one rule on the error's fingerprint; the sync re-applies the ignore upstream
while Vigie's own count is under the threshold, pre-qualifies a new issue of the same error,
and brings the item back with the count that broke the threshold."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from rotation.tests.factories import MembershipFactory, TeamFactory
from triage import handover, memory, qualify
from triage.models import Action, Item, QualificationRule, RuleHit
from triage.sources.base import ItemData
from triage.sync import sync_source
from triage.tests.factories import FlakyBackend, ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TITLE = "ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=7"
MONTH = 43200


@pytest.fixture
def vigie(sentry_source, user):
    sentry_source.team = TeamFactory()
    sentry_source.save()
    MembershipFactory(team=sentry_source.team, user=user)
    return user


def writes(fake, issue_id):
    """The bulk updates (Sentry's ignore) the fake received for one issue."""
    return [r for r in fake.requests if r[0] == "PUT" and r[2].get("id") == [str(issue_id)]]


def attendu(item, user, count, window, key="k"):
    params = {"ignoreCount": count, "ignoreWindow": window}
    return qualify.qualify_item(item, user, "expected", params, key)


def sync(source, at):
    with time_machine.travel(at, tick=False):
        return sync_source(source.pk)


def mirrored_attendu(fake, source, user, count=40, window=MONTH):
    """An issue mirrored at START and qualified Attendu with `count` in `window` minutes."""
    issue = fake.add_issue(title=TITLE, last_seen=START - timedelta(hours=1))
    sync(source, START)
    item = Item.objects.get(external_id=issue["id"])
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        assert attendu(item, user, count, window).ok
    return issue, item


def occur(fake, issue, at, times):
    with time_machine.travel(at, tick=False):
        fake.occur(issue["id"], at=at, times=times)


def test_attendu_keeps_one_memory_rule_however_often_it_is_sent(fake_sentry, sentry_source, vigie):
    _issue, item = mirrored_attendu(fake_sentry, sentry_source, vigie)
    # The same click replayed, then the vigie's second thought on the threshold.
    attendu(item, vigie, 40, MONTH)
    item.refresh_from_db()
    attendu(item, vigie, 20, 1440, key="other")

    rule = QualificationRule.objects.get()
    assert (rule.fingerprint, rule.qualification) == (item.fingerprint, "expected")
    assert (rule.threshold_count, rule.threshold_window, rule.created_by) == (20, 1440, vigie)
    assert rule.item == item and rule.retired_at is None


def test_sentry_gets_a_week_with_a_scaled_count_and_vigie_keeps_the_month(
    fake_sentry, sentry_source, vigie
):
    issue, _item = mirrored_attendu(fake_sentry, sentry_source, vigie)
    details = fake_sentry.issues[issue["id"]]["statusDetails"]
    # 40 in 30 days: one of the 5 weeks that cover them holds at least 8.
    assert (details["ignoreCount"], details["ignoreWindow"]) == (8, 10080)
    rule = QualificationRule.objects.get()
    assert (rule.threshold_count, rule.threshold_window) == (40, MONTH)


def test_undo_retires_the_memory(fake_sentry, sentry_source, vigie):
    _issue, item = mirrored_attendu(fake_sentry, sentry_source, vigie)
    item.refresh_from_db()
    assert qualify.qualify_item(item, vigie, "undo", {}, "u").ok

    assert QualificationRule.objects.get().retired_at is not None
    # Sentry forgets it, the error comes again under a new id: nobody expects it now.
    fake_sentry.add_issue(title=TITLE, last_seen=START + timedelta(days=2))
    sync(sentry_source, START + timedelta(days=2))
    assert Item.objects.exclude(pk=item.pk).get().qualification == ""


def test_a_new_issue_of_a_remembered_error_is_prequalified_and_ignored_upstream_once(
    fake_sentry, sentry_source, vigie, client
):
    mirrored_attendu(fake_sentry, sentry_source, vigie)
    rule = QualificationRule.objects.get()
    # Sentry's retention ran out: the same error is a new issue, with another id (and Rdv).
    later = START + timedelta(days=100)
    new = fake_sentry.add_issue(
        title="ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=8", last_seen=later
    )

    run = sync(sentry_source, later + timedelta(minutes=1))
    sync(sentry_source, later + timedelta(minutes=10))

    item = Item.objects.get(external_id=new["id"])
    assert (item.qualification, item.rule, item.qualified_by) == ("expected", rule, None)
    assert item.upstream_status == "ignored" and not item.came_back
    assert fake_sentry.issues[new["id"]]["status"] == "ignored"
    assert fake_sentry.issues[new["id"]]["statusDetails"]["ignoreCount"] == 8
    assert len(writes(fake_sentry, new["id"])) == 1
    (done,) = item.actions.all()
    assert (done.user, done.action, done.upstream_ok) == (None, "expected", True)
    assert (run.prequalified, run.reapplied) == (1, 1)
    assert RuleHit.objects.get().item == item
    assert item not in Item.objects.to_qualify()
    client.force_login(vigie)
    page = client.get("/board/rules").content.decode()
    assert "Mémoire d’un Attendu : sous 40 en 30 jours" in page
    assert "Couldn&#x27;t find Lieu with &#x27;id&#x27;=7" in page  # the title it was made from
    board = client.get("/board?state=all").content.decode()
    assert "par mémoire (40 en 30 jours)" in board
    # The watch's handover tells the vigie's Attendu from Vigie's own write.
    watch = handover.qualified_items(sentry_source.team, START, later + timedelta(days=1))
    assert watch == [
        {"title": "Attendu", "detail": 1},
        {"title": "Attendu, ignoré de nouveau en amont par la mémoire de Vigie", "detail": 1},
    ]


def test_reopened_under_the_threshold_it_is_ignored_again_and_not_to_qualify(
    fake_sentry, sentry_source, vigie
):
    issue, item = mirrored_attendu(fake_sentry, sentry_source, vigie)
    # 8 in a week: Sentry's condition is met and it reopens; Vigie counts 8 of 40 in 30 days.
    occur(fake_sentry, issue, START + timedelta(days=3), 8)
    assert fake_sentry.issues[issue["id"]]["status"] == "unresolved"

    run = sync(sentry_source, START + timedelta(days=3, minutes=5))

    item.refresh_from_db()
    assert fake_sentry.issues[issue["id"]]["status"] == "ignored"
    assert (item.upstream_status, item.came_back, item.qualified_by) == ("ignored", False, vigie)
    assert item not in Item.objects.to_qualify()
    assert run.reapplied == 1
    assert item.actions.filter(user=None, action="expected", upstream_ok=True).count() == 1


def test_over_the_threshold_it_comes_back_with_the_count_that_broke_it(
    fake_sentry, sentry_source, vigie, client
):
    issue, item = mirrored_attendu(fake_sentry, sentry_source, vigie, count=10)
    occur(fake_sentry, issue, START + timedelta(days=2), 12)

    sync(sentry_source, START + timedelta(days=2, minutes=5))

    item.refresh_from_db()
    assert item.came_back and item in Item.objects.to_qualify()
    assert item.breach == {"count": 12, "window": MONTH, "threshold": 10}
    assert fake_sentry.issues[issue["id"]]["status"] == "unresolved"
    assert not item.actions.filter(user=None).exists()
    client.force_login(vigie)
    row = client.get("/board").content.decode()
    assert "12 occurrences en 30 jours, seuil 10" in row
    detail = client.get(f"/board/items/{item.pk}").content.decode()
    assert "Revenu : 12 occurrences en 30 jours, seuil 10." in detail


def test_a_month_threshold_is_honoured_beyond_sentrys_seven_days(fake_sentry, sentry_source, vigie):
    issue, item = mirrored_attendu(fake_sentry, sentry_source, vigie)
    # 8 a week, every week: Sentry reopens each time, Vigie ignores it again until the month
    # holds 40, well past Sentry's 7 days (and past the one day other counts are kept).
    for day in (3, 10, 17, 24):
        occur(fake_sentry, issue, START + timedelta(days=day), 8)
        sync(sentry_source, START + timedelta(days=day, minutes=5))
        item.refresh_from_db()
        assert not item.came_back, day
        assert fake_sentry.issues[issue["id"]]["status"] == "ignored", day

    occur(fake_sentry, issue, START + timedelta(days=27), 8)
    sync(sentry_source, START + timedelta(days=27, minutes=5))

    item.refresh_from_db()
    assert item.came_back
    assert item.breach == {"count": 40, "window": MONTH, "threshold": 40}
    assert len(writes(fake_sentry, issue["id"])) == 1 + 4  # the vigie's, then Vigie's four


def test_upstream_down_during_the_reignore_marks_the_item_and_the_next_sync_retries(
    fake_sentry, sentry_source, vigie, monkeypatch
):
    monkeypatch.setattr("triage.sources.sentry.time.sleep", lambda seconds: None)
    issue, item = mirrored_attendu(fake_sentry, sentry_source, vigie)
    occur(fake_sentry, issue, START + timedelta(days=3), 8)
    down = (503, {"detail": "Sentry is down for maintenance"}, None)
    with monkeypatch.context() as outage:
        outage.setattr(fake_sentry, "_bulk_update", lambda query, body: down)
        sync(sentry_source, START + timedelta(days=3, minutes=5))

    item.refresh_from_db()
    assert item.writeback_state == Item.Writeback.FAILED
    assert "503" in item.writeback_error
    assert not item.came_back and item.upstream_status == "unresolved"
    # One attempt (vigie.http retried its 503s), marked failed on the item as the board would.
    failed = item.actions.get(user=None)
    assert failed.upstream_ok is False
    before = len(writes(fake_sentry, issue["id"]))

    sync(sentry_source, START + timedelta(days=3, minutes=10))
    sync(sentry_source, START + timedelta(days=3, minutes=15))

    item.refresh_from_db()
    assert (item.writeback_state, item.upstream_status) == ("", "ignored")
    assert fake_sentry.issues[issue["id"]]["status"] == "ignored"
    # One write when it came back up, none after: nothing loops.
    assert len(writes(fake_sentry, issue["id"])) == before + 1
    assert item.actions.filter(user=None, upstream_ok=True).count() == 1


def test_the_upstream_writes_of_one_sync_are_capped(fake_sentry, sentry_source, vigie, monkeypatch):
    monkeypatch.setattr(memory, "WRITES_PER_SYNC", 2)
    mirrored_attendu(fake_sentry, sentry_source, vigie)
    later = START + timedelta(days=100)
    for n in range(3):
        fake_sentry.add_issue(
            title=f"ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'={n + 20}",
            last_seen=later + timedelta(seconds=n),
        )

    first = sync(sentry_source, later + timedelta(minutes=1))
    second = sync(sentry_source, later + timedelta(minutes=10))

    assert (first.prequalified, first.reapplied, second.reapplied) == (3, 2, 1)
    assert Item.objects.filter(upstream_status="ignored").count() == 4


@pytest.mark.parametrize("count", [5, 60])
def test_the_memorys_queries_do_not_grow_with_the_batch(
    fake_sentry, sentry_source, vigie, monkeypatch, count, django_assert_max_num_queries
):
    # The writes upstream are capped on their own (test above): here, what recall costs.
    monkeypatch.setattr(memory, "WRITES_PER_SYNC", 0)
    mirrored_attendu(fake_sentry, sentry_source, vigie)
    later = START + timedelta(days=100)
    for n in range(count):
        fake_sentry.add_issue(
            title=f"ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'={n + 20}",
            last_seen=later + timedelta(seconds=n),
        )
    # The claim, the digests, the upsert and its counts, the other rules, the memory (its
    # rules, their items and counts, the pre-qualification and its hits), the prune, the
    # candidates of the writes and their rules, the source and the run: 25, for 5 as for 60.
    with django_assert_max_num_queries(25):
        run = sync(sentry_source, later + timedelta(minutes=1))
    assert run.prequalified == count


def test_an_attendu_still_ignored_comes_back_when_vigies_count_reaches_the_threshold(
    flaky_backend, member, monkeypatch
):
    # A job source: its "ignored" is Vigie's own, the upstream lists the group as it grows.
    source = SourceFactory(name="jobs", kind="demo")
    MembershipFactory(team=source.team, user=member)
    item = ItemFactory(source=source, kind="job", upstream_status="discarded", tally=5)
    with time_machine.travel(START, tick=False):
        assert attendu(item, member, 20, MONTH).ok
    monkeypatch.setattr(flaky_backend, "max_ignore_window", None)

    def fetched(tally):
        data = ItemData(
            external_id=item.external_id,
            kind="job",
            title=item.title,
            origin=item.origin,
            upstream_status="discarded",
            last_seen=START,
            tally=tally,
            payload=item.payload,
        )
        monkeypatch.setattr(FlakyBackend, "fetch", lambda self, since=None: iter([data]))

    source.last_success_at = START
    source.save()
    for day, tally in ((8, 15), (20, 25)):
        fetched(tally)
        sync(source, START + timedelta(days=day))
        item.refresh_from_db()
        assert item.came_back is (day == 20), day

    assert item.breach == {"count": 20, "window": MONTH, "threshold": 20}
    assert Action.objects.filter(user=None).count() == 0


def test_undoing_a_memorys_prequalification_reopens_upstream_and_retires_the_memory(
    fake_sentry, sentry_source, vigie
):
    mirrored_attendu(fake_sentry, sentry_source, vigie)
    later = START + timedelta(days=100)
    new = fake_sentry.add_issue(title=TITLE, last_seen=later)
    sync(sentry_source, later + timedelta(minutes=1))
    item = Item.objects.get(external_id=new["id"])
    assert item.rule.is_memory and item.can_be_undone

    with time_machine.travel(later + timedelta(minutes=2), tick=False):
        assert qualify.qualify_item(item, vigie, "undo", {}, "u").ok

    item.refresh_from_db()
    assert (item.qualification, item.rule) == ("", None)
    assert fake_sentry.issues[new["id"]]["status"] == "unresolved"
    assert RuleHit.objects.get().undone_by == vigie
    assert QualificationRule.objects.get().retired_at is not None


def test_manage_py_sync_applies_the_memory_and_says_so(fake_sentry, sentry_source, vigie):
    mirrored_attendu(fake_sentry, sentry_source, vigie)
    later = START + timedelta(days=100)
    fake_sentry.add_issue(title=TITLE, last_seen=later)
    out = StringIO()

    with time_machine.travel(later + timedelta(minutes=1), tick=False):
        call_command("sync", stdout=out)

    assert out.getvalue().strip().endswith(", 1 pre-qualified by rules, 1 ignores re-applied")
