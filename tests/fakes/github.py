"""A fake GitHub REST API on loopback, the part Vigie reaches (triage.github, through vigie.http).

It serves repositories, issues (list with filters and real pagination, get, create, edit),
assignees, comments, issue labels and the issue search. Shapes and statuses follow GitHub's REST
reference, including its less obvious habits: pull requests are listed among issues, `Link`
headers point at `/repositories/{id}/…`, "Add assignees" silently drops logins that cannot be
assigned while "Update an issue" refuses them (422), and giving an issue a label the repository
does not have yet creates that label.

Knobs make it fail the way GitHub does: a refused token, an outage (`fail_status`), one failed
request (`fail_next`), primary and secondary rate limits (`rate_limit`), and a write that is
applied but answered too late (`slow_create`, `slow_writes`).
"""

import itertools
import json
import math
import re
import threading
import time
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

TOKEN = "ghp_fake_token_for_tests"
BOT = "vigie-bot"  # the token's user: it comments, closes, and can always be assigned
STAMP = "%Y-%m-%dT%H:%M:%SZ"
DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
# GitHub gives every new repository these labels, flagged `"default": true`.
DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)
STATE_REASONS = (None, "completed", "not_planned", "duplicate", "reopened")
SORT_KEYS = {"created": "created_at", "updated": "updated_at", "comments": "comments"}


def now():
    return datetime.now(UTC).strftime(STAMP)


