"""GitHub, through PyGithub: the issues "Bug" opens, and the small requests the vigie handles.

PyGithub speaks to api.github.com or a GitHub Enterprise server (`VIGIE_GITHUB_API_URL`). It
has its own HTTP stack, so it is configured here the way `vigie.http` would be: a timeout, no
client-side throttling, and no automatic retry, because a retried POST can open a second issue
or post a comment twice. Retrying is the caller's business, and it looks for its marker first.

Everything leaves this module as plain data (`Issue`), never as PyGithub objects, whose
attributes fetch lazily and would raise PyGithub's exceptions anywhere in Vigie.
"""

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
import structlog
from django.conf import settings
from github import (
    Auth,
    BadCredentialsException,
    Github,
    GithubException,
    RateLimitExceededException,
)

from vigie.logging import redact_text, register_secret

logger = structlog.get_logger(__name__)

TIMEOUT = 15  # seconds, per request
PAGE_SIZE = 100  # the most GitHub returns in one page
# How many recent issues to scan for a marker before asking the (eventually consistent) search.
RECENT_ISSUES = 50


class GitHubError(Exception):
    """GitHub did not do what was asked, worded for the board (never holds the token).

    `permanent`: retrying will not help (bad token, unknown repository, invalid request).
    `outcome_unknown`: a write may have happened anyway (timeout, 5xx after sending).
    `auth`: the token was refused. `retry_after`: seconds GitHub asked us to wait.
    """

    def __init__(
        self,
        message,
        *,
        permanent=False,
        outcome_unknown=False,
        auth=False,
        retry_after=None,
        status=None,
    ):
        super().__init__(redact_text(message))
        self.status = status
        self.permanent = permanent or auth
        self.outcome_unknown = outcome_unknown
        self.auth = auth
        self.retry_after = retry_after


@dataclass
class Issue:
    repo: str
    number: int
    title: str
    state: str
    html_url: str
    body: str = ""
    state_reason: str = ""
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    author: str = ""
    comments: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    is_pull_request: bool = False

    def has_label(self, name):
        return name.casefold() in (label.casefold() for label in self.labels)


def marker_for(item):
    """The hidden line that ties a GitHub issue to an item, whoever opened it and when."""
    return f"<!-- vigie:item:{item.source.name}:{item.external_id} -->"


def _aware(value):
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _retry_after(headers):
    """Seconds to wait from a 429's Retry-After or a 403's X-RateLimit-Reset (epoch)."""
    headers = {key.lower(): value for key, value in (headers or {}).items()}
    try:
        if "retry-after" in headers:
            return max(0.0, float(headers["retry-after"]))
        if "x-ratelimit-reset" in headers:
            return max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
    except ValueError:
        pass
    return None


def _call(what, fn, *, write=False):
    try:
        return fn()
    except BadCredentialsException:
        raise GitHubError(f"{what}: GitHub refused the token (401).", auth=True) from None
    except GithubException as exc:
        status = exc.status
        data = exc.data if isinstance(exc.data, dict) else {}
        detail = exc.message or data.get("message", "")
        if isinstance(exc, RateLimitExceededException) or status == 429:
            raise GitHubError(
                f"{what}: GitHub rate limit reached (HTTP {status}); try again later.",
                retry_after=_retry_after(exc.headers),
            ) from None
        if status == 403:
            raise GitHubError(
                f"{what}: GitHub refused it (403 {detail}): check the token's permissions.",
                auth=True,
            ) from None
        permanent = 400 <= status < 500 and status not in (408, 429)
        if status == 404:
            detail = "not found, or out of the token's reach"
        raise GitHubError(
            f"{what}: GitHub answered HTTP {status} {detail}".strip(),
            permanent=permanent,
            outcome_unknown=write and not permanent,
            status=status,
        ) from None
    except requests.RequestException as exc:
        raise GitHubError(
            f"{what}: GitHub did not answer ({exc.__class__.__name__}).", outcome_unknown=write
        ) from None


