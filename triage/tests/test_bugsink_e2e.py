"""The whole loop against a real Bugsink, installed from PyPI and run on SQLite on loopback:
real errors sent through sentry-sdk, Vigie's sync, a click on the board, the result read back
from Bugsink's own API. One Bugsink for the module; its virtual environment is cached in var/."""

import html
import os
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.core.management import call_command

from rotation.models import Team
from rotation.tests.factories import MembershipFactory
from tests.bugsink import Bugsink, Proxy, Unavailable, free_port
from triage.models import Item, Source
from triage.sources.base import SourceError
from triage.sources.bugsink import BugsinkBackend
from triage.sync import sync_source

# One Bugsink for the module: its tests go to one xdist worker (make test runs --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.django_db, pytest.mark.xdist_group("bugsink")]

TOKEN_ENV = "VIGIE_TEST_BUGSINK_TOKEN"
# A file, not `python -c`: the SDK reads the frames' source lines (their context) from it; run
# from its directory, the SDK's project root, which makes its frames the application's.
SEND = textwrap.dedent(
    """
    import sys, sentry_sdk
    sentry_sdk.init(sys.argv[1], environment="production")
    sentry_sdk.set_tag("customer", "acme <b>corp</b>")

    def charge(order):
        raise ValueError("<script>alert(1)</script> card refused for order %s" % order)

    for order in (1, 2):
        sentry_sdk.add_breadcrumb(category="payment", message="card checked for order %s" % order)
        try:
            charge(order)
        except ValueError as exc:
            sentry_sdk.capture_exception(exc)
    sentry_sdk.capture_message("no stack trace here", level="error")
    sentry_sdk.capture_message("disk almost full", level="warning")
    sentry_sdk.flush()
    """
)


@pytest.fixture(scope="module")
def bugsink(tmp_path_factory):
    instance = Bugsink(tmp_path_factory.mktemp("bugsink"))
    try:
        instance.start()
    except Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Bugsink could not be installed or started: {exc}")
        pytest.skip(f"Bugsink not available: {exc}")
    try:
        instance.project, instance.dsn = instance.create_project("prod")
        instance.send = instance.home / "send_errors.py"
        instance.send.write_text(SEND)
        subprocess.run(
            [sys.executable, str(instance.send), instance.dsn],
            check=True,
            timeout=60,
            env=instance.env,
            cwd=instance.home,
        )
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def board(bugsink, client, user, fake_github, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, bugsink.token)
    team = Team.objects.create(slug="prod-team", name="Prod")
    source = Source.objects.create(
        kind="bugsink",
        name="bugsink-prod",
        team=team,
        base_url=bugsink.url,
        scopes=[bugsink.project],
        secret_env=TOKEN_ENV,
        github_repository="acme/app",
    )
    MembershipFactory(team=team, user=user)
    client.force_login(user)
    run = sync_source(source.pk)
    assert run.error == ""

    def click(item, action, key):
        return client.post(
            f"/board/items/{item.pk}/qualify",
            {"action": action, "key": key},
            headers={"HX-Request": "true"},
        )

    return source, click


def _upstream(bugsink, item):
    return bugsink.api("GET", f"issues/{item.external_id}/")


def test_sync_mirrors_the_project_and_the_board_escapes_titles(board, bugsink, client):
    source, _click = board
    items = {item.title: item for item in Item.objects.filter(source=source)}
    expected = {
        f"{i['calculated_type']}: {i['calculated_value']}" for i in bugsink.issues(bugsink.project)
    }
    assert set(items) == expected
    charge = next(item for title, item in items.items() if title.startswith("ValueError"))
    assert charge.tally == 2 and charge.upstream_status == "unresolved"
    page = client.get("/board").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    detail = client.get(f"/board/items/{charge.pk}").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "<script>alert(1)</script>" not in detail
    # A second sync with nothing new writes nothing.
    run = sync_source(source.pk)
    assert (run.created, run.updated) == (0, 0)


