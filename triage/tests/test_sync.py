import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.fakes.fixtures import SENTRY_TOKEN_ENV
from triage.models import Item, Source, SyncRun
from triage.sources import REGISTRY
from triage.sources.sentry import SentryBackend
from triage.sync import RECONCILE_EVERY, sync_source

pytestmark = pytest.mark.django_db


# An executemany is logged as "N times: INSERT …"; triage_itemcount is another table.
ITEM_WRITE = re.compile(r'(\d+ times: )?\s*(INSERT INTO|UPDATE) "triage_item" ', re.IGNORECASE)


def writes_to_items(queries):
    return [q["sql"] for q in queries if ITEM_WRITE.match(q["sql"])]


def test_first_sync_mirrors_every_unresolved_issue_of_the_environment(fake_sentry, sentry_source):
    fake_sentry.add_issues(150)
    fake_sentry.add_issue(environments=("staging",))
    fake_sentry.set_upstream_status(fake_sentry.add_issue()["id"], "resolved")

    run = sync_source(sentry_source.pk)

    assert (run.created, run.updated, run.unchanged, run.skipped, run.error) == (150, 0, 0, 0, "")
    assert run.requests == 2
    assert Item.objects.filter(source=sentry_source).count() == 150
    sentry_source.refresh_from_db()
    assert sentry_source.state == Source.State.OK
    assert sentry_source.high_water_mark == max(Item.objects.values_list("last_seen", flat=True))
    assert sentry_source.last_success_at is not None
    assert sentry_source.sync_started_at is None
    assert SyncRun.objects.get() == run


def test_an_incremental_sync_with_nothing_new_makes_one_request_and_writes_no_item(
    fake_sentry, sentry_source
):
    fake_sentry.add_issues(250)
    sync_source(sentry_source.pk)
    fake_sentry.requests.clear()

    with CaptureQueriesContext(connection) as queries:
        run = sync_source(sentry_source.pk)

    assert len(fake_sentry.requests) == 1
    assert run.requests == 1
    assert (run.created, run.updated) == (0, 0)
    assert writes_to_items(queries.captured_queries) == []


def test_an_incremental_sync_picks_up_new_and_changed_issues_only(fake_sentry, sentry_source):
    issues = fake_sentry.add_issues(250)
    sync_source(sentry_source.pk)
    fake_sentry.requests.clear()
    fake_sentry.occur(issues[3]["id"], times=5)
    fresh = fake_sentry.add_issue(title="PG::ConnectionBad: could not connect to server")

    run = sync_source(sentry_source.pk)

    assert (run.created, run.updated) == (1, 1)
    assert len(fake_sentry.requests) == 1
    assert Item.objects.get(external_id=issues[3]["id"]).tally == 17
    assert Item.objects.get(external_id=fresh["id"]).title == fresh["title"]


def test_a_sync_never_overwrites_the_local_qualification(fake_sentry, sentry_source, user):
    issue = fake_sentry.add_issue()
    sync_source(sentry_source.pk)
    Item.objects.filter(external_id=issue["id"]).update(
        qualification=Item.Qualification.BUG,
        github_issue_url="https://github.com/betagouv/rdv-service-public/issues/7",
        qualified_by=user,
        qualified_at=timezone.now(),
    )
    fake_sentry.occur(issue["id"], times=2)
    sync_source(sentry_source.pk)
    item = Item.objects.get(external_id=issue["id"])
    assert item.tally == 14
    assert item.qualification == Item.Qualification.BUG
    assert item.github_issue_url.endswith("/issues/7")
    assert item.qualified_by == user
    assert not item.came_back


