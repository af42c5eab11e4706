"""GitHub's REST API: the issues "Bug" opens, and the small requests the vigie handles.

It speaks to api.github.com or a GitHub Enterprise server (`VIGIE_GITHUB_API_URL`) through
`vigie.http`, like every upstream: timeouts, redaction, and retries for reads only, because a
retried POST can open a second issue or post a comment twice. Retrying a write is the caller's
business, and it looks for its marker first.

Everything leaves this module as plain data (`Issue`).
"""

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

import structlog
from django.conf import settings

from vigie import http
from vigie.logging import redact_text, register_secret

logger = structlog.get_logger(__name__)

TIMEOUT = 15  # seconds, per request
PAGE_SIZE = 100  # the most GitHub returns in one page
# How many recent issues to scan for a marker before asking the (eventually consistent) search.
RECENT_ISSUES = 50
API_VERSION = "2022-11-28"
WRITE = http.RetryPolicy(attempts=1)


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


@dataclass
class Comment:
    author: str
    body: str
    created_at: datetime | None
    html_url: str = ""


def marker_for(item):
    """The hidden line that ties a GitHub issue to an item, whoever opened it and when."""
    return f"<!-- vigie:item:{item.source.name}:{item.external_id} -->"


def _aware(value):
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _rate_limit_wait(response):
    """Seconds until GitHub's rate-limit window resets (X-RateLimit-Reset, epoch seconds),
    from a response or an UpstreamError."""
    try:
        return max(0.0, float(response.headers["X-RateLimit-Reset"]) - time.time())
    except (KeyError, TypeError, ValueError):
        return None


def _detail(error):
    """GitHub's own words from an error answer ({"message": …}), else its text."""
    try:
        return str(json.loads(error.body).get("message", ""))
    except (ValueError, AttributeError):
        return error.body


def _github_error(what, error, write):
    status = error.status
    if status is None:
        return GitHubError(
            f"{what}: GitHub did not answer ({error.reason or 'no answer'}).", outcome_unknown=write
        )
    detail = _detail(error)
    limited = status == 429 or (
        status == 403
        and (error.headers.get("X-RateLimit-Remaining") == "0" or "rate limit" in detail.lower())
    )
    if limited:
        # A 403 is not retried by vigie.http, so its waits are read here (the error carries
        # the answer's headers, as a response would).
        wait = error.retry_after
        if wait is None:
            wait = http.retry_after_seconds(error)
        if wait is None:
            wait = _rate_limit_wait(error)
        return GitHubError(
            f"{what}: GitHub rate limit reached (HTTP {status}); try again later.",
            retry_after=wait,
        )
    if status == 401:
        return GitHubError(f"{what}: GitHub refused the token (401).", auth=True)
    if status == 403:
        return GitHubError(
            f"{what}: GitHub refused it (403 {detail}): check the token's permissions.", auth=True
        )
    permanent = 400 <= status < 500 and status not in (408, 429)
    if status == 404:
        detail = "not found, or out of the token's reach"
    return GitHubError(
        f"{what}: GitHub answered HTTP {status} {detail}".strip(),
        permanent=permanent,
        outcome_unknown=write and not permanent,
        status=status,
    )