def test_attendu_then_undo_are_read_back_from_bugsink(board, bugsink):
    source, click = board
    item = Item.objects.filter(source=source).order_by("title").last()
    # Every event of the module's issues is of the last hour: in the window.
    already = _upstream(bugsink, item)["digested_event_count"]
    assert click(item, "expected", "e1").status_code == 200
    issue = _upstream(bugsink, item)
    assert issue["is_muted"] is True
    assert issue["unmute_on_volume_based_conditions"] == [
        {"period": "minute", "nr_of_periods": 10080, "volume": 10 + already}
    ]
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.EXPECTED
    assert item.qualification_params == {"ignoreCount": 10, "ignoreWindow": 10080}
    click(item, "undo", "e2")
    assert _upstream(bugsink, item)["is_muted"] is False
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.UNQUALIFIED


def test_resolved_and_temporaire_in_bugsink(board, bugsink):
    source, click = board
    first, second = Item.objects.filter(source=source).order_by("title")[:2]
    click(first, "resolved", "r1")
    assert _upstream(bugsink, first)["is_resolved"] is True
    click(second, "temporary", "t1")
    muted = _upstream(bugsink, second)
    assert muted["is_muted"] is True
    assert muted["unmute_on_volume_based_conditions"][0]["volume"] == 1
    click(first, "undo", "r2")
    click(second, "undo", "t2")
    assert _upstream(bugsink, first)["is_resolved"] is False
    assert _upstream(bugsink, second)["is_muted"] is False


def test_bug_opens_one_github_issue_and_comments_its_url_in_bugsink(board, bugsink, fake_github):
    source, click = board
    item = Item.objects.get(source=source, title__startswith="ValueError")
    assert click(item, "bug", "b1").status_code == 200
    item.refresh_from_db()
    opened = fake_github.issues("acme/app")
    assert len(opened) == 1 and item.github_issue_url
    assert "charge" in opened[0]["body"]  # the stack trace's innermost frame
    history = bugsink.api("GET", "issue-history/", params={"issue": item.external_id})
    comments = [t["comment"] for t in history["results"] if t["kind"] == "manual_annotation"]
    assert comments == [item.github_issue_url]
    # Bug again (a retry): no second issue, no second comment.
    click(item, "bug", "b2")
    assert len(fake_github.issues("acme/app")) == 1
    history = bugsink.api("GET", "issue-history/", params={"issue": item.external_id})
    assert sum(t["kind"] == "manual_annotation" for t in history["results"]) == 1


def _source_error_on_board(client):
    page = client.get("/board").content.decode()
    shown = page.split('class="source-error bad"', 1)[1].split("</p>", 1)[0]
    return html.unescape(" ".join(shown.split()))


def test_a_wrong_token_marks_the_source_in_auth_error(board, client, monkeypatch):
    source, _click = board
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    run = sync_source(source.pk)
    source.refresh_from_db()
    assert source.state == Source.State.AUTH_ERROR
    assert "not-the-token" not in run.error
    shown = _source_error_on_board(client)
    assert "Source bugsink-prod : erreur d'authentification" in shown
    assert "Bugsink a refusé le jeton (HTTP 401) : vérifiez le jeton" in shown
    assert "not-the-token" not in shown


def test_an_unknown_project_is_an_error_not_an_empty_board(board, client):
    source, _click = board
    source.scopes = ["999"]
    source.save()
    run = sync_source(source.pk)
    assert run.error.startswith("Bugsink knows no project 999 (HTTP 404)")
    assert "Bugsink ne connaît aucun projet 999 (HTTP 404)" in _source_error_on_board(client)


def test_the_api_s_address_given_as_bugsink_s_is_bugsink_s(bugsink, monkeypatch):
    """The README names `/api/canonical/0/`: typed as the source's address, it is Bugsink's."""
    monkeypatch.setenv(TOKEN_ENV, bugsink.token)
    Team.objects.create(slug="prod-team", name="Prod")
    call_command(
        "addsource",
        "bugsink",
        *("--name", "bs-api", "--url", f"{bugsink.url}/api/canonical/0/"),
        *("--project", bugsink.project, "--token-env", TOKEN_ENV, "--team", "prod-team"),
    )
    source = Source.objects.get(name="bs-api")
    assert source.base_url == bugsink.url
    assert sync_source(source.pk).created == len(bugsink.issues(bugsink.project))
    # A row stored so before: read at Bugsink's address too.
    Source.objects.filter(pk=source.pk).update(base_url=f"{bugsink.url}/api/canonical/0")
    assert sync_source(source.pk).error == ""