class Client:
    """One GitHub account: Vigie's (`VIGIE_GITHUB_TOKEN`) unless a source names its own."""

    def __init__(self, token=None, api_url=None, *, per_page=None):
        token = register_secret(token or settings.VIGIE_GITHUB_TOKEN)
        if not token:
            raise GitHubError(
                "GitHub is not configured (set VIGIE_GITHUB_TOKEN).", permanent=True, auth=True
            )
        self.per_page = per_page = per_page or PAGE_SIZE
        # What the source's SyncRun records: calls made, malformed rows skipped.
        self.requests = 0
        self.skipped = 0
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=(api_url or settings.VIGIE_GITHUB_API_URL).rstrip("/"),
            timeout=TIMEOUT,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            per_page=per_page,
            lazy=True,
        )

    def _do(self, what, fn, *, write=False):
        self.requests += 1
        return _call(what, fn, write=write)

    def _issue(self, repo, number):
        # Lazy: no request until an attribute or a write needs one.
        return self._gh.get_repo(repo).get_issue(int(number))

    # Reading --------------------------------------------------------------------------------

    def _pages(self, what, path, params):
        """JSON rows of every page of a listing, following GitHub's `Link: rel="next"`."""
        url, params = path, {**params, "per_page": self.per_page}
        while url:
            headers, rows = self._do(
                what,
                lambda url=url, params=params: self._gh.requester.requestJsonAndCheck(
                    "GET", url, parameters=params
                ),
            )
            if not isinstance(rows, list):
                raise GitHubError(f"{what}: GitHub's answer is not a list")
            yield from rows
            # The next link carries every parameter already.
            url, params = _next_page(headers), None

    def issue(self, repo, number):
        """The issue as GitHub has it now (one request)."""
        what = f"reading {repo}#{number}"
        _headers, data = self._do(
            what,
            lambda: self._gh.requester.requestJsonAndCheck("GET", f"/repos/{repo}/issues/{number}"),
        )
        try:
            return _plain(repo, data)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise GitHubError(f"{what}: GitHub's answer is not an issue") from None

    def labelled_issues(self, repo, label, *, since=None):
        """Open issues and pull requests of `repo` carrying `label`, most recently updated
        first, updated at or after `since` when given. One request per page of 100."""
        params = {"state": "open", "labels": label, "sort": "updated", "direction": "desc"}
        if since:
            params["since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        what = f"listing {repo}'s issues labelled {label!r}"
        for row in self._pages(what, f"/repos/{repo}/issues", params):
            try:
                yield _plain(repo, row)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.skipped += 1
                number = row.get("number") if isinstance(row, dict) else None
                logger.warning(
                    "github_issue_skipped",
                    repo=repo,
                    number=str(number)[:20],
                    reason=f"{exc.__class__.__name__}: {exc}"[:200],
                )

    def has_comment(self, repo, number, marker):
        """Whether a comment of the issue holds `marker` (an earlier attempt's, maybe)."""
        what = f"reading {repo}#{number}'s comments"
        rows = self._pages(what, f"/repos/{repo}/issues/{number}/comments", {})
        return any(isinstance(row, dict) and marker in (row.get("body") or "") for row in rows)

    # Writing --------------------------------------------------------------------------------

    def comment(self, repo, number, body):
        """Post a comment; returns its html_url."""
        return self._do(
            f"commenting on {repo}#{number}",
            lambda: self._issue(repo, number).create_comment(body).html_url,
            write=True,
        )

    def assign(self, repo, number, login):
        self._do(
            f"assigning {repo}#{number} to @{login}",
            lambda: self._issue(repo, number).add_to_assignees(login),
            write=True,
        )

    def unassign(self, repo, number, login):
        self._do(
            f"unassigning @{login} from {repo}#{number}",
            lambda: self._issue(repo, number).remove_from_assignees(login),
            write=True,
        )

    def set_state(self, repo, number, state, reason):
        self._do(
            f"setting {repo}#{number} {state}",
            lambda: self._issue(repo, number).edit(state=state, state_reason=reason),
            write=True,
        )

    def relabel(self, repo, number, *, add, remove):
        """Add the label `add` and take `remove` off; a label already off is not an error."""
        issue = self._issue(repo, number)
        self._do(f"labelling {repo}#{number} {add!r}", lambda: issue.add_to_labels(add), write=True)
        try:
            self._do(
                f"taking the label {remove!r} off {repo}#{number}",
                lambda: issue.remove_from_labels(remove),
                write=True,
            )
        except GitHubError as exc:
            # GitHub answers 404 for a label the issue does not carry: already the wanted state.
            if exc.status != 404:
                raise

    def open_issue(self, repo, title, body, labels=()):
        """Open an issue in `repo` ("owner/name"); returns its html_url."""
        repository = self._gh.get_repo(repo)
        issue = self._do(
            f"opening an issue in {repo}",
            lambda: repository.create_issue(title=title, body=body, labels=list(labels)),
            write=True,
        )
        return issue.html_url

    def find_issue_by_marker(self, repo, marker):
        """The html_url of an issue of `repo` whose body holds `marker`, else None.

        Recent issues first (they are what a lost answer just created, and listing is
        immediately consistent), then GitHub's search for older ones.
        """
        what = f"looking for an earlier issue in {repo}"
        repository = self._gh.get_repo(repo)
        recent = self._do(
            what,
            lambda: repository.get_issues(state="all", sort="created", direction="desc").get_page(
                0
            ),
        )
        for issue in recent:
            if marker in (issue.body or ""):
                return issue.html_url
        needle = marker.removeprefix("<!--").removesuffix("-->").strip()
        found = self._do(
            what,
            lambda: self._gh.search_issues(f'"{needle}" repo:{repo} in:body is:issue').get_page(0),
        )
        for issue in found:
            if marker in (issue.body or ""):
                return issue.html_url
        return None


_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def _next_page(headers):
    headers = {key.lower(): value for key, value in (headers or {}).items()}
    match = _NEXT.search(headers.get("link", ""))
    return match.group(1) if match else None


def _plain(repo, data):
    """An Issue from GitHub's JSON; KeyError/TypeError/ValueError when it is not an issue."""

    def stamp(value):
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None

    number, title = data["number"], data["title"]
    if not isinstance(number, int) or not isinstance(title, str):
        raise TypeError("number or title of the wrong type")
    return Issue(
        repo=repo,
        number=number,
        title=title,
        state=data.get("state") or "",
        html_url=data.get("html_url") or "",
        body=data.get("body") or "",
        state_reason=data.get("state_reason") or "",
        labels=[label["name"] for label in data.get("labels") or [] if isinstance(label, dict)],
        assignees=[user["login"] for user in data.get("assignees") or [] if isinstance(user, dict)],
        author=(data.get("user") or {}).get("login", ""),
        comments=int(data.get("comments") or 0),
        created_at=stamp(data.get("created_at")),
        updated_at=stamp(data.get("updated_at")),
        is_pull_request="pull_request" in data,
    )


def open_issue(repo, title, body, labels=()):
    return Client().open_issue(repo, title, body, labels)


def find_issue_by_marker(repo, marker):
    return Client(per_page=RECENT_ISSUES).find_issue_by_marker(repo, marker)
