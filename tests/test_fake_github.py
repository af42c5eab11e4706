"""The fake GitHub answers PyGithub the way GitHub does, so the app's tests can trust it."""

import time
from datetime import UTC, datetime

import pytest
import requests
from github import (
    Auth,
    Github,
    GithubException,
    RateLimitExceededException,
    UnknownObjectException,
)

from tests.fakes.github import TOKEN

REPO = "acme/app"
ASK = "small-request"


def client(base_url, **options):
    # PyGithub otherwise sleeps between requests (0.25 s) and between writes (1 s).
    return Github(
        auth=Auth.Token(TOKEN),
        base_url=base_url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        **options,
    )


@pytest.fixture
def gh(fake_github):
    return client(fake_github.url, per_page=2)


@pytest.fixture
def repo(gh):
    return gh.get_repo(REPO)


def names(labels):
    return sorted(label.name for label in labels)


def test_listing_needs_every_label_any_case_and_follows_the_link_header(fake_github, repo):
    for day in range(1, 6):
        fake_github.add_issue(
            REPO, f"ask {day}", labels=[ASK, "Triaged"], updated_at=f"2025-01-0{day}T09:00:00Z"
        )
    fake_github.add_issue(REPO, "only one label", labels=[ASK])
    fake_github.add_issue(REPO, "closed", labels=[ASK, "triaged"], state="closed")

    listed = repo.get_issues(
        state="open",
        labels=["Small-Request", "triaged"],
        since=datetime(2025, 1, 2, 9, tzinfo=UTC),
        sort="updated",
        direction="asc",
    )

    assert [issue.title for issue in listed] == ["ask 2", "ask 3", "ask 4", "ask 5"]
    pages = [path for method, path in fake_github.requests if path.endswith("/issues")]
    assert pages == ["/repos/acme/app/issues", "/repositories/1/issues"]


def test_the_link_header_is_githubs(fake_github):
    for n in range(5):
        fake_github.add_issue(REPO, f"issue {n}")
    answer = requests.get(
        f"{fake_github.url}/repos/{REPO}/issues?per_page=2&page=2",
        headers={"Authorization": f"token {TOKEN}"},
        timeout=5,
    )
    base = f"{fake_github.url}/repositories/1/issues?per_page=2&page="
    assert answer.headers["Link"] == (
        f'<{base}1>; rel="prev", <{base}3>; rel="next", '
        f'<{base}3>; rel="last", <{base}1>; rel="first"'
    )
    assert [issue["number"] for issue in answer.json()] == [3, 2]


def test_pull_requests_are_listed_among_issues_and_can_be_told_apart(fake_github, repo):
    fake_github.add_issue(REPO, "an ask", labels=[ASK])
    fake_github.add_pull_request(REPO, "a fix", labels=[ASK])
    listed = list(repo.get_issues(labels=[ASK]))
    assert [(issue.number, issue.pull_request is None) for issue in listed] == [
        (2, False),
        (1, True),
    ]
    assert listed[0].html_url.endswith("/acme/app/pull/2")


def test_get_issue_and_what_is_not_there(fake_github, gh, repo):
    fake_github.add_issue(REPO, "an ask", body="please", user="carol")
    issue = repo.get_issue(1)
    assert (issue.title, issue.body, issue.user.login) == ("an ask", "please", "carol")
    assert issue.html_url == "https://github.example/acme/app/issues/1"
    assert (issue.assignees, issue.closed_at, issue.state_reason) == ([], None, None)
    with pytest.raises(UnknownObjectException):
        repo.get_issue(2)
    with pytest.raises(UnknownObjectException) as caught:
        gh.get_repo("acme/secret")
    assert caught.value.data["message"] == "Not Found"


def test_assigning_drops_who_cannot_be_assigned_but_editing_refuses_them(fake_github, repo):
    fake_github.add_issue(REPO, "an ask")
    fake_github.add_collaborator(REPO, "Alice")
    issue = repo.get_issue(1)

    issue.add_to_assignees("alice", "mallory")
    assert [user.login for user in issue.assignees] == ["Alice"]
    assert fake_github.issue(REPO, 1)["assignee"]["login"] == "Alice"

    issue.remove_from_assignees("alice")
    assert issue.assignees == []
    with pytest.raises(GithubException) as caught:
        issue.edit(assignees=["mallory"])
    assert caught.value.status == 422
    assert caught.value.data["errors"][0]["field"] == "assignees"


def test_close_then_reopen(fake_github, repo):
    fake_github.add_issue(REPO, "an ask", updated_at="2025-01-01T00:00:00Z")
    issue = repo.get_issue(1)

    issue.edit(state="closed", state_reason="completed")
    assert (issue.state, issue.state_reason) == ("closed", "completed")
    assert issue.closed_at is not None and issue.updated_at.year > 2025
    assert list(repo.get_issues(state="open")) == []

    issue.edit(state="open")
    assert (issue.state, issue.state_reason, issue.closed_at) == ("open", "reopened", None)

    issue.edit(state="closed", state_reason="not_planned", labels=["wontfix"], title="no")
    stored = fake_github.issue(REPO, 1)
    assert (stored["state_reason"], stored["title"]) == ("not_planned", "no")
    assert [label["name"] for label in stored["labels"]] == ["wontfix"]