def test_an_address_that_is_not_bugsink_s_api_is_not_an_unknown_project(
    board, bugsink, client, tmp_path
):
    source, _click = board

    def mirrored():
        return set(Item.objects.filter(source=source).values_list("external_id", "upstream_status"))

    kept = mirrored()
    # Bugsink itself, one API path too deep: its 404 page, not its API's JSON.
    Source.objects.filter(pk=source.pk).update(
        base_url=f"{bugsink.url}/api/canonical/0/api/canonical/0", last_reconciled_at=None
    )
    run = sync_source(source.pk)
    assert run.error.startswith(
        f"{bugsink.url}/api/canonical/0 does not answer as Bugsink's API (HTTP 404 for "
        "/api/canonical/0/issues/, not Bugsink's JSON)"
    )
    # Another web server on loopback: every path is its 404 page.
    other = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    )
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        address = f"http://127.0.0.1:{other.server_port}"
        Source.objects.filter(pk=source.pk).update(base_url=address, next_sync_at=None)
        run = sync_source(source.pk)
        # Nothing read there is taken for a deleted issue either.
        backend = BugsinkBackend(Source.objects.get(pk=source.pk))
        with pytest.raises(SourceError, match="does not answer as Bugsink's API"):
            backend.reconcile([next(iter(kept))[0]])
    finally:
        other.shutdown()
        other.server_close()
    assert "aucun projet" not in run.error
    shown = _source_error_on_board(client)
    assert f"{address} ne répond pas comme l’API de Bugsink (HTTP 404 pour " in shown
    assert "aucun projet" not in shown
    assert mirrored() == kept


def test_addsource_bugsink_then_sync(bugsink, monkeypatch, capsys):
    monkeypatch.setenv(TOKEN_ENV, bugsink.token)
    Team.objects.create(slug="prod-team", name="Prod")
    call_command(
        "addsource",
        "bugsink",
        "--name",
        "bs",
        "--url",
        bugsink.url + "/",
        "--project",
        bugsink.project,
        "--token-env",
        TOKEN_ENV,
        "--github-repo",
        "acme/app",
        "--team",
        "prod-team",
    )
    out = capsys.readouterr().out
    assert bugsink.token not in out and f"project {bugsink.project}" in out
    source = Source.objects.get(name="bs")
    assert (source.kind, source.base_url, source.scopes) == (
        "bugsink",
        bugsink.url,
        [bugsink.project],
    )
    assert sync_source(source.pk).created == len(bugsink.issues(bugsink.project))


def test_the_message_without_stack_trace_files_a_bug_without_frames(board, bugsink, fake_github):
    source, click = board
    item = Item.objects.get(source=source, title__contains="no stack trace")
    assert click(item, "bug", "m1").status_code == 200
    item.refresh_from_db()
    assert item.qualification == Item.Qualification.BUG
    assert len(fake_github.issues("acme/app")) == 1


def test_the_admin_shows_the_fields_bugsink_is_configured_with(board, admin_client):
    source, _click = board
    page = admin_client.get(f"/admin/triage/source/{source.pk}/change/").content.decode()
    assert 'name="scopes"' in page and 'name="base_url"' in page
    assert 'name="environment"' in page  # the events of another one are left out
    assert 'name="organization"' not in page


# One error raised and sent from the environment named on the command line, as many times as
# its fourth argument says (one issue).
SEND_FROM = textwrap.dedent(
    """
    import sys, sentry_sdk
    sentry_sdk.init(sys.argv[1], environment=sys.argv[2])
    error = type(sys.argv[3], (Exception,), {})
    for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 1):
        try:
            raise error("sent from " + sys.argv[2])
        except Exception as exc:
            sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    """
)


def _send_from(bugsink, dsn, environment, error, times=1):
    script = bugsink.home / "send_from.py"
    script.write_text(SEND_FROM)
    subprocess.run(
        [sys.executable, str(script), dsn, environment, error, str(times)],
        check=True,
        timeout=60,
        env=bugsink.env,
        cwd=bugsink.home,
    )


