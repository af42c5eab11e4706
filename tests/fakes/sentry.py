"""A fake Sentry speaking the real `/api/0/` HTTP API on loopback, for integration tests.

Shapes follow Sentry's public API reference (List an Organization's Issues, Retrieve an Issue,
Bulk Mutate an Organization's Issues, Update an Issue's `assignedTo`, issue comments (list and
post), latest event with breadcrumbs). It behaves like the real one where clients get it wrong:
the issue list applies the default priority query when no `query` is sent, the `project` filter
takes numeric ids, pages chain through `Link` cursors, a bulk update answers success for ids it
did not touch, and the same comment text is refused a second time ("You have already posted
that comment.").

Knobs: `token` (anything else is a 401), `script` (canned answers served first: 429 with or
without Retry-After, 5xx, 401…), `delay` (seconds before each answer), `frozen` (ids the bulk
update silently skips), `members` (usernames `assignedTo` accepts), `add_raw()` (malformed
issues as given), `add_issue(_first_release=..., _last_release=...)`.
"""

import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_IGNORE_WINDOW = 10080
DEFAULT_QUERY = "is:unresolved issue.priority:[high, medium]"


def iso(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (the timeout tests) is not the fake's problem.
        pass


class FakeSentry:
    def __init__(self, *, org="acme", token="sntrys_fake_token_1234567890", projects=None):
        self.org = org
        self.token = token
        self.projects = projects or {"74": "rdv-solidarites", "75": "rdv-insertion"}
        self.issues = {}  # id -> issue; keys starting with "_" are the fake's own
        self.comments = {}
        # Organisation members, by username: who `assignedTo` accepts.
        self.members = {
            "marie": {"id": "11", "name": "Marie Curie", "email": "marie@example.org"},
        }
        self.events = {}
        self.frozen = set()
        self.releases = []  # newest first, as the release list answers
        self.script = []  # (status, headers, body) answered before anything else
        self.delay = 0.0
        self.requests = []  # (method, path, query) as received
        # Requests being answered at the same time, and the most seen: a client that asks
        # two things at once shows 2 when `delay` keeps the first one open.
        self.in_flight = 0
        self.max_in_flight = 0
        self._ids = itertools.count(4_200_000)
        self._lock = threading.RLock()
        self._order = None
        self._server = None

    # Server ---------------------------------------------------------------------------

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self, "GET")

            def do_PUT(self):
                fake._handle(self, "PUT")

            def do_POST(self):
                fake._handle(self, "POST")

            def log_message(self, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_port}"

    # State ----------------------------------------------------------------------------

    def add_issue(self, *, project="74", environments=("production",), **fields):
        """Add one unresolved issue (fields override the realistic defaults); returns it."""
        with self._lock:
            issue_id = str(fields.pop("id", next(self._ids)))
            now = datetime.now(UTC)
            last_seen = fields.pop("last_seen", now)
            first_seen = fields.pop("first_seen", last_seen - timedelta(days=3))
            slug = self.projects[project]
            number = len(self.issues) + 1
            title = fields.pop("title", f"ActiveRecord::RecordNotFound: Couldn't find Rdv {number}")
            issue = {
                "annotations": [],
                "assignedTo": None,
                "count": str(fields.pop("count", 12)),
                "culprit": fields.pop("culprit", "RdvsController#show"),
                "firstSeen": iso(first_seen),
                "hasSeen": False,
                "id": issue_id,
                "isBookmarked": False,
                "isPublic": False,
                "isSubscribed": False,
                "isUnhandled": fields.pop("unhandled", False),
                "lastSeen": iso(last_seen),
                "level": fields.pop("level", "error"),
                "logger": None,
                "metadata": {"type": title.split(":")[0], "value": title},
                "numComments": 0,
                "permalink": f"{self.url}/organizations/{self.org}/issues/{issue_id}/",
                "priority": fields.pop("priority", "high"),
                "project": {"id": project, "name": slug, "slug": slug, "platform": "ruby"},
                "shareId": None,
                "shortId": f"{slug.upper()}-{number:X}",
                "stats": {
                    "24h": [
                        [int((now - timedelta(hours=23 - h)).timestamp()) // 3600 * 3600, h % 5]
                        for h in range(24)
                    ]
                },
                "status": "unresolved",
                "statusDetails": {},
                "substatus": "ongoing",
                "subscriptionDetails": None,
                "title": title,
                "type": "error",
                "userCount": fields.pop("user_count", 3),
                "_environments": list(environments),
            }
            issue.update(fields)
            self.issues[issue_id] = issue
            self._order = None
            return issue

    def add_issues(self, count, **fields):
        start = datetime.now(UTC) - timedelta(seconds=count)
        return [
            self.add_issue(last_seen=start + timedelta(seconds=i), **fields) for i in range(count)
        ]

    def add_raw(self, issue, *, project="74", environments=("production",)):
        """A malformed or partial issue, listed exactly as given."""
        with self._lock:
            key = str(issue.get("id") or f"raw-{next(self._ids)}")
            self.issues[key] = {
                **issue,
                "_raw": True,
                "_project": project,
                "_environments": list(environments),
                "lastSeen": issue.get("lastSeen", iso(datetime.now(UTC))),
            }
            self._order = None

    def occur(self, issue_id, *, at=None, times=1):
        """New events of an issue: counts move, lastSeen moves, an ignored or resolved issue
        whose condition is met comes back unresolved, as Sentry does."""
        with self._lock:
            issue = self.issues[str(issue_id)]
            issue["lastSeen"] = iso(at or datetime.now(UTC))
            issue["count"] = str(int(issue["count"]) + times)
            if issue["status"] == "resolved":
                issue.update(status="unresolved", substatus="regressed", statusDetails={})
            elif issue["status"] == "ignored":
                seen = issue.setdefault("_seen_while_ignored", 0) + times
                issue["_seen_while_ignored"] = seen
                threshold = issue["statusDetails"].get("ignoreCount")
                if threshold and seen >= threshold:
                    issue.update(status="unresolved", substatus="escalating", statusDetails={})
            self._order = None

    def set_upstream_status(self, issue_id, status, details=None):
        """A change made directly in Sentry's UI."""
        with self._lock:
            self._apply_status(self.issues[str(issue_id)], status, details or {})
            self._order = None

    def set_event(self, issue_id, event):
        self.events[str(issue_id)] = event

    def add_release(
        self, version, *, created, project="74", deploys=(), released=None, environments=None
    ):
        """A release of `project`; `deploys`: (environment, finished at) oldest first, the
        last one becoming its `lastDeploy` as Sentry reports it. The list's `environment`
        filter keeps the releases seen in it (`environments`, by default where deployed)."""
        with self._lock:
            slug = self.projects[project]
            last = deploys[-1] if deploys else None
            release = {
                "id": len(self.releases) + 1,
                "version": version,
                "shortVersion": version.rsplit("@", 1)[-1],
                "dateCreated": iso(created),
                "dateReleased": iso(released) if released else None,
                "deployCount": len(deploys),
                "lastDeploy": (
                    {
                        "id": str(len(deploys)),
                        "environment": last[0],
                        "dateStarted": None,
                        "dateFinished": iso(last[1]),
                        "name": None,
                        "url": None,
                    }
                    if last
                    else None
                ),
                "newGroups": 0,
                "projects": [{"id": int(project), "name": slug, "slug": slug}],
                "_project": project,
                "_environments": sorted(
                    environments or {environment for environment, _at in deploys}
                ),
            }
            self.releases.append(release)
            self.releases.sort(key=lambda r: r["dateCreated"], reverse=True)
            return release

    def list_requests(self):
        return [r for r in self.requests if r[1] == f"/api/0/organizations/{self.org}/issues/"]

    # HTTP -----------------------------------------------------------------------------

    def _handle(self, handler, method):
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._answer(handler, method)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, handler, method):
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw_body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, parts.path, query))
            canned = self.script.pop(0) if self.script else None
        if self.delay:
            time.sleep(self.delay)
        if canned is not None:
            status, headers, body = canned
            return self._send(handler, status, body, headers)
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(handler, 401, {"detail": "Invalid token"})
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return self._send(handler, 400, {"detail": "Malformed JSON"})
        with self._lock:
            status, payload, headers = self._route(method, parts.path, query, body)
        return self._send(handler, status, payload, headers)

    def _send(self, handler, status, payload, headers=None):
        data = (
            b""
            if payload is None
            else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        )
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method, path, query, body):
        segments = [s for s in path.split("/") if s]
        not_found = (404, {"detail": "The requested resource does not exist"}, None)
        if segments[:2] != ["api", "0"] or len(segments) < 4:
            return not_found
        kind, org, rest = segments[2], segments[3], segments[4:]
        if org != self.org:
            return not_found
        if kind == "projects" and len(rest) == 1 and method == "GET":
            for project_id, slug in self.projects.items():
                if slug == rest[0]:
                    return 200, {"id": project_id, "slug": slug, "name": slug}, None
            return not_found
        if kind == "organizations" and rest == ["releases"] and method == "GET":
            return self._list_releases(query)
        if kind == "organizations" and rest == ["members"] and method == "GET":
            wanted = (query.get("query") or [""])[0].casefold()
            return (
                200,
                [
                    {
                        "id": member["id"],
                        "email": member["email"],
                        "name": member["name"],
                        "user": {"id": member["id"], "username": username, **member},
                    }
                    for username, member in self.members.items()
                    if wanted in username.casefold() or wanted in member["email"].casefold()
                ],
                None,
            )
        if kind != "organizations" or not rest or rest[0] != "issues":
            return not_found
        if len(rest) == 1:
            if method == "GET":
                return self._list(query)
            if method == "PUT":
                return self._bulk_update(query, body or {})
        issue = self.issues.get(rest[1]) if len(rest) > 1 else None
        if issue is None or issue.get("_raw"):
            return not_found
        if len(rest) == 2 and method == "GET":
            return 200, self._detail(issue), None
        if len(rest) == 2 and method == "PUT":
            return self._update(issue, body or {})
        if rest[2:] == ["comments"] and method == "POST":
            return self._comment(issue, body or {})
        if rest[2:] == ["comments"] and method == "GET":
            return 200, list(reversed(self.comments.get(issue["id"], []))), None
        if rest[2:] == ["events", "latest"] and method == "GET":
            return 200, self.events.get(issue["id"]) or self._default_event(issue), None
        if len(rest) == 4 and rest[2] == "tags" and method == "GET":
            return self._tag(issue, rest[3]) or not_found
        return not_found

    def _tag(self, issue, key):
        """Tag details of an issue, as Sentry aggregates them from its events: here the tags of
        its latest event, or those given as `_tags` ({key: [value, ...]}); None when none."""
        tags = issue.get("_tags")
        if tags is None:
            event = self.events.get(issue["id"]) or self._default_event(issue)
            tags = {}
            for tag in event.get("tags") or []:
                tags.setdefault(tag["key"], []).append(tag["value"])
        if key not in tags:
            return None
        values = [
            {
                "key": key,
                "name": value,
                "value": value,
                "count": 1,
                "lastSeen": issue["lastSeen"],
                "firstSeen": issue["firstSeen"],
            }
            for value in tags[key]
        ]
        details = {
            "key": key,
            "name": key.replace("_", " ").title(),
            "uniqueValues": len(values),
            "totalValues": len(values),
            "topValues": values,
        }
        return 200, details, None

    def _project_scope(self, query):
        ids = [p for p in query.get("project", []) if p != "-1"]
        bad = [p for p in ids if not p.isdigit()]
        if bad:
            return None
        return set(ids) or set(self.projects)

    def _visible(self, issue, projects, environments):
        project = issue.get("_project") or (issue.get("project") or {}).get("id")
        if project not in projects:
            return False
        return not environments or bool(set(environments) & set(issue["_environments"]))

    def _matches(self, issue, search):
        if issue.get("_raw"):
            return True
        for term in search.split():
            if term.startswith("is:"):
                if issue.get("status") != term[3:]:
                    return False
            elif term.startswith("issue.priority:"):
                wanted = term.split(":", 1)[1].strip("[]").split(",")
                if issue.get("priority") not in wanted:
                    return False
        return True

    def _ordered(self):
        if self._order is None:
            self._order = sorted(
                self.issues.values(),
                key=lambda i: (str(i.get("lastSeen")), str(i.get("id"))),
                reverse=True,
            )
        return self._order

    def _list(self, query):
        projects = self._project_scope(query)
        if projects is None:
            return 400, {"detail": "Invalid project parameter. Values must be numbers."}, None
        environments = query.get("environment", [])
        groups = query.get("group", [])
        if groups:
            # Sentry's own lookup by id: the query is ignored.
            found = [self.issues[g] for g in groups if g in self.issues]
            found = [i for i in found if not i.get("_raw") and self._visible(i, projects, [])]
            return 200, [self._public(i) for i in found], None
        search = query["query"][0] if "query" in query else DEFAULT_QUERY
        limit = min(int(query.get("limit", ["25"])[0]), 100)
        offset = 0
        if "cursor" in query:
            try:
                offset = int(query["cursor"][0].split(":")[1])
            except (IndexError, ValueError):
                return 400, {"detail": "Invalid cursor parameter."}, None
        matching = [
            issue
            for issue in self._ordered()
            if self._visible(issue, projects, environments) and self._matches(issue, search)
        ]
        page = matching[offset : offset + limit]
        more = offset + limit < len(matching)
        base = f"{self.url}/api/0/organizations/{self.org}/issues/"
        previous = f"0:{max(0, offset - limit)}:1"
        following = f"0:{offset + limit}:0"
        link = (
            f'<{base}?cursor={previous}>; rel="previous"; results="{str(offset > 0).lower()}"; '
            f'cursor="{previous}", <{base}?cursor={following}>; rel="next"; '
            f'results="{str(more).lower()}"; cursor="{following}"'
        )
        return 200, [self._public(i) for i in page], {"Link": link}

    def _list_releases(self, query):
        projects = self._project_scope(query)
        if projects is None:
            return 400, {"detail": "Invalid project parameter. Values must be numbers."}, None
        environments = query.get("environment", [])
        limit = min(int(query.get("per_page", ["25"])[0]), 100)
        found = [
            release
            for release in self.releases
            if release["_project"] in projects
            and (not environments or set(environments) & set(release["_environments"]))
        ]
        return 200, [self._public(release) for release in found[:limit]], None

    def _public(self, issue):
        return {k: v for k, v in issue.items() if not k.startswith("_")}

    def _detail(self, issue):
        # The issue's own endpoint gives both periods: hourly for 24 h, daily for 30 d.
        today = int(datetime.now(UTC).timestamp()) // 86400 * 86400
        daily = [[today - (29 - d) * 86400, d % 4] for d in range(30)]
        return {
            **self._public(issue),
            "stats": {**(issue.get("stats") or {}), "30d": issue.get("_stats_30d", daily)},
            "activity": [],
            "firstRelease": self._release(issue.get("_first_release")),
            "lastRelease": self._release(issue.get("_last_release")),
            "participants": [],
            "pluginActions": [],
            "pluginIssues": [],
            "seenBy": [],
            "tags": [],
            "userReportCount": 0,
        }

    def _release(self, version):
        if not version:
            return None
        return {"version": version, "shortVersion": version.split("@")[-1], "ref": None}

    def _update(self, issue, body):
        """Update an Issue: here its assignee (`assignedTo`: a username, an email or "")."""
        if "assignedTo" in body:
            wanted = body["assignedTo"] or ""
            if not wanted:
                issue["assignedTo"] = None
            else:
                member = self.members.get(wanted) or next(
                    (m for m in self.members.values() if m["email"] == wanted), None
                )
                if member is None:
                    return 400, {"assignedTo": ["Unknown actor input"]}, None
                issue["assignedTo"] = {"type": "user", **member}
        return 200, self._detail(issue), None

    def _apply_status(self, issue, status, details):
        issue["status"] = status
        issue["_seen_while_ignored"] = 0
        if status == "ignored":
            issue["substatus"] = "archived_until_condition_met" if details else "archived_forever"
            issue["statusDetails"] = {
                "ignoreCount": details.get("ignoreCount"),
                "ignoreUntil": None,
                "ignoreUserCount": details.get("ignoreUserCount"),
                "ignoreUserWindow": details.get("ignoreUserWindow"),
                "ignoreWindow": details.get("ignoreWindow"),
            }
        else:
            issue["substatus"] = "ongoing" if status == "unresolved" else None
            issue["statusDetails"] = {}

    def _bulk_update(self, query, body):
        status = body.get("status")
        details = body.get("statusDetails") or {}
        if status not in ("resolved", "unresolved", "ignored", "resolvedInNextRelease"):
            return 400, {"status": [f'"{status}" is not a valid choice.']}, None
        window = details.get("ignoreWindow")
        if window is not None and window > MAX_IGNORE_WINDOW:
            return (
                400,
                {"statusDetails": {"ignoreWindow": ["Ensure this value is <= 10080."]}},
                None,
            )
        touched = [
            self.issues[i]
            for i in query.get("id", [])
            if i in self.issues and i not in self.frozen and not self.issues[i].get("_raw")
        ]
        if not touched:
            # What the real one does for ids out of scope: success, nothing changed.
            return 204, None, None
        for issue in touched:
            self._apply_status(
                issue, "resolved" if status.startswith("resolved") else status, details
            )
        self._order = None
        first = touched[0]
        return (
            200,
            {
                "status": first["status"],
                "statusDetails": first["statusDetails"],
                "substatus": first["substatus"],
                "inbox": None,
            },
            None,
        )

    def _comment(self, issue, body):
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return 400, {"text": ["This field is required."]}, None
        earlier = self.comments.get(issue["id"], [])
        if any(note["data"]["text"] == text for note in earlier):
            # What Sentry answers the same text from the same user within an hour.
            return 400, {"detail": "You have already posted that comment."}, None
        note = {
            "id": str(next(self._ids)),
            "type": "note",
            "data": {"text": text},
            "dateCreated": iso(datetime.now(UTC)),
            "user": {"id": "1", "name": "vigie-bot", "email": "vigie@example.org"},
        }
        self.comments.setdefault(issue["id"], []).append(note)
        issue["numComments"] = len(self.comments[issue["id"]])
        return 201, note, None

    def _default_event(self, issue):
        return {
            "id": "9fac2ceed9344f2bbfdd1fdacb0ed9b1",
            "eventID": "9fac2ceed9344f2bbfdd1fdacb0ed9b1",
            "groupID": issue["id"],
            "title": issue["title"],
            "message": "",
            "platform": "ruby",
            "dateCreated": issue["lastSeen"],
            "release": {"version": "rdv-solidarites@2026.11.20", "shortVersion": "2026.11.20"},
            "tags": [
                {"key": "environment", "value": "production"},
                {"key": "server_name", "value": "web-1"},
                {"key": "url", "value": "https://www.rdv-solidarites.fr/rdvs/42"},
                {"key": "transaction", "value": "RdvsController#show"},
                {"key": "browser", "value": "Firefox 133.0"},
                {"key": "release", "value": "rdv-solidarites@2026.11.20"},
            ],
            "entries": [
                {
                    "type": "exception",
                    "data": {
                        "values": [
                            {
                                "type": issue["metadata"].get("type", "Error"),
                                "value": issue["title"],
                                "stacktrace": {
                                    "frames": [
                                        {
                                            "filename": "puma/request.rb",
                                            "function": "handle_request",
                                            "lineNo": 99,
                                            "inApp": False,
                                            "context": [],
                                        },
                                        {
                                            "filename": "app/controllers/rdvs_controller.rb",
                                            "function": "show",
                                            "lineNo": 18,
                                            "inApp": True,
                                            "context": [
                                                [17, "  def show"],
                                                [18, "    @rdv = Rdv.find(params[:id])"],
                                                [19, "  end"],
                                            ],
                                        },
                                        {
                                            "filename": "active_record/core.rb",
                                            "function": "find",
                                            "lineNo": 255,
                                            "inApp": False,
                                            "context": [],
                                        },
                                    ]
                                },
                            }
                        ]
                    },
                },
                {
                    "type": "breadcrumbs",
                    "data": {
                        "values": [
                            {
                                "timestamp": iso(datetime.now(UTC) - timedelta(seconds=20 - n)),
                                "type": "http",
                                "category": "request",
                                "level": "info",
                                "message": f"GET /rdvs/{n}",
                                "data": None,
                            }
                            for n in range(15)
                        ]
                    },
                },
            ],
        }