def test_comments(fake_github, repo):
    fake_github.add_issue(REPO, "an ask")
    issue = repo.get_issue(1)
    first = issue.create_comment("Looking.")
    for n in range(2):
        issue.create_comment(f"Done {n}.")

    assert first.html_url == f"https://github.example/acme/app/issues/1#issuecomment-{first.id}"
    assert (first.body, first.user.login) == ("Looking.", "vigie-bot")
    assert [comment.body for comment in issue.get_comments()] == ["Looking.", "Done 0.", "Done 1."]
    assert list(issue.get_comments(since=datetime(2999, 1, 1))) == []
    assert repo.get_issue(1).comments == 3


def test_labels_add_remove_and_replace(fake_github, repo):
    fake_github.add_issue(REPO, "an ask", labels=[ASK])
    issue = repo.get_issue(1)

    issue.add_to_labels("needs info", "BUG")
    assert names(issue.get_labels()) == ["bug", "needs info", ASK]
    added = {label["name"]: label for label in fake_github.issue(REPO, 1)["labels"]}
    assert (added["needs info"]["color"], added["needs info"]["default"]) == ("ededed", False)
    assert (added["bug"]["color"], added["bug"]["default"]) == ("d73a4a", True)

    issue.remove_from_labels("needs info")
    assert ("DELETE", "/repos/acme/app/issues/1/labels/needs%20info") in fake_github.requests
    with pytest.raises(GithubException) as caught:
        issue.remove_from_labels("needs info")
    assert caught.value.status == 404 and caught.value.data["message"] == "Label does not exist"

    issue.set_labels("triaged")
    assert names(repo.get_issue(1).labels) == ["triaged"]


def test_primary_rate_limit(fake_github, gh):
    reset = int(time.time()) + 600
    fake_github.rate_limit = ("primary", reset)
    with pytest.raises(RateLimitExceededException) as caught:
        gh.get_repo(REPO)
    assert caught.value.status == 403
    assert caught.value.headers["x-ratelimit-remaining"] == "0"
    assert caught.value.headers["x-ratelimit-reset"] == str(reset)

    fake_github.rate_limit = None
    assert gh.get_repo(REPO).full_name == REPO


def test_secondary_rate_limit_as_403_or_429(fake_github, gh):
    fake_github.rate_limit = ("secondary", 60)
    with pytest.raises(RateLimitExceededException) as caught:
        gh.get_repo(REPO)
    assert caught.value.headers["retry-after"] == "60"

    # PyGithub only recognises a rate limit on a 403: a 429 is a plain GithubException.
    fake_github.rate_limit = ("secondary", 60, 429)
    with pytest.raises(GithubException) as caught:
        gh.get_repo(REPO)
    assert type(caught.value) is GithubException and caught.value.status == 429


def test_fail_next_fails_one_matching_request_before_or_after_writing(fake_github, repo):
    fake_github.add_issue(REPO, "an ask")
    issue = repo.get_issue(1)

    fake_github.fail_next("patch", r"/repos/acme/app/issues/\d+", 502)
    with pytest.raises(GithubException) as caught:
        issue.edit(state="closed")
    assert caught.value.status == 502
    assert fake_github.issue(REPO, 1)["state"] == "open"

    fake_github.fail_next("PATCH", r"/repos/acme/app/issues/1", 502, after_write=True)
    with pytest.raises(GithubException):
        issue.edit(state="closed")
    assert fake_github.issue(REPO, 1)["state"] == "closed"

    issue.edit(state="open")
    assert fake_github.issue(REPO, 1)["state"] == "open"


def test_a_slow_write_is_applied_though_its_answer_is_lost(fake_github):
    fake_github.add_issue(REPO, "an ask")
    gh = client(fake_github.url, timeout=1)
    issue = gh.get_repo(REPO).get_issue(1)
    fake_github.slow_writes = 2
    with pytest.raises(requests.Timeout):
        issue.create_comment("Taken.")
    assert [comment["body"] for comment in fake_github.comments(REPO, 1)] == ["Taken."]


def test_enterprise_prefix_is_kept_in_the_urls_pygithub_follows(fake_github):
    fake_github.add_issue(REPO, "an ask")
    gh = client(fake_github.url + "/api/v3")
    issue = gh.get_repo(REPO).get_issue(1)
    assert issue.url == f"{fake_github.url}/api/v3/repos/acme/app/issues/1"
    issue.create_comment("Seen.")
    assert fake_github.issue(REPO, 1)["comments"] == 1