def test_an_issue_whose_latest_event_is_of_another_environment_is_left_out(bugsink, monkeypatch):
    """Bugsink's convention is a project per environment, but a staging SDK may use the
    production DSN: its issue is not the vigie's to qualify."""
    project, dsn = bugsink.create_project("mixed")
    for environment, error in (("production", "ProdError"), ("staging", "StagingError")):
        _send_from(bugsink, dsn, environment, error)
    monkeypatch.setenv(TOKEN_ENV, bugsink.token)
    source = Source.objects.create(
        kind="bugsink",
        name="bugsink-mixed",
        team=Team.objects.create(slug="mixed-team", name="Mixed"),
        base_url=bugsink.url,
        scopes=[project],
        secret_env=TOKEN_ENV,
        environment="production",
    )
    run = sync_source(source.pk)
    assert run.error == "" and (run.created, run.skipped) == (1, 1)
    assert list(Item.objects.filter(source=source).values_list("title", "environment")) == [
        ("ProdError: sent from production", "production")
    ]
    # No environment named: every issue of the project is mirrored.
    source.environment = ""
    source.save()
    Source.objects.filter(pk=source.pk).update(high_water_mark=None)
    run = sync_source(source.pk)
    assert (run.created, run.skipped) == (1, 0)
    assert Item.objects.get(source=source, title__startswith="StagingError").environment == (
        "staging"
    )


def test_bugsink_down_is_recorded_and_nothing_is_lost(board, client, monkeypatch):
    source, click = board
    waits = []
    monkeypatch.setattr("triage.sources.bugsink.time.sleep", waits.append)
    kept = Item.objects.filter(source=source).count()
    source.base_url = f"http://127.0.0.1:{free_port()}"
    source.save()
    run = sync_source(source.pk)
    source.refresh_from_db()
    assert "ConnectionError" in run.error and len(waits) == 3
    assert source.state == Source.State.ERROR
    assert Item.objects.filter(source=source).count() == kept
    assert f"Bugsink ne répond pas à {source.base_url} (ConnectionError)" in _source_error_on_board(
        client
    )
    # A click meanwhile is not written: the row says so, and offers to try again.
    item = Item.objects.filter(source=source).first()
    row = click(item, "resolved", "down1").content.decode()
    assert "l&#x27;écriture a échoué : Bugsink ne répond pas" in row
    assert "réessaiera" not in row and "Réessayer" in row


def test_a_new_occurrence_after_temporaire_brings_the_issue_back(board, bugsink):
    source, click = board
    item = Item.objects.get(source=source, title__startswith="ValueError")
    click(item, "temporary", "c1")
    assert _upstream(bugsink, item)["is_muted"] is True
    subprocess.run(
        [sys.executable, str(bugsink.send), bugsink.dsn], check=True, timeout=60, cwd=bugsink.home
    )
    assert _upstream(bugsink, item)["is_muted"] is False  # Bugsink unmuted it itself
    run = sync_source(source.pk)
    assert run.error == "" and run.updated >= 1
    item.refresh_from_db()
    assert item.came_back and item.upstream_status == "unresolved"
    assert item.tally == _upstream(bugsink, item)["digested_event_count"]


def test_the_detail_panel_shows_the_latest_event_read_from_bugsink(board, client):
    source, _click = board
    item = Item.objects.get(source=source, title__startswith="ValueError")
    page = client.get(f"/board/items/{item.pk}").content.decode()
    exception = page.split('class="exception"', 1)[1].split("</p>", 1)[0]
    assert "<strong>ValueError</strong>" in exception
    assert "&lt;script&gt;alert(1)&lt;/script&gt; card refused for order 2" in exception
    # The frame that raised, first, the application's, with its source lines around it.
    frame = page.split('<li class="frame in-app">', 1)[1].split("</li>", 1)[0]
    assert "send_errors.py:7" in frame and "<code>charge</code>" in frame
    assert '<span class="current">7     raise ValueError(&quot;&lt;script&gt;' in frame
    assert "def charge(order):" in frame
    tags = page.split('class="facts tags"', 1)[1].split("</dl>", 1)[0]
    assert "<dt>customer</dt><dd>acme &lt;b&gt;corp&lt;/b&gt;</dd>" in tags
    assert "<dt>environment</dt><dd>production</dd>" in tags
    crumbs = page.split('class="breadcrumbs"', 1)[1].split("</ol>", 1)[0]
    assert "<code>payment</code> card checked for order 2" in crumbs
    assert 'class="muted detail-age"' in page  # read from Bugsink, not the mirror