def stamp(value):
    """GitHub's timestamp for a datetime (naive means UTC) or an ISO 8601 string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(STAMP)


class ApiError(Exception):
    """An answer GitHub gives instead of the resource: raised anywhere, sent by the handler."""

    def __init__(self, status, message, headers=(), **fields):
        super().__init__(message)
        self.status = status
        self.headers = headers
        self.body = {"message": message, "documentation_url": DOCS, **fields, "status": str(status)}


def not_found(message="Not Found"):
    return ApiError(404, message)


def invalid(resource, field, code="invalid", **error):
    return ApiError(
        422,
        "Validation Failed",
        errors=[{"resource": resource, "field": field, "code": code, **error}],
    )


def label_names(payload):
    """GitHub takes ["bug"] or {"labels": ["bug"]}, each name possibly as {"name": "bug"}."""
    items = payload.get("labels") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise invalid("Label", "labels")
    names = [item.get("name") if isinstance(item, dict) else item for item in items]
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise invalid("Label", "name")
    return names


def logins(payload):
    if not isinstance(payload, dict) or not isinstance(payload.get("assignees"), list):
        raise invalid("Issue", "assignees")
    return [login for login in payload["assignees"] if isinstance(login, str)]


class FakeGitHub:
    def __init__(self):
        # "owner/name" -> {"id", "issues": [issue, …] (pull requests too, as GitHub numbers them
        # together), "labels": {lowercased name: label}, "collaborators": {lowercased: login}}
        self.repos = {}
        self.users = {}  # lowercased login -> user
        self.requests = []  # (method, path)
        # Re-entrant: public helpers lock, and the handler calls some of them while locked.
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._failures = []  # [method, path regex, status, after_write], each used once
        # Knobs.
        self.token = TOKEN
        self.fail_status = None  # every request answers this status (e.g. 502)
        self.slow_create = 0.0  # seconds to sleep after creating an issue, before answering
        self.slow_writes = 0.0  # the same after any applied POST, PATCH, PUT or DELETE
        # ("primary", reset_epoch) or ("secondary", retry_after_seconds), optionally followed
        # by the status: 403 (the default) or 429, GitHub answers either for both kinds.
        self.rate_limit = None
        self.search_sees_new_issues = False  # GitHub's search index lags behind writes
        self.server = None
        self._user(BOT)

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # Seeding and reading, for tests.

    def add_repo(self, full_name):
        with self.lock:
            if full_name not in self.repos:
                self.repos[full_name] = {
                    "id": len(self.repos) + 1,
                    "issues": [],
                    "labels": {},
                    "collaborators": {BOT.lower(): BOT},
                }
                for name, color, description in DEFAULT_LABELS:
                    self.add_label(full_name, name, color, description)["default"] = True
        return full_name

    def add_collaborator(self, full_name, login):
        """`login` can be assigned issues of `full_name` (GitHub: push access)."""
        with self.lock:
            self.repos[full_name]["collaborators"][login.lower()] = login

    def add_label(self, full_name, name, color="ededed", description=None):
        """The repository's label named `name` (case-insensitively), created if need be."""
        with self.lock:
            labels = self.repos[full_name]["labels"]
            if name.lower() not in labels:
                label_id = next(self._ids)
                labels[name.lower()] = {
                    "id": label_id,
                    "node_id": f"LA_fake{label_id}",
                    "url": f"{self.url}/repos/{full_name}/labels/{quote(name, safe='')}",
                    "name": name,
                    "color": color,
                    "default": False,
                    "description": description,
                }
            return labels[name.lower()]

    def add_issue(
        self,
        full_name,
        title,
        body="",
        labels=(),
        user="someone",
        updated_at=None,
        created_at=None,
        state="open",
        assignees=(),
    ):
        """An issue that existed before the test (so the search index has it); returns it."""
        with self.lock:
            return self._new_issue(
                full_name,
                title,
                body=body,
                labels=labels,
                user=user,
                assignees=[self._user(login) for login in assignees],
                state=state,
                created_at=created_at,
                updated_at=updated_at,
                searchable=True,
            )

    def add_comment(self, full_name, number, body, user="someone", created_at=None):
        """A comment someone left on the issue before the test; returns it."""
        with self.lock:
            issue = self.issue(full_name, number)
            return self._new_comment(full_name, issue, body, user, created_at or now())

    def _new_comment(self, full_name, issue, body, login, moment):
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "node_id": f"IC_fake{comment_id}",
            "url": f"{self.url}/repos/{full_name}/issues/comments/{comment_id}",
            "html_url": f"{issue['html_url']}#issuecomment-{comment_id}",
            "issue_url": issue["url"],
            "body": body,
            "user": self._user(login),
            "created_at": moment,
            "updated_at": moment,
            "author_association": "MEMBER" if login == BOT else "NONE",
        }
        issue["_comments"].append(comment)
        issue["comments"] += 1
        issue["updated_at"] = moment
        return comment

    def add_pull_request(self, full_name, title, **fields):
        """A pull request, as the issues endpoints show it: an issue with a `pull_request` key."""
        with self.lock:
            issue = self.add_issue(full_name, title, **fields)
            number = issue["number"]
            html_url = f"https://github.example/{full_name}/pull/{number}"
            issue["html_url"] = html_url
            issue["pull_request"] = {
                "url": f"{self.url}/repos/{full_name}/pulls/{number}",
                "html_url": html_url,
                "diff_url": f"{html_url}.diff",
                "patch_url": f"{html_url}.patch",
                "merged_at": None,
            }
            return issue

    def issues(self, full_name):
        return self.repos[full_name]["issues"]

    def issue(self, full_name, number):
        issues = self.issues(full_name)
        if not 1 <= number <= len(issues):
            raise KeyError(f"{full_name}#{number}")
        return issues[number - 1]

    def comments(self, full_name, number):
        return self.issue(full_name, number)["_comments"]

    def fail_next(self, method, path_regex, status, *, after_write=False):
        """The next `method` request whose path (without /api/v3 nor query) fully matches
        `path_regex` answers `status`, once. With `after_write` the request is applied first:
        GitHub did it, but the answer says otherwise (a gateway 502 after the backend wrote)."""
        with self.lock:
            self._failures.append((method.upper(), re.compile(path_regex), status, after_write))

    # The model, under `lock`.

    def _take_failure(self, method, path):
        with self.lock:
            for failure in self._failures:
                if failure[0] == method and failure[1].fullmatch(path):
                    self._failures.remove(failure)
                    return failure
        return None

    def _user(self, login):
        if login.lower() not in self.users:
            user_id = len(self.users) + 1
            self.users[login.lower()] = {
                "login": login,
                "id": user_id,
                "node_id": f"U_fake{user_id}",
                "type": "User",
                "site_admin": False,
                "html_url": f"https://github.example/{login}",
            }
        return self.users[login.lower()]

    def _assignable(self, full_name, login):
        canonical = self.repos[full_name]["collaborators"].get(login.lower())
        return self._user(canonical) if canonical else None

    def _set_labels(self, full_name, issue, names):
        labels = {}
        for name in names:
            label = self.add_label(full_name, name)
            labels[label["id"]] = label
        issue["labels"] = list(labels.values())

    def _set_assignees(self, issue, users):
        unique = list({user["id"]: user for user in users}.values())
        issue["assignees"] = unique
        issue["assignee"] = unique[0] if unique else None

    def _new_issue(
        self,
        full_name,
        title,
        *,
        body,
        labels,
        user,
        assignees,
        state,
        created_at,
        updated_at,
        searchable,
    ):
        issues = self.issues(full_name)
        number = len(issues) + 1
        issue_id = next(self._ids)
        url = f"{self.url}/repos/{full_name}/issues/{number}"
        created_at = stamp(created_at or updated_at or datetime.now(UTC))
        updated_at = stamp(updated_at) if updated_at else created_at
        closed = state == "closed"
        issue = {
            "id": issue_id,
            "node_id": f"I_fake{issue_id}",
            "url": url,
            "repository_url": f"{self.url}/repos/{full_name}",
            "labels_url": url + "/labels{/name}",
            "comments_url": url + "/comments",
            "events_url": url + "/events",
            "html_url": f"https://github.example/{full_name}/issues/{number}",
            "number": number,
            "state": state,
            "state_reason": "completed" if closed else None,
            "title": title,
            "body": body,
            "user": self._user(user),
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": 0,
            "created_at": created_at,
            "updated_at": updated_at,
            "closed_at": updated_at if closed else None,
            "closed_by": self._user(BOT) if closed else None,
            "author_association": "MEMBER" if self._assignable(full_name, user) else "NONE",
            "_searchable": searchable,
            "_comments": [],
        }
        self._set_labels(full_name, issue, labels)
        self._set_assignees(issue, assignees)
        issues.append(issue)
        return issue

    def create_issue(self, full_name, payload):
        """POST /repos/{o}/{r}/issues, by the token's user; raises ApiError as GitHub refuses."""
        if not isinstance(payload, dict) or not payload.get("title"):
            raise invalid("Issue", "title", "missing")
        assignees = []
        for login in payload.get("assignees", []):
            user = self._assignable(full_name, login)
            if user is None:
                raise invalid("Issue", "assignees", value=login)
            assignees.append(user)
        return self._new_issue(
            full_name,
            payload["title"],
            body=payload.get("body"),
            labels=label_names(payload) if "labels" in payload else (),
            user=BOT,
            assignees=assignees,
            state="open",
            created_at=None,
            updated_at=None,
            searchable=self.search_sees_new_issues,
        )

    def repo_json(self, full_name):
        owner, name = full_name.split("/")
        return {
            "id": self.repos[full_name]["id"],
            "name": name,
            "full_name": full_name,
            "owner": {"login": owner, "id": 2, "type": "Organization"},
            "private": True,
            "html_url": f"https://github.example/{full_name}",
            "url": f"{self.url}/repos/{full_name}",
            "has_issues": True,
            "open_issues_count": sum(i["state"] == "open" for i in self.issues(full_name)),
        }