def test_an_issue_silenced_by_the_vigie_that_comes_back_is_flagged(fake_sentry, sentry_source):
    temporary, quiet = fake_sentry.add_issue(), fake_sentry.add_issue()
    sync_source(sentry_source.pk)
    sentry = SentryBackend(sentry_source)
    for issue in (temporary, quiet):
        item = Item.objects.get(external_id=issue["id"])
        state = sentry.set_status(item, "ignored", {"ignoreCount": 1})
        Item.objects.filter(pk=item.pk).update(
            qualification=Item.Qualification.TEMPORARY,
            qualified_at=timezone.now(),
            upstream_status=state.status,
        )
    fake_sentry.occur(temporary["id"], at=datetime.now(UTC) + timedelta(seconds=1))

    run = sync_source(sentry_source.pk)

    assert run.updated == 1
    back = Item.objects.get(external_id=temporary["id"])
    assert back.came_back
    assert back.upstream_status == "unresolved"
    assert back.qualification == Item.Qualification.TEMPORARY
    assert not Item.objects.get(external_id=quiet["id"]).came_back


def test_reconcile_notices_issues_resolved_or_ignored_in_sentry(fake_sentry, sentry_source):
    resolved, ignored, untouched = (fake_sentry.add_issue() for _ in range(3))
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        sync_source(sentry_source.pk)
        fake_sentry.set_upstream_status(resolved["id"], "resolved")
        fake_sentry.set_upstream_status(ignored["id"], "ignored", {"ignoreCount": 10})
        fake_sentry.requests.clear()
        sync_source(sentry_source.pk)
        assert len(fake_sentry.requests) == 1  # not due yet: the listing only
        traveller.shift(RECONCILE_EVERY)

        run = sync_source(sentry_source.pk)

        assert run.updated == 2
        assert sorted(fake_sentry.requests[-1][2]["group"]) == sorted(
            [resolved["id"], ignored["id"]]
        )
        statuses = dict(Item.objects.values_list("external_id", "upstream_status"))
        assert statuses == {
            resolved["id"]: "resolved",
            ignored["id"]: "ignored",
            untouched["id"]: "unresolved",
        }
        traveller.shift(RECONCILE_EVERY)
        fake_sentry.requests.clear()
        sync_source(sentry_source.pk)
        assert fake_sentry.requests[-1][2]["group"] == [ignored["id"]]  # resolved: settled


def test_a_malformed_issue_is_skipped_and_the_sync_goes_on(fake_sentry, sentry_source):
    fake_sentry.add_issues(3)
    fake_sentry.add_raw({"id": "13", "title": "partial", "lastSeen": None})
    run = sync_source(sentry_source.pk)
    assert (run.created, run.skipped, run.error) == (3, 1, "")
    sentry_source.refresh_from_db()
    assert sentry_source.state == Source.State.OK


def test_a_refused_token_marks_the_source_and_keeps_its_items(
    fake_sentry, sentry_source, monkeypatch
):
    fake_sentry.add_issues(2)
    sync_source(sentry_source.pk)
    monkeypatch.setenv(SENTRY_TOKEN_ENV, "sntrys_revoked_secret_value")

    run = sync_source(sentry_source.pk)

    sentry_source.refresh_from_db()
    assert sentry_source.state == Source.State.AUTH_ERROR
    assert sentry_source.last_failure == {
        "code": "Sentry refused the token (HTTP %(status)s): check the token and its scopes "
        "(event:read, event:write)",
        "params": {"status": "401"},
    }
    assert "a refusé le jeton (HTTP 401)" in sentry_source.last_error  # read in French
    assert sentry_source.last_error_at is not None
    with translation.override("en"):
        assert run.error == sentry_source.last_error  # the run keeps it for operators
    assert "refused the token" in run.error
    assert Item.objects.count() == 2
    assert sentry_source.waits_for_new_configuration
    monkeypatch.setenv(SENTRY_TOKEN_ENV, fake_sentry.token)
    sentry_source.refresh_from_db()
    assert not sentry_source.waits_for_new_configuration