def test_levels_and_environment_come_from_the_latest_event(board):
    source, _click = board
    levels = dict(Item.objects.filter(source=source).values_list("title", "level"))
    assert levels == {
        next(title for title in levels if title.startswith("ValueError")): "error",
        next(title for title in levels if "no stack trace" in title): "error",
        next(title for title in levels if "disk almost full" in title): "warning",
    }
    assert set(Item.objects.filter(source=source).values_list("environment", flat=True)) == {
        "production"
    }


def test_outside_a_web_request_the_culprit_is_the_frame_that_raised(board, client, fake_github):
    """The script sends its errors outside any web request: Bugsink has no transaction for
    them, and the culprit is the innermost application frame, "module in function"."""
    source, click = board
    item = Item.objects.get(source=source, title__startswith="ValueError")
    assert item.payload.get("transaction") in (None, "")
    assert item.origin == "__main__ in charge"
    assert Item.objects.get(source=source, title__contains="no stack trace").origin == ""
    row = client.get("/board").content.decode().split(f'id="item-{item.pk}-title"', 1)[1]
    assert "__main__ in charge" in row.split("</tr>", 1)[0]
    # Known to the mirror, the culprit stays when the issue's latest event is not read again.
    run = sync_source(source.pk)
    assert run.updated == 0
    item.refresh_from_db()
    assert item.origin == "__main__ in charge"
    click(item, "bug", "culprit1")
    assert "**Culprit:** `__main__ in charge`" in fake_github.issues("acme/app")[0]["body"]


@pytest.fixture
def proxied(bugsink, monkeypatch):
    """A source reading the module's Bugsink through a Proxy, and the sleeps of its retries."""
    monkeypatch.setenv(TOKEN_ENV, bugsink.token)
    proxy = Proxy(bugsink.url).start()
    waits = []
    monkeypatch.setattr("triage.sources.bugsink.time.sleep", waits.append)
    source = Source.objects.create(
        kind="bugsink",
        name="bugsink-proxied",
        team=Team.objects.create(slug="proxied-team", name="Proxied"),
        base_url=proxy.url,
        scopes=[bugsink.project],
        secret_env=TOKEN_ENV,
    )
    yield source, proxy, waits
    proxy.stop()


def _mirrored(source):
    return set(Item.objects.filter(source=source).values_list("external_id", "level"))


def test_a_429_is_waited_out_as_its_retry_after_says(proxied, bugsink):
    source, proxy, waits = proxied
    proxy.fail("/api/canonical/0/issues/", 429, Retry_After="7")
    proxy.fail("/api/canonical/0/events/", 429, Retry_After="3")
    run = sync_source(source.pk)
    assert run.error == "" and waits == [7.0, 3.0]
    assert run.created == len(bugsink.issues(bugsink.project))
    assert [status for _path, status in proxy.seen[:2]] == [429, 200]


def test_a_429_asking_for_longer_than_the_cap_ends_the_sync_until_then(proxied, bugsink):
    source, proxy, waits = proxied
    proxy.fail("/api/canonical/0/issues/", 429, Retry_After="600")  # vigie.http waits <= 60 s
    run = sync_source(source.pk)
    source.refresh_from_db()
    assert waits == [] and "Bugsink rate limit reached (HTTP 429)" in run.error
    assert source.state == Source.State.ERROR
    assert source.next_sync_at - source.last_error_at == timedelta(seconds=600)
    assert sync_source(source.pk).created == len(bugsink.issues(bugsink.project))


def test_a_503_is_retried_then_shown_and_the_next_sync_completes(proxied, bugsink):
    source, proxy, waits = proxied
    proxy.fail("/api/canonical/0/events/", 503)
    assert sync_source(source.pk).error == "" and len(waits) == 1  # one backoff, then Bugsink
    complete = _mirrored(source)
    assert len(complete) == len(bugsink.issues(bugsink.project))
    # Bugsink down through every attempt, mid-sync: the run says so, the mirror keeps all.
    Item.objects.filter(source=source).update(tally=0)  # changed issues: their events are read
    one = Item.objects.filter(source=source).first().external_id
    proxy.fail(f"/api/canonical/0/events/?issue={one}&", 503, times=4)  # each attempt
    run = sync_source(source.pk)
    source.refresh_from_db()
    assert run.error.startswith("Bugsink answered HTTP 503 for /api/canonical/0/events/")
    assert source.state == Source.State.ERROR and _mirrored(source) == complete
    run = sync_source(source.pk)
    source.refresh_from_db()
    assert run.error == "" and source.state == Source.State.OK and _mirrored(source) == complete
    assert not proxy.faults