class Client:
    """One GitHub account: Vigie's (`VIGIE_GITHUB_TOKEN`) unless a source names its own."""

    def __init__(self, token=None, api_url=None, *, per_page=None):
        token = register_secret(token or settings.VIGIE_GITHUB_TOKEN)
        if not token:
            raise GitHubError(
                "GitHub is not configured (set VIGIE_GITHUB_TOKEN).", permanent=True, auth=True
            )
        self.per_page = per_page or PAGE_SIZE
        # What the source's SyncRun records: calls made, malformed rows skipped.
        self.requests = 0
        self.skipped = 0
        self.api = (api_url or settings.VIGIE_GITHUB_API_URL).rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }

    def _call(self, what, method, path, *, write=False, **kwargs):
        """One request (`path` under the API root, or a URL GitHub gave); its response."""
        url = path if path.startswith(("https://", "http://")) else self.api + path
        self.requests += 1
        try:
            return http.request(
                method,
                url,
                headers=self._headers,
                timeout=TIMEOUT,
                policy=WRITE if write else http.RetryPolicy(),
                rate_limit_wait=_rate_limit_wait,
                **kwargs,
            )
        except http.UpstreamError as exc:
            raise _github_error(what, exc, write) from None

    def _json(self, what, response):
        try:
            return response.json()
        except ValueError:
            raise GitHubError(f"{what}: GitHub's answer is not JSON") from None

    # Reading --------------------------------------------------------------------------------

    def _pages(self, what, path, params):
        """JSON rows of every page of a listing, following GitHub's `Link: rel="next"`."""
        url, params = path, {**params, "per_page": self.per_page}
        while url:
            response = self._call(what, "GET", url, params=params)
            rows = self._json(what, response)
            if not isinstance(rows, list):
                raise GitHubError(f"{what}: GitHub's answer is not a list")
            yield from rows
            # The next link carries every parameter already.
            url, params = response.links.get("next", {}).get("url"), None

    def issue(self, repo, number):
        """The issue as GitHub has it now (one request)."""
        what = f"reading {repo}#{number}"
        data = self._json(what, self._call(what, "GET", f"/repos/{repo}/issues/{number}"))
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

    def comments(self, repo, number, *, limit):
        """The issue's first `limit` comments, in GitHub's order (oldest first): no page past
        the one holding the last of them is read."""
        what = f"reading {repo}#{number}'s comments"
        rows = self._pages(what, f"/repos/{repo}/issues/{number}/comments", {})
        return [_comment(row) for row in itertools.islice(rows, limit) if isinstance(row, dict)]

    def has_comment(self, repo, number, marker):
        """Whether a comment of the issue holds `marker` (an earlier attempt's, maybe)."""
        what = f"reading {repo}#{number}'s comments"
        rows = self._pages(what, f"/repos/{repo}/issues/{number}/comments", {})
        return any(isinstance(row, dict) and marker in (row.get("body") or "") for row in rows)

    # Writing --------------------------------------------------------------------------------

    def _write(self, what, method, path, body):
        return self._call(what, method, path, write=True, json=body)

    def comment(self, repo, number, body):
        """Post a comment; returns its html_url."""
        what = f"commenting on {repo}#{number}"
        response = self._write(
            what, "POST", f"/repos/{repo}/issues/{number}/comments", {"body": body}
        )
        return str(self._json(what, response).get("html_url", ""))

    def assign(self, repo, number, login):
        what = f"assigning {repo}#{number} to @{login}"
        self._write(
            what, "POST", f"/repos/{repo}/issues/{number}/assignees", {"assignees": [login]}
        )

    def unassign(self, repo, number, login):
        what = f"unassigning @{login} from {repo}#{number}"
        path = f"/repos/{repo}/issues/{number}/assignees"
        self._write(what, "DELETE", path, {"assignees": [login]})

    def set_state(self, repo, number, state, reason):
        what = f"setting {repo}#{number} {state}"
        body = {"state": state, "state_reason": reason}
        self._write(what, "PATCH", f"/repos/{repo}/issues/{number}", body)

    def relabel(self, repo, number, *, add, remove):
        """Add the label `add` and take `remove` off; a label already off is not an error."""
        path = f"/repos/{repo}/issues/{number}/labels"
        self._write(f"labelling {repo}#{number} {add!r}", "POST", path, {"labels": [add]})
        try:
            self._write(
                f"taking the label {remove!r} off {repo}#{number}",
                "DELETE",
                f"{path}/{quote(remove, safe='')}",
                None,
            )
        except GitHubError as exc:
            # GitHub answers 404 for a label the issue does not carry: already the wanted state.
            if exc.status != 404:
                raise

    def open_issue(self, repo, title, body, labels=()):
        """Open an issue in `repo` ("owner/name"); returns its html_url."""
        what = f"opening an issue in {repo}"
        payload = {"title": title, "body": body, "labels": list(labels)}
        response = self._write(what, "POST", f"/repos/{repo}/issues", payload)
        url = self._json(what, response).get("html_url")
        if not isinstance(url, str) or not url:
            raise GitHubError(f"{what}: GitHub's answer has no issue URL", outcome_unknown=True)
        return url

    def find_issue_by_marker(self, repo, marker):
        """The html_url of an issue of `repo` whose body holds `marker`, else None.

        Recent issues first (they are what a lost answer just created, and listing is
        immediately consistent), then GitHub's search for older ones.
        """
        what = f"looking for an earlier issue in {repo}"
        params = {"state": "all", "sort": "created", "direction": "desc", "per_page": self.per_page}
        recent = self._json(what, self._call(what, "GET", f"/repos/{repo}/issues", params=params))
        needle = marker.removeprefix("<!--").removesuffix("-->").strip()
        search = {"q": f'"{needle}" repo:{repo} in:body is:issue', "per_page": self.per_page}
        for rows in (recent, None):
            if rows is None:
                found = self._json(what, self._call(what, "GET", "/search/issues", params=search))
                rows = found.get("items") if isinstance(found, dict) else None
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict) and marker in (row.get("body") or ""):
                    return row.get("html_url")
        return None


def _stamp(value):
    """A time in GitHub's JSON ("2026-01-31T12:00:00Z"); ValueError when it is not one."""
    return _aware(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None


def _comment(data):
    """A Comment from GitHub's JSON; what is missing or malformed in it is left blank."""
    user = data.get("user")
    try:
        created_at = _stamp(data.get("created_at"))
    except (TypeError, ValueError, AttributeError):
        created_at = None
    return Comment(
        author=str(user.get("login") or "") if isinstance(user, dict) else "",
        body=str(data.get("body") or ""),
        created_at=created_at,
        html_url=str(data.get("html_url") or ""),
    )


def _plain(repo, data):
    """An Issue from GitHub's JSON; KeyError/TypeError/ValueError when it is not an issue."""
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
        created_at=_stamp(data.get("created_at")),
        updated_at=_stamp(data.get("updated_at")),
        is_pull_request="pull_request" in data,
    )


ISSUE_REFERENCE = re.compile(
    r"^(?:https?://[^/\s]+/(?P<url_repo>[\w.-]+/[\w.-]+)/issues/(?P<url_number>\d+)/?"
    r"|(?P<repo>[\w.-]+/[\w.-]+)?#?(?P<number>\d+))$"
)


def parse_issue_reference(text, default_repo):
    """(repo, number) from an issue's URL, "owner/name#12", "#12" or "12" (in `default_repo`);
    None when it is none of these."""
    found = ISSUE_REFERENCE.match((text or "").strip())
    if not found:
        return None
    if found["url_repo"]:
        return found["url_repo"], int(found["url_number"])
    repo = found["repo"] or default_repo
    return (repo, int(found["number"])) if repo else None


def read_issue(repo, number):
    return Client().issue(repo, number)


def open_issue(repo, title, body, labels=()):
    return Client().open_issue(repo, title, body, labels)


def find_issue_by_marker(repo, marker):
    return Client(per_page=RECENT_ISSUES).find_issue_by_marker(repo, marker)
