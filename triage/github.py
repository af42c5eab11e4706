"""The GitHub side of the "Bug" qualification: open an issue, find one opened before.

PyGithub speaks to api.github.com or a GitHub Enterprise server (`VIGIE_GITHUB_API_URL`). It
has its own HTTP stack, so it is configured here the way `vigie.http` would be: a timeout, no
client-side throttling, and no automatic retry, because a retried POST can open a second issue.
Retrying is the caller's business, and it looks for the issue's marker first.
"""

import requests
from django.conf import settings
from github import Auth, BadCredentialsException, Github, GithubException

from vigie.logging import redact_text

TIMEOUT = 15  # seconds, per request
# How many recent issues to scan for a marker before asking the (eventually consistent) search.
RECENT_ISSUES = 50


class GitHubError(Exception):
    """GitHub did not do what was asked, worded for the board (never holds the token).

    `permanent`: retrying will not help (bad token, unknown repository, invalid request).
    `outcome_unknown`: a write may have happened anyway (timeout, 5xx after sending).
    """

    def __init__(self, message, *, permanent=False, outcome_unknown=False):
        super().__init__(redact_text(message))
        self.permanent = permanent
        self.outcome_unknown = outcome_unknown


def marker_for(item):
    """The hidden line that ties a GitHub issue to an item, whoever opened it and when."""
    return f"<!-- vigie:item:{item.source.name}:{item.external_id} -->"


def _client():
    if not settings.VIGIE_GITHUB_TOKEN:
        raise GitHubError("GitHub is not configured (set VIGIE_GITHUB_TOKEN).", permanent=True)
    return Github(
        auth=Auth.Token(settings.VIGIE_GITHUB_TOKEN),
        base_url=settings.VIGIE_GITHUB_API_URL.rstrip("/"),
        timeout=TIMEOUT,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        per_page=RECENT_ISSUES,
        lazy=True,
    )


def _call(what, fn, *, write=False):
    try:
        return fn()
    except BadCredentialsException:
        raise GitHubError(f"{what}: GitHub refused the token (401).", permanent=True) from None
    except GithubException as exc:
        status = exc.status
        data = exc.data if isinstance(exc.data, dict) else {}
        detail = exc.message or data.get("message", "")
        permanent = 400 <= status < 500 and status not in (408, 429)
        raise GitHubError(
            f"{what}: GitHub answered HTTP {status} {detail}".strip(),
            permanent=permanent,
            outcome_unknown=write and not permanent,
        ) from None
    except requests.RequestException as exc:
        raise GitHubError(
            f"{what}: GitHub did not answer ({exc.__class__.__name__}).", outcome_unknown=write
        ) from None


def open_issue(repo, title, body, labels=()):
    """Open an issue in `repo` ("owner/name"); returns its html_url."""
    gh = _client()
    repository = gh.get_repo(repo)
    issue = _call(
        f"opening an issue in {repo}",
        lambda: repository.create_issue(title=title, body=body, labels=list(labels)),
        write=True,
    )
    return issue.html_url


def find_issue_by_marker(repo, marker):
    """The html_url of an issue of `repo` whose body holds `marker`, else None.

    Recent issues first (they are what a lost answer just created, and listing is immediately
    consistent), then GitHub's search for older ones.
    """
    gh = _client()
    what = f"looking for an earlier issue in {repo}"
    repository = gh.get_repo(repo)
    recent = _call(
        what,
        lambda: repository.get_issues(state="all", sort="created", direction="desc").get_page(0),
    )
    for issue in recent:
        if marker in (issue.body or ""):
            return issue.html_url
    needle = marker.removeprefix("<!--").removesuffix("-->").strip()
    found = _call(
        what, lambda: gh.search_issues(f'"{needle}" repo:{repo} in:body is:issue').get_page(0)
    )
    for issue in found:
        if marker in (issue.body or ""):
            return issue.html_url
    return None
