import pytest
from django.urls import reverse

from triage import github
from triage.issue_report import issue_body, md_code
from triage.models import Action, Item
from triage.sources.base import SourceError
from triage.tests.factories import ItemFactory
from vigie import http

pytestmark = pytest.mark.django_db

REPO = "acme/app"


def click_bug(client, item, key):
    return client.post(
        reverse("triage:qualify-item", args=[item.pk]),
        {"action": "bug", "key": key},
        headers={"HX-Request": "true"},
    )


def test_open_issue_speaks_the_rest_api(fake_github):
    url = github.open_issue(REPO, "A title", "A body <!-- marker -->", ["bug"])
    assert url == "https://github.example/acme/app/issues/1"
    (issue,) = fake_github.issues(REPO)
    assert (issue["title"], issue["body"]) == ("A title", "A body <!-- marker -->")
    assert [label["name"] for label in issue["labels"]] == ["bug"]
    assert ("POST", "/repos/acme/app/issues") in fake_github.requests


def test_find_issue_by_marker_reads_recent_issues_then_search(fake_github):
    github.open_issue(REPO, "one", "<!-- vigie:item:prod:1 -->")
    assert github.find_issue_by_marker(REPO, "<!-- vigie:item:prod:1 -->").endswith("/issues/1")
    assert github.find_issue_by_marker(REPO, "<!-- vigie:item:prod:2 -->") is None
    assert ("GET", "/search/issues") in fake_github.requests


def test_find_issue_by_marker_falls_back_to_search_for_older_issues(fake_github, monkeypatch):
    monkeypatch.setattr(github, "RECENT_ISSUES", 2)
    fake_github.search_sees_new_issues = True
    github.open_issue(REPO, "old", "<!-- vigie:item:prod:old -->")
    for n in range(3):
        github.open_issue(REPO, f"newer {n}", "")
    assert github.find_issue_by_marker(REPO, "<!-- vigie:item:prod:old -->").endswith("/1")


def test_github_enterprise_base_url(fake_github, settings):
    settings.VIGIE_GITHUB_API_URL = fake_github.url + "/api/v3"
    assert github.open_issue(REPO, "t", "b").endswith("/issues/1")


def test_a_refused_token_is_a_permanent_error_without_the_token(fake_github, settings):
    settings.VIGIE_GITHUB_TOKEN = "ghp_wrong_secret_value"
    with pytest.raises(github.GitHubError) as caught:
        github.open_issue(REPO, "t", "b")
    assert caught.value.permanent and not caught.value.outcome_unknown
    assert "401" in str(caught.value) and "ghp_wrong" not in str(caught.value)


def test_a_5xx_on_create_leaves_the_outcome_unknown(fake_github):
    fake_github.fail_status = 502
    with pytest.raises(github.GitHubError) as caught:
        github.open_issue(REPO, "t", "b")
    assert caught.value.outcome_unknown and not caught.value.permanent


def test_no_token_configured_is_said_plainly(settings):
    settings.VIGIE_GITHUB_TOKEN = ""
    with pytest.raises(github.GitHubError, match="VIGIE_GITHUB_TOKEN"):
        github.open_issue(REPO, "t", "b")


def test_bug_opens_one_issue_with_what_a_developer_needs_and_comments_its_url(
    member_client, item, fake_github, flaky_backend
):
    response = click_bug(member_client, item, "a")

    (issue,) = fake_github.issues(REPO)
    url = issue["html_url"]
    body = issue["body"]
    assert issue["title"] == f"[{item.short_id}] {item.title}"
    assert f"<!-- vigie:item:prod:{item.external_id} -->" in body
    assert f"(<{item.permalink}>)" in body
    for fact in (
        "`app.views.invoice_total`",
        "**Events:** 42",
        "**Users:** 7",
        "`production`",
        "`app@1.4.2`",
        "`browser`: `Firefox 133`",
        "app/views.py:42 in invoice_total",
        "2026-11-01 08:00 UTC",
    ):
        assert fact in body
    assert flaky_backend.calls == [("comment", item.external_id, url)]
    assert f'href="{url}"' in response.content.decode()
    item.refresh_from_db()
    assert item.qualification == "bug" and item.github_issue_url == url
    assert item.qualification_params == {}  # the URL is stored once, in its field
    logged = Action.objects.get()
    assert logged.upstream_ok and logged.upstream_response["github_issue_url"] == url


