from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.fakes.fixtures import SENTRY_TOKEN_ENV
from triage.models import Item
from triage.sources.base import SourceError
from triage.sources.sentry import SentryBackend, next_cursor

pytestmark = pytest.mark.django_db


def backend(source, waits=None):
    return SentryBackend(source, sleep=(waits.append if waits is not None else lambda s: None))


def item_for(source, issue):
    return Item.objects.create(source=source, external_id=issue["id"], title=issue["title"])


def test_lists_with_an_explicit_query_filters_and_cursor_pages(fake_sentry, sentry_source):
    fake_sentry.add_issues(230)
    fake_sentry.add_issue(environments=("staging",))
    fake_sentry.add_issue(project="75")
    fake_sentry.add_issue(priority="low")  # the default query would hide it
    fake_sentry.set_upstream_status(fake_sentry.add_issue()["id"], "resolved")
    sentry = backend(sentry_source)

    items = list(sentry.fetch())

    assert len(items) == 231
    assert sentry.requests == 3
    first = fake_sentry.list_requests()[0][2]
    assert first["query"] == ["is:unresolved"]
    assert first["environment"] == ["production"]
    assert first["project"] == ["74"]
    assert first["sort"] == ["date"]
    assert first["limit"] == ["100"]
    assert "cursor" in fake_sentry.list_requests()[1][2]
    seen = [item.last_seen for item in items]
    assert seen == sorted(seen, reverse=True)


def test_maps_an_issue_to_item_data(fake_sentry, sentry_source):
    issue = fake_sentry.add_issue(
        title="Net::ReadTimeout: Net::ReadTimeout with #<TCPSocket:(closed)>",
        culprit="SendSmsJob#perform",
        level="warning",
        count=1234,
        user_count=56,
    )
    [item] = backend(sentry_source).fetch()
    assert item.external_id == issue["id"]
    assert item.title == issue["title"]
    assert item.origin == "SendSmsJob#perform"
    assert item.level == "warning"
    assert item.environment == "production"
    assert item.upstream_status == "unresolved"
    assert item.tally == 1234
    assert item.user_count == 56
    assert item.permalink == issue["permalink"]
    assert item.short_id == issue["shortId"]
    assert item.last_seen.tzinfo is not None
    assert item.first_seen < item.last_seen
    assert item.recent_counts == [count for _ts, count in issue["stats"]["24h"]]
    assert item.payload["project"]["slug"] == "rdv-solidarites"


def test_project_slugs_are_resolved_once(fake_sentry, sentry_source):
    sentry_source.scopes = ["rdv-insertion"]
    sentry_source.save()
    fake_sentry.add_issue(project="75")
    assert len(list(backend(sentry_source).fetch())) == 1
    assert len(list(backend(sentry_source).fetch())) == 1
    lookups = [r for r in fake_sentry.requests if r[1].startswith("/api/0/projects/")]
    assert len(lookups) == 1
    sentry_source.refresh_from_db()
    assert sentry_source.options["project_ids"] == {"rdv-insertion": "75"}


def test_incremental_fetch_stops_past_since_in_one_request(fake_sentry, sentry_source):
    fake_sentry.add_issues(250)
    newest = datetime.now(UTC)
    fresh = fake_sentry.add_issue(last_seen=newest + timedelta(seconds=5))
    sentry = backend(sentry_source)
    items = list(sentry.fetch(since=newest))
    assert [item.external_id for item in items] == [fresh["id"]]
    assert sentry.requests == 1


def test_a_malformed_issue_is_skipped_and_the_rest_goes_on(fake_sentry, sentry_source):
    fake_sentry.add_issues(3)
    fake_sentry.add_raw({"id": "999", "title": None, "lastSeen": "2026-11-23T12:00:00Z"})
    fake_sentry.add_raw({"id": "998", "title": "no last seen", "lastSeen": "yesterday"})
    sentry = backend(sentry_source)
    assert len(list(sentry.fetch())) == 3
    assert sentry.skipped == 2


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_an_auth_error_that_never_shows_the_token(
    fake_sentry, sentry_source, status
):
    fake_sentry.script.append((status, {}, b'{"detail": "Invalid token"}'))
    with pytest.raises(SourceError) as error:
        list(backend(sentry_source).fetch())
    assert error.value.auth and error.value.permanent
    assert fake_sentry.token not in str(error.value)
    assert len(fake_sentry.requests) == 1


def test_a_missing_token_variable_is_an_auth_error(fake_sentry, sentry_source, monkeypatch):
    monkeypatch.delenv(SENTRY_TOKEN_ENV)
    with pytest.raises(SourceError, match=SENTRY_TOKEN_ENV) as error:
        list(backend(sentry_source).fetch())
    assert error.value.auth
    assert fake_sentry.requests == []


def test_a_stored_token_is_used_when_no_variable_is_named(fake_sentry, sentry_source):
    sentry_source.secret_env = ""
    sentry_source.secret = fake_sentry.token
    fake_sentry.add_issue()
    assert len(list(backend(sentry_source).fetch())) == 1


def test_429_waits_as_told_then_by_sentrys_reset_header_then_backs_off(fake_sentry, sentry_source):
    reset = datetime.now(UTC).timestamp() + 20
    fake_sentry.script += [
        (429, {"Retry-After": "3"}, b""),
        (429, {"X-Sentry-Rate-Limit-Reset": str(int(reset))}, b""),
        (429, {}, b""),  # self-hosted: no header at all
    ]
    fake_sentry.add_issue()
    waits = []
    assert len(list(backend(sentry_source, waits).fetch())) == 1
    assert waits[0] == 3
    assert 15 < waits[1] <= 20
    assert 0 < waits[2] < 3