# (method, path under the repository, Handler method); an issue number comes first.
ROUTES = (
    ("GET", r"", "get_repo"),
    ("GET", r"/issues", "list_issues"),
    ("POST", r"/issues", "create_issue"),
    ("GET", r"/issues/(\d+)", "get_issue"),
    ("PATCH", r"/issues/(\d+)", "edit_issue"),
    ("POST", r"/issues/(\d+)/assignees", "add_assignees"),
    ("DELETE", r"/issues/(\d+)/assignees", "remove_assignees"),
    ("GET", r"/issues/(\d+)/comments", "list_comments"),
    ("POST", r"/issues/(\d+)/comments", "create_comment"),
    ("GET", r"/issues/(\d+)/labels", "list_labels"),
    ("POST", r"/issues/(\d+)/labels", "add_labels"),
    ("PUT", r"/issues/(\d+)/labels", "set_labels"),
    ("DELETE", r"/issues/(\d+)/labels", "clear_labels"),
    ("DELETE", r"/issues/(\d+)/labels/([^/]+)", "remove_label"),
)


def make_handler(fake):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _route(self, method):
            split = urlsplit(self.path)
            path = split.path.removeprefix("/api/v3")
            self.prefix = split.path.removesuffix(path)
            query = {key: values[0] for key, values in parse_qs(split.query).items()}
            # Read the body even when refusing: closing on unread bytes resets the connection.
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with fake.lock:
                fake.requests.append((method, path))
            try:
                self._gates()
                failure = fake._take_failure(method, path)
                if failure and not failure[3]:
                    raise self._failure(failure[2])
                with fake.lock:
                    action, (status, body, headers) = self._dispatch(method, path, query, raw)
                if method != "GET" and status < 400:
                    slow_create = fake.slow_create if action == "create_issue" else 0
                    time.sleep(max(fake.slow_writes, slow_create))
                if failure:
                    raise self._failure(failure[2])
            except ApiError as error:
                status, body, headers = error.status, error.body, error.headers
            self._send(status, body, headers)

        def _gates(self):
            given = self.headers.get("Authorization", "")
            if given not in (f"token {fake.token}", f"Bearer {fake.token}"):
                raise ApiError(401, "Bad credentials")
            if fake.rate_limit:
                kind, value, *status = fake.rate_limit
                raise self._rate_limited(kind, value, status[0] if status else 403)
            if fake.fail_status:
                raise self._failure(fake.fail_status)

        def _failure(self, status):
            return ApiError(status, "Server Error" if status >= 500 else HTTPStatus(status).phrase)

        def _rate_limited(self, kind, value, status):
            if kind == "primary":
                return ApiError(
                    status,
                    f"API rate limit exceeded for user ID {fake._user(BOT)['id']}.",
                    headers=[
                        ("X-RateLimit-Remaining", "0"),
                        ("X-RateLimit-Used", "5000"),
                        ("X-RateLimit-Reset", str(int(value))),
                    ],
                    documentation_url=RATE_LIMIT_DOCS + "#about-primary-rate-limits",
                )
            return ApiError(
                status,
                "You have exceeded a secondary rate limit. "
                "Please wait a few minutes before you try again.",
                headers=[("Retry-After", str(int(value)))],
                documentation_url=RATE_LIMIT_DOCS + "#about-secondary-rate-limits",
            )

        def _dispatch(self, method, path, query, raw):
            try:
                payload = json.loads(raw) if raw else {}
            except ValueError:
                raise ApiError(400, "Problems parsing JSON") from None
            if method == "GET" and path == "/search/issues":
                return "search", self._search(query)
            full_name, rest = self._repo(path)
            for verb, pattern, action in ROUTES:
                match = re.fullmatch(pattern, rest)
                if match and verb == method:
                    number, *more = match.groups() or (None,)
                    issue = self._issue(full_name, number) if number else None
                    reply = getattr(self, f"api_{action}")(full_name, issue, query, payload, *more)
                    return action, reply
            raise not_found()

        def _repo(self, path):
            match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path) or re.fullmatch(
                r"/repositories/(\d+)(/.*)?", path
            )
            if match:
                key = match.group(1).lower()
                for full_name, repo in fake.repos.items():
                    if key in (full_name.lower(), str(repo["id"])):
                        return full_name, match.group(2) or ""
            raise not_found()

        def _issue(self, full_name, number):
            try:
                return fake.issue(full_name, int(number))
            except KeyError:
                raise not_found() from None

        def _send(self, status, body, headers=()):
            data = b"" if body is None else json.dumps(self._render(body)).encode()
            self.send_response(status)
            sent = {
                "Content-Type": "application/json; charset=utf-8",
                "Content-Length": str(len(data)),
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "4999",
                "X-RateLimit-Used": "1",
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
                "X-RateLimit-Resource": "core",
                **dict(headers),
            }
            for name, value in sent.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _api_url(self, url):
            """Under /api/v3 (GitHub Enterprise) the API's own URLs carry the prefix."""
            return fake.url + self.prefix + url.removeprefix(fake.url)

        def _render(self, value, key=""):
            if isinstance(value, dict):
                return {k: self._render(v, k) for k, v in value.items() if not k.startswith("_")}
            if isinstance(value, list):
                return [self._render(item) for item in value]
            if isinstance(value, str) and key.endswith("url") and value.startswith(fake.url):
                return self._api_url(value)
            return value

        def _paginate(self, rows, query, full_name, rest):
            try:
                per_page = min(max(int(query.get("per_page", 30)), 1), 100)
                page = max(int(query.get("page", 1)), 1)
            except ValueError:
                raise invalid("Query", "page") from None
            last = max(math.ceil(len(rows) / per_page), 1)
            rels = [("prev", page - 1)] if page > 1 else []
            if page < last:
                rels += [("next", page + 1), ("last", last)]
            if page > 1:
                rels.append(("first", 1))
            # GitHub's links name the repository by id and keep every other query parameter.
            base = f"{fake.url}{self.prefix}/repositories/{fake.repos[full_name]['id']}{rest}"
            params = {key: value for key, value in query.items() if key != "page"}
            link = ", ".join(
                f'<{base}?{urlencode({**params, "page": number})}>; rel="{rel}"'
                for rel, number in rels
            )
            headers = [("Link", link)] if link else []
            return 200, rows[(page - 1) * per_page : page * per_page], headers

        def _since(self, query, resource):
            try:
                return stamp(query["since"]) if "since" in query else None
            except ValueError:
                raise invalid(resource, "since") from None

        # Endpoints: (full_name, issue or None, query, payload, *path groups) -> reply.

        def api_get_repo(self, full_name, issue, query, payload):
            return 200, fake.repo_json(full_name), ()

        def api_list_issues(self, full_name, issue, query, payload):
            state = query.get("state", "open")
            sort = query.get("sort", "created")
            direction = query.get("direction", "desc")
            for field, value, allowed in (
                ("state", state, ("open", "closed", "all")),
                ("sort", sort, SORT_KEYS),
                ("direction", direction, ("asc", "desc")),
            ):
                if value not in allowed:
                    raise invalid("Issue", field, value=value)
            since = self._since(query, "Issue")
            wanted = {name.strip().lower() for name in query.get("labels", "").split(",")} - {""}
            assignee = query.get("assignee")
            rows = [
                row
                for row in fake.issues(full_name)
                if state in ("all", row["state"])
                and wanted <= {label["name"].lower() for label in row["labels"]}
                and (since is None or row["updated_at"] >= since)
                and self._assigned(row, assignee)
            ]
            key = SORT_KEYS[sort]
            rows.sort(key=lambda row: (row[key], row["number"]), reverse=direction == "desc")
            return self._paginate(rows, query, full_name, "/issues")

        def _assigned(self, issue, assignee):
            logins = {user["login"].lower() for user in issue["assignees"]}
            if assignee is None:
                return True
            if assignee == "none":
                return not logins
            if assignee == "*":
                return bool(logins)
            return assignee.lower() in logins

        def api_create_issue(self, full_name, issue, query, payload):
            issue = fake.create_issue(full_name, payload)
            return 201, issue, [("Location", self._api_url(issue["url"]))]

        def api_get_issue(self, full_name, issue, query, payload):
            return 200, issue, ()

        def api_edit_issue(self, full_name, issue, query, payload):
            if not isinstance(payload, dict):
                raise invalid("Issue", "body")
            if "title" in payload and not (isinstance(payload["title"], str) and payload["title"]):
                raise invalid("Issue", "title", "missing_field")
            state = payload.get("state", issue["state"])
            if state not in ("open", "closed"):
                raise invalid("Issue", "state", value=state)
            if payload.get("state_reason") not in STATE_REASONS:
                raise invalid("Issue", "state_reason", value=payload["state_reason"])
            labels = label_names(payload) if "labels" in payload else None
            assignees = None
            if "assignees" in payload:
                assignees = []
                for login in logins(payload):
                    user = fake._assignable(full_name, login)
                    if user is None:
                        raise invalid("Issue", "assignees", value=login)
                    assignees.append(user)

            moment = now()
            for key in ("title", "body"):
                if key in payload:
                    issue[key] = payload[key]
            if labels is not None:
                fake._set_labels(full_name, issue, labels)
            if assignees is not None:
                fake._set_assignees(issue, assignees)
            if state != issue["state"]:
                closing = state == "closed"
                issue.update(
                    state=state,
                    state_reason=(payload.get("state_reason") or "completed")
                    if closing
                    else "reopened",
                    closed_at=moment if closing else None,
                    closed_by=fake._user(BOT) if closing else None,
                )
            elif "state_reason" in payload:
                issue["state_reason"] = payload["state_reason"]
            issue["updated_at"] = moment
            return 200, issue, ()

        def api_add_assignees(self, full_name, issue, query, payload):
            added = [fake._assignable(full_name, login) for login in logins(payload)]
            fake._set_assignees(issue, issue["assignees"] + [user for user in added if user])
            issue["updated_at"] = now()
            return 201, issue, ()

        def api_remove_assignees(self, full_name, issue, query, payload):
            gone = {login.lower() for login in logins(payload)}
            kept = [user for user in issue["assignees"] if user["login"].lower() not in gone]
            fake._set_assignees(issue, kept)
            issue["updated_at"] = now()
            return 200, issue, ()

        def api_list_comments(self, full_name, issue, query, payload):
            since = self._since(query, "IssueComment")
            rows = [c for c in issue["_comments"] if since is None or c["updated_at"] >= since]
            return self._paginate(rows, query, full_name, f"/issues/{issue['number']}/comments")

        def api_create_comment(self, full_name, issue, query, payload):
            body = payload.get("body") if isinstance(payload, dict) else None
            if not isinstance(body, str) or not body:
                raise invalid("IssueComment", "body", "missing_field")
            return 201, fake._new_comment(full_name, issue, body, BOT, now()), ()

        def api_list_labels(self, full_name, issue, query, payload):
            return self._paginate(
                issue["labels"], query, full_name, f"/issues/{issue['number']}/labels"
            )

        def api_add_labels(self, full_name, issue, query, payload):
            current = [label["name"] for label in issue["labels"]]
            fake._set_labels(full_name, issue, current + label_names(payload))
            issue["updated_at"] = now()
            return 200, issue["labels"], ()

        def api_set_labels(self, full_name, issue, query, payload):
            fake._set_labels(full_name, issue, label_names(payload))
            issue["updated_at"] = now()
            return 200, issue["labels"], ()

        def api_clear_labels(self, full_name, issue, query, payload):
            fake._set_labels(full_name, issue, [])
            issue["updated_at"] = now()
            return 204, None, ()

        def api_remove_label(self, full_name, issue, query, payload, name):
            name = unquote(name).lower()
            kept = [label for label in issue["labels"] if label["name"].lower() != name]
            if len(kept) == len(issue["labels"]):
                raise not_found("Label does not exist")
            issue["labels"] = kept
            issue["updated_at"] = now()
            return 200, kept, ()

        def _search(self, query):
            q = query.get("q", "")
            repo = re.search(r"repo:(\S+)", q)
            phrase = re.search(r'"([^"]+)"', q)
            rows = [
                issue
                for name, data in fake.repos.items()
                if not repo or repo.group(1) == name
                for issue in data["issues"]
                if issue["_searchable"]
                and (not phrase or phrase.group(1) in (issue["body"] or ""))
                and ("is:issue" not in q or "pull_request" not in issue)
            ]
            body = {
                "total_count": len(rows),
                "incomplete_results": False,
                "items": [dict(issue, score=1.0) for issue in rows],
            }
            return 200, body, ()

        def do_GET(self):
            self._route("GET")

        def do_POST(self):
            self._route("POST")

        def do_PATCH(self):
            self._route("PATCH")

        def do_PUT(self):
            self._route("PUT")

        def do_DELETE(self):
            self._route("DELETE")

    return Handler


@pytest.fixture
def fake_github(settings):
    fake = FakeGitHub()
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(fake))
    fake.server.daemon_threads = True
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    settings.VIGIE_GITHUB_TOKEN = TOKEN
    settings.VIGIE_GITHUB_API_URL = fake.url
    fake.add_repo("acme/app")
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