def test_a_server_error_is_recorded_with_backoff(fake_sentry, sentry_source, monkeypatch):
    monkeypatch.setattr("triage.sources.sentry.time.sleep", lambda s: None)
    fake_sentry.script += [(500, {}, b"oops")] * 4
    run = sync_source(sentry_source.pk)
    sentry_source.refresh_from_db()
    assert sentry_source.state == Source.State.ERROR
    assert "HTTP 500" in run.error
    assert sentry_source.consecutive_failures == 1
    assert sentry_source.high_water_mark is None


def test_a_429_pushes_the_next_sync_after_sentrys_delay(fake_sentry, sentry_source):
    fake_sentry.script.append((429, {"Retry-After": "600"}, b""))
    before = timezone.now()
    sync_source(sentry_source.pk)
    sentry_source.refresh_from_db()
    assert sentry_source.next_sync_at >= before + timedelta(seconds=600)


def test_two_syncs_of_one_source_never_run_at_once(fake_sentry, sentry_source):
    claimed_at = timezone.now()
    Source.objects.filter(pk=sentry_source.pk).update(sync_started_at=claimed_at)
    assert sync_source(sentry_source.pk) is None
    assert fake_sentry.requests == []
    Source.objects.filter(pk=sentry_source.pk).update(
        sync_started_at=claimed_at - Source.CLAIM_LEASE - timedelta(seconds=1)
    )
    assert sync_source(sentry_source.pk) is not None  # a dead sync's claim expires


def test_a_bug_of_ours_is_recorded_without_leaking(fake_sentry, sentry_source, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("triage.sync.upsert", explode)
    fake_sentry.add_issue()
    run = sync_source(sentry_source.pk)
    assert run.error == "internal error: RuntimeError"
    sentry_source.refresh_from_db()
    assert sentry_source.state == Source.State.ERROR
    assert sentry_source.sync_started_at is None


def test_a_kind_without_a_backend_is_a_clear_error(monkeypatch):
    monkeypatch.delitem(REGISTRY, "github")
    source = Source.objects.create(kind="github", name="requests")
    run = sync_source(source.pk)
    assert run.error == "no backend for sources of kind 'github'"
    source.refresh_from_db()
    assert source.state == Source.State.ERROR


def test_the_sync_writes_every_upstream_field_and_keeps_stored_digests_valid():
    from triage.sources.base import DATA_FIELDS, ItemData
    from triage.sync import digest

    model_fields = {f.name for f in Item._meta.get_fields()}
    assert set(DATA_FIELDS) <= model_fields
    assert [*DATA_FIELDS, "upstream_digest"] == Item.UPSTREAM_FIELDS
    # Pinned: a change of the digest rewrites every item once, at its next sync (the move from
    # a repr to the JSON of the written values did, once).
    data = ItemData(
        external_id="1",
        title="TypeError",
        level="error",
        last_seen=datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC),
        tally=3,
        recent_counts=[1, 2],
        payload={"title": "TypeError: café", "z": None, "a": [1.5, True]},
    )
    assert digest(data) == "2b9d1a47bfe173844252631de72ea4be9843cf64"


