"""A fake GitHub REST API on loopback: the few endpoints the "Bug" qualification calls.

Shapes follow GitHub's REST reference ("Get a repository", "Create an issue", "List repository
issues", "Search issues and pull requests"). Knobs make it fail the way GitHub does: a refused
token, 5xx, and a slow answer to a POST that has already created the issue.
"""

import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

TOKEN = "ghp_fake_token_for_tests"


class FakeGitHub:
    def __init__(self):
        self.repos = {}  # "owner/name" -> {"issues": [issue, …]}
        self.requests = []  # (method, path)
        self.lock = threading.Lock()
        # Knobs.
        self.token = TOKEN
        self.fail_status = None  # every request answers this status (e.g. 502)
        self.slow_create = 0.0  # seconds to sleep after creating, before answering
        self.search_sees_new_issues = False  # GitHub's search index lags behind writes
        self.server = None

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add_repo(self, full_name):
        self.repos.setdefault(full_name, {"issues": [], "id": len(self.repos) + 1})
        return full_name

    def issues(self, full_name):
        return self.repos[full_name]["issues"]

    def _user(self):
        return {"login": "vigie-bot", "id": 1, "type": "User", "site_admin": False}

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
            "open_issues_count": len(self.issues(full_name)),
        }

    def create_issue(self, full_name, payload):
        issues = self.issues(full_name)
        number = len(issues) + 1
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        issue = {
            "id": 1000 + number,
            "node_id": f"I_fake{number}",
            "url": f"{self.url}/repos/{full_name}/issues/{number}",
            "repository_url": f"{self.url}/repos/{full_name}",
            "html_url": f"https://github.example/{full_name}/issues/{number}",
            "number": number,
            "state": "open",
            "title": payload["title"],
            "body": payload.get("body"),
            "user": self._user(),
            "labels": [{"name": label, "color": "d73a4a"} for label in payload.get("labels", [])],
            "assignees": [],
            "comments": 0,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
            "locked": False,
            "author_association": "MEMBER",
            "_searchable": self.search_sees_new_issues,
        }
        issues.append(issue)
        return issue


def _public(issue):
    return {key: value for key, value in issue.items() if not key.startswith("_")}


def make_handler(fake):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-RateLimit-Remaining", "4999")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self):
            given = self.headers.get("Authorization", "")
            if given in (f"token {fake.token}", f"Bearer {fake.token}"):
                return True
            self._send(
                401,
                {
                    "message": "Bad credentials",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "401",
                },
            )
            return False

        def _route(self, method):
            split = urlsplit(self.path)
            path = split.path.removeprefix("/api/v3")
            query = {key: values[0] for key, values in parse_qs(split.query).items()}
            with fake.lock:
                fake.requests.append((method, path))
            if not self._authorised():
                return
            if fake.fail_status:
                self._send(fake.fail_status, {"message": "Server Error"})
                return
            if method == "GET" and path == "/search/issues":
                self._search(query)
                return
            match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/issues)?", path)
            if not match or match.group(1) not in fake.repos:
                self._send(404, {"message": "Not Found", "status": "404"})
                return
            full_name, issues = match.groups()
            if method == "GET" and not issues:
                self._send(200, fake.repo_json(full_name))
            elif method == "GET":
                self._list(full_name, query)
            elif method == "POST" and issues:
                self._create(full_name)
            else:
                self._send(404, {"message": "Not Found"})

        def _list(self, full_name, query):
            rows = list(fake.issues(full_name))
            if query.get("state", "open") != "all":
                rows = [issue for issue in rows if issue["state"] == query.get("state", "open")]
            if query.get("direction", "desc") == "desc":
                rows.reverse()
            per_page = int(query.get("per_page", 30))
            page = int(query.get("page", 1))
            self._send(200, [_public(i) for i in rows[(page - 1) * per_page : page * per_page]])

        def _search(self, query):
            q = query.get("q", "")
            repo = re.search(r"repo:(\S+)", q)
            phrase = re.search(r'"([^"]+)"', q)
            rows = [
                issue
                for name, data in fake.repos.items()
                if not repo or repo.group(1) == name
                for issue in data["issues"]
                if issue["_searchable"] and (not phrase or phrase.group(1) in (issue["body"] or ""))
            ]
            self._send(
                200,
                {
                    "total_count": len(rows),
                    "incomplete_results": False,
                    "items": [dict(_public(i), score=1.0) for i in rows],
                },
            )

        def _create(self, full_name):
            length = int(self.headers.get("Content-Length", 0))
            payload = json.loads(self.rfile.read(length) or b"{}")
            if not payload.get("title"):
                self._send(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [{"resource": "Issue", "field": "title", "code": "missing"}],
                    },
                )
                return
            with fake.lock:
                issue = fake.create_issue(full_name, payload)
            if fake.slow_create:
                time.sleep(fake.slow_create)
            self._send(201, _public(issue), headers=[("Location", issue["url"])])

        def do_GET(self):
            self._route("GET")

        def do_POST(self):
            self._route("POST")

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