def test_a_long_rate_limit_gives_up_and_says_when_to_come_back(fake_sentry, sentry_source):
    fake_sentry.script.append((429, {"Retry-After": "900"}, b""))
    with pytest.raises(SourceError) as error:
        list(backend(sentry_source).fetch())
    assert error.value.retry_after == 900
    assert not error.value.permanent


def test_5xx_is_retried(fake_sentry, sentry_source):
    fake_sentry.script += [(502, {}, b"bad gateway"), (503, {}, b"")]
    fake_sentry.add_issue()
    waits = []
    assert len(list(backend(sentry_source, waits).fetch())) == 1
    assert len(waits) == 2


def test_a_slow_sentry_times_out_is_retried_then_reported(fake_sentry, sentry_source):
    fake_sentry.delay = 0.3
    waits = []
    slow = SentryBackend(sentry_source, sleep=waits.append, timeout=(1, 0.05))
    with pytest.raises(SourceError, match="ReadTimeout") as error:
        list(slow.fetch())
    assert not error.value.permanent
    assert len(waits) == 3
    assert fake_sentry.token not in str(error.value)


def test_set_status_reads_the_issue_back(fake_sentry, sentry_source):
    issue = fake_sentry.add_issue()
    state = backend(sentry_source).set_status(
        item_for(sentry_source, issue), "ignored", {"ignoreCount": 10, "ignoreWindow": 10080}
    )
    assert state.status == "ignored"
    assert state.details["ignoreCount"] == 10
    assert state.details["ignoreWindow"] == 10080
    put, get = fake_sentry.requests
    assert put[0] == "PUT" and put[2]["id"] == [issue["id"]]
    assert get == ("GET", f"/api/0/organizations/acme/issues/{issue['id']}/", {})


def test_set_status_reports_what_sentry_confirms_not_what_it_answered(fake_sentry, sentry_source):
    issue = fake_sentry.add_issue()
    fake_sentry.frozen.add(issue["id"])  # out of scope: the bulk update says yes, does nothing
    state = backend(sentry_source).set_status(item_for(sentry_source, issue), "resolved")
    assert state.status == "unresolved"


def test_set_status_refuses_a_window_sentry_would_reject(fake_sentry, sentry_source):
    issue = fake_sentry.add_issue()
    with pytest.raises(SourceError, match="10080"):
        backend(sentry_source).set_status(
            item_for(sentry_source, issue), "ignored", {"ignoreCount": 10, "ignoreWindow": 20160}
        )
    assert fake_sentry.requests == []


def test_set_status_of_an_unknown_issue_is_a_clear_error(fake_sentry, sentry_source):
    item = Item.objects.create(source=sentry_source, external_id="123", title="gone")
    with pytest.raises(SourceError, match="404") as error:
        backend(sentry_source).set_status(item, "resolved")
    assert error.value.permanent


def test_comment(fake_sentry, sentry_source):
    issue = fake_sentry.add_issue()
    url = "https://github.com/betagouv/rdv-service-public/issues/42"
    answer = backend(sentry_source).comment(item_for(sentry_source, issue), url)
    assert answer["data"]["text"] == url
    assert [note["data"]["text"] for note in fake_sentry.comments[issue["id"]]] == [url]


def test_bug_report_from_the_latest_event(fake_sentry, sentry_source):
    issue = fake_sentry.add_issue()
    report = backend(sentry_source).bug_report(item_for(sentry_source, issue))
    assert report["release"] == "rdv-solidarites@2026.11.20"
    assert report["tags"]["server_name"] == "web-1"
    [frame] = report["frames"]  # application frames only when there are some
    assert frame["filename"] == "app/controllers/rdvs_controller.rb"
    assert frame["lineno"] == 18
    assert frame["context_line"] == "    @rdv = Rdv.find(params[:id])"


def test_reconcile_asks_by_id(fake_sentry, sentry_source):
    kept, resolved, ignored = (fake_sentry.add_issue() for _ in range(3))
    fake_sentry.set_upstream_status(resolved["id"], "resolved")
    fake_sentry.set_upstream_status(ignored["id"], "ignored")
    sentry = backend(sentry_source)
    ids = [kept["id"], resolved["id"], ignored["id"], "4999999"]
    assert sentry.reconcile(ids) == {
        kept["id"]: "unresolved",
        resolved["id"]: "resolved",
        ignored["id"]: "ignored",
    }
    assert sentry.requests == 1


def test_next_cursor_reads_sentrys_link_header():
    link = (
        '<https://sentry.io/api/0/organizations/acme/issues/?cursor=0:0:1>; rel="previous"; '
        'results="false"; cursor="0:0:1", <https://sentry.io/api/0/organizations/acme/issues/'
        '?cursor=1735:100:0>; rel="next"; results="true"; cursor="1735:100:0"'
    )

    def answer(link):
        response = requests.Response()
        if link is not None:
            response.headers["Link"] = link
        return response

    assert next_cursor(answer(link)) == "1735:100:0"
    assert next_cursor(answer(link.replace('results="true"', 'results="false"'))) is None
    assert next_cursor(answer(None)) is None