def test_an_upsert_stores_what_the_backend_gave_and_rewrites_only_upstream_fields(source, user):
    import dataclasses

    from triage.sources.base import DATA_FIELDS, ItemData
    from triage.sync import digest, upsert

    seen = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    data = ItemData(
        external_id="7",
        title="KeyError: 'rdv'",
        level="error",
        first_seen=seen - timedelta(days=2),
        last_seen=seen,
        tally=4,
        user_count=2,
        recent_counts=[1, 3],
        payload={"id": "7", "metadata": {"value": "<script>", "tags": [1, None, True]}},
    )
    upstream = {name: getattr(data, name) for name in DATA_FIELDS}

    assert upsert(source, [data]) == (1, 0, 0)
    item = Item.objects.get(source=source, external_id="7")
    assert {name: getattr(item, name) for name in DATA_FIELDS} == upstream
    assert item.upstream_digest == digest(data)
    # The local side starts from the model's defaults.
    assert (item.qualification, item.qualification_params, item.qualified_by) == ("", {}, None)
    assert (item.writeback_state, item.writeback_failure, item.came_back) == ("", {}, False)
    assert item.mirrored_at is not None

    qualified_at = timezone.now()
    Item.objects.filter(pk=item.pk).update(
        qualification=Item.Qualification.BUG, qualified_by=user, qualified_at=qualified_at
    )
    changed = dataclasses.replace(data, title="KeyError: 'user'", tally=9, payload={"id": "7"})
    assert upsert(source, [changed]) == (0, 1, 0)
    after = Item.objects.get(pk=item.pk)
    assert {name: getattr(after, name) for name in DATA_FIELDS} == {
        **upstream,
        "title": "KeyError: 'user'",
        "tally": 9,
        "payload": {"id": "7"},
    }
    assert after.upstream_digest == digest(changed)
    assert (after.qualification, after.qualified_by, after.qualified_at) == (
        "bug",
        user,
        qualified_at,
    )
    assert after.mirrored_at == item.mirrored_at
    assert upsert(source, [changed]) == (0, 0, 1)


@pytest.mark.parametrize(
    "payload",
    [
        {
            "title": "KeyError: 'né' — 日本 🐛",
            "z": {"nested": [{"b": 1, "a": None}, [True, False, 0.1]]},
            "a": "",
            "metadata": {"value": '<script>"\\u0000', "empty": {}},
        },
        {"count": 2**70, "id": "beyond 64 bits"},  # what orjson refuses, json writes
    ],
    ids=["unicode and nesting", "big integer"],
)
def test_an_upsert_writes_the_row_django_would_and_reads_back_the_same_json(source, payload):
    import json

    from triage.sources.base import DATA_FIELDS, ItemData
    from triage.sync import upsert

    seen = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
    values = {
        "title": "KeyError: 'né'",
        "level": "error",
        "first_seen": seen - timedelta(days=2),
        "last_seen": seen,
        "tally": 4,
        "recent_counts": [0, 3, 1],
        "payload": payload,
    }
    # In the same batch: an item with none of the optional values.
    batch = [ItemData(external_id="7", **values), ItemData(external_id="8", title="t")]
    assert upsert(source, batch) == (2, 0, 0)
    by_django = Item.objects.create(source=source, external_id="9", **values)
    mirrored = Item.objects.get(source=source, external_id="7")
    by_django.refresh_from_db()

    local = [f.attname for f in Item._meta.concrete_fields if f.name not in DATA_FIELDS]
    ignored = {"id", "external_id", "mirrored_at", "upstream_digest"}
    for name in [*DATA_FIELDS, *local]:
        if name not in ignored:
            assert getattr(mirrored, name) == getattr(by_django, name), name
    # The same values, keys in the same order at every depth (as given on SQLite; jsonb's own
    # order on PostgreSQL, whoever writes).
    assert json.dumps(mirrored.payload) == json.dumps(by_django.payload)
    assert mirrored.payload == payload
    bare = Item.objects.get(source=source, external_id="8")
    assert (bare.first_seen, bare.last_seen, bare.recent_counts, bare.payload) == (
        None,
        None,
        [],
        {},
    )


def test_an_empty_batch_is_upserted_without_a_query(source):
    from triage.sync import upsert

    with CaptureQueriesContext(connection) as queries:
        assert upsert(source, []) == (0, 0, 0)
    assert queries.captured_queries == []


def test_an_upsert_is_one_logged_insert_per_batch(source):
    from triage.sources.base import ItemData
    from triage.sync import upsert

    batch = [ItemData(external_id=str(n), title=f"t{n}", tally=n) for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        assert upsert(source, batch) == (3, 0, 0)
    assert len(writes_to_items(queries.captured_queries)) == 1
    assert list(Item.objects.order_by("external_id").values_list("tally", flat=True)) == [0, 1, 2]