PAGE = 250  # Bugsink's page size for issues (IssuesCursorPagination)


def test_more_than_one_page_of_issues_is_mirrored_completely(bugsink, monkeypatch):
    """One issue more than a page: the second page, reached through the cursor of Bugsink's
    `next` link, holds exactly one. Seeding 251 issues through the ingest API is most of the
    test: 15 s on 2 busy cores (load 4.8), so it is one test and the minimum past a page."""
    project, dsn = bugsink.create_project("big")
    bugsink.seed(dsn, PAGE + 1)
    monkeypatch.setenv(TOKEN_ENV, bugsink.token)
    source = Source.objects.create(
        kind="bugsink",
        name="bugsink-big",
        team=Team.objects.create(slug="big-team", name="Big"),
        base_url=bugsink.url,
        scopes=[project],
        secret_env=TOKEN_ENV,
    )
    run = sync_source(source.pk)
    # Two pages, then each issue's latest event (its id, then its data) for its level.
    assert run.error == "" and run.created == PAGE + 1 and run.requests == 2 + 2 * (PAGE + 1)
    mirrored = Item.objects.filter(source=source)
    assert {i.external_id for i in mirrored} == {issue["id"] for issue in bugsink.issues(project)}
    assert {i.level for i in mirrored} == {"error"}
    # Mirrored, the levels of issues without new events are known: the two pages only.
    backend = BugsinkBackend(source)
    assert len(list(backend.fetch())) == PAGE + 1 and backend.requests == 2
    assert sync_source(source.pk).created == 0


# Last: it deletes an issue in the module's Bugsink.
def test_an_issue_deleted_in_bugsink_is_kept_and_marked_gone(board, bugsink, client):
    source, _click = board
    item = Item.objects.get(source=source, title__contains="no stack trace")
    requests.delete(
        f"{bugsink.url}/api/canonical/0/issues/{item.external_id}/",
        headers={"Authorization": f"Bearer {bugsink.token}"},
        timeout=30,
    ).raise_for_status()
    Source.objects.filter(pk=source.pk).update(last_reconciled_at=None)
    run = sync_source(source.pk)
    assert run.error == ""
    item.refresh_from_db()
    assert item.upstream_status == "gone"
    # Off the list to qualify; among all items, marked.
    assert item.title not in client.get("/board").content.decode()
    page = client.get("/board?state=all").content.decode()
    row = page.split(f'id="item-{item.pk}-title"', 1)[1].split("</td>", 1)[0]
    assert "supprimée à la source" in row


def test_attendu_on_an_issue_already_noisy_waits_for_n_more_events(
    bugsink, client, user, monkeypatch
):
    """Bugsink's threshold counts the events before the mute too: an issue that already had
    N events in the window came back with the next one. Attendu is "N more"."""
    project, dsn = bugsink.create_project("noisy")
    _send_from(bugsink, dsn, "production", "NoisyError", times=3)
    source = Source.objects.create(
        kind="bugsink",
        name="bugsink-noisy",
        team=Team.objects.create(slug="noisy-team", name="Noisy"),
        base_url=bugsink.url,
        scopes=[project],
        secret_env=TOKEN_ENV,
    )
    monkeypatch.setenv(TOKEN_ENV, bugsink.token)
    MembershipFactory(team=source.team, user=user)
    client.force_login(user)
    assert sync_source(source.pk).error == ""
    item = Item.objects.get(source=source)
    assert _upstream(bugsink, item)["digested_event_count"] == 3
    response = client.post(
        f"/board/items/{item.pk}/qualify",
        {"action": "expected", "key": "n1", "ignore_count": "2", "ignore_window": "60"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert _upstream(bugsink, item)["unmute_on_volume_based_conditions"] == [
        {"period": "minute", "nr_of_periods": 60, "volume": 3 + 2}
    ]
    item.refresh_from_db()
    assert item.qualification_params == {"ignoreCount": 2, "ignoreWindow": 60}
    _send_from(bugsink, dsn, "production", "NoisyError")  # one more
    assert _upstream(bugsink, item)["is_muted"] is True
    _send_from(bugsink, dsn, "production", "NoisyError")  # two more: the threshold
    assert _upstream(bugsink, item)["is_muted"] is False