def test_double_click_and_two_tabs_open_exactly_one_issue(
    member_client, item, fake_github, flaky_backend
):
    click_bug(member_client, item, "tab-1")
    click_bug(member_client, item, "tab-1")  # double click: same key
    click_bug(member_client, item, "tab-2")  # a second tab: another key, same item
    assert len(fake_github.issues(REPO)) == 1


def test_a_retry_after_a_timeout_finds_the_issue_instead_of_opening_another(
    member_client, item, fake_github, flaky_backend, monkeypatch
):
    monkeypatch.setattr(github, "TIMEOUT", 1)
    fake_github.slow_create = 2  # GitHub creates the issue, then answers too late
    html = click_bug(member_client, item, "a").content.decode()
    assert "ReadTimeout" in html and ">Réessayer</button>" in html
    item.refresh_from_db()
    assert item.writeback_state == Item.Writeback.FAILED and item.qualification == ""
    assert len(fake_github.issues(REPO)) == 1

    fake_github.slow_create = 0
    click_bug(member_client, item, "b")
    assert len(fake_github.issues(REPO)) == 1
    item.refresh_from_db()
    assert item.github_issue_url.endswith("/issues/1") and item.qualification == "bug"
    assert flaky_backend.calls == [("comment", item.external_id, item.github_issue_url)]


def test_a_failed_comment_keeps_the_issue_and_the_retry_only_comments(
    member_client, item, fake_github, flaky_backend
):
    flaky_backend.comment_fail = SourceError("Sentry answered HTTP 503")
    html = click_bug(member_client, item, "a").content.decode()
    assert "503" in html and ">Réessayer</button>" in html
    item.refresh_from_db()
    assert item.github_issue_url and item.qualification == ""

    flaky_backend.comment_fail = None
    click_bug(member_client, item, "b")
    assert len(fake_github.issues(REPO)) == 1
    item.refresh_from_db()
    assert item.qualification == "bug"


def test_a_github_outage_is_shown_on_the_row(member_client, item, fake_github, flaky_backend):
    fake_github.fail_status = 503
    html = click_bug(member_client, item, "a").content.decode()
    assert "HTTP 503" in html
    assert flaky_backend.calls == []  # no comment without an issue


def test_a_source_without_repository_says_so(member_client, source, fake_github, flaky_backend):
    item = ItemFactory(source=source)
    source.github_repository = ""
    source.save()
    html = click_bug(member_client, item, "a").content.decode()
    assert "pas de dépôt GitHub" in html


@pytest.mark.parametrize(
    "title",
    ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "a `tick` and ``two``"],
)
def test_hostile_text_goes_into_code_spans(source, title):
    item = ItemFactory.build(source=source, title=title, origin=title + "\n@everyone")
    body = issue_body(item, {"tags": {"x": title}, "frames": [f"```{title}"]}, "<!-- m -->")
    assert f"- **Title:** {md_code(title)}" in body
    assert "@everyone" not in body.replace(md_code(title + " @everyone"), "")
    assert "````text" in body  # the fence is longer than any backtick run inside


def test_md_code_fences_backticks():
    assert md_code("plain") == "`plain`"
    assert md_code("a `b` c") == "``a `b` c``"
    assert md_code("`edge`") == "`` `edge` ``"
    assert md_code("") == "—"


def test_github_goes_through_vigie_http_and_never_retries_a_write(monkeypatch, settings):
    settings.VIGIE_GITHUB_TOKEN = "ghp_any"
    settings.VIGIE_GITHUB_API_URL = "https://ghe.example/api/v3"
    calls = []

    def request(method, url, **kwargs):
        calls.append((method, url, kwargs["policy"].attempts))
        raise http.UpstreamError(f"{method} {url}: ConnectTimeout", reason="ConnectTimeout")

    monkeypatch.setattr(http, "request", request)
    with pytest.raises(github.GitHubError, match=r"did not answer \(ConnectTimeout\)") as caught:
        github.open_issue(REPO, "t", "b")
    assert caught.value.outcome_unknown
    with pytest.raises(github.GitHubError):
        github.Client().issue(REPO, 1)
    assert calls == [
        ("POST", f"https://ghe.example/api/v3/repos/{REPO}/issues", 1),
        ("GET", f"https://ghe.example/api/v3/repos/{REPO}/issues/1", 4),
    ]
