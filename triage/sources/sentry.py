"""Sentry (sentry.io or self-hosted) through its `/api/0/` web API.

Facts of the real API this module builds on:
- the issue list applies a default query (`is:unresolved issue.priority:[high, medium]`) when
  none is sent, so a `query` always goes with the list;
- its `project` filter takes numeric ids, so project slugs are resolved once and remembered;
- pages are chained by opaque cursors in the `Link` header;
- a bulk update answers success even for ids it did not touch, so every write is read back;
- `ignoreWindow` is at most 7 days;
- sentry.io may answer 429 without `Retry-After` (its own `X-Sentry-Rate-Limit-Reset` says
  when to come back), self-hosted Sentry sends no rate-limit header at all (plain backoff).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from urllib.parse import quote

import structlog
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from triage.sources.base import (
    PROJECT,
    Account,
    ItemData,
    ReleaseData,
    SourceBackend,
    SourceError,
    UpstreamState,
    scopes_of,
    secret_of,
)
from vigie import http

logger = structlog.get_logger(__name__)

DEFAULT_URL = "https://sentry.io"
PAGE_SIZE = 100  # the most Sentry returns in one page
MAX_IGNORE_WINDOW = 10080  # minutes: Sentry caps ignore windows at 7 days
STATS_PERIOD = "24h"
RELEASES_PAGE = 25
TOP_FRAMES = 8
# What the detail panel keeps of an event: upstream data is unbounded (5,000 breadcrumbs, a
# 1 MB exception value), the panel and the cache are not.
DETAIL_FRAMES = 30
DETAIL_CONTEXT_LINES = 11
DETAIL_BREADCRUMBS = 10
DETAIL_STATS = 31  # buckets of each period kept: 24 hours, 30 days (and the current one)
DETAIL_TEXT = 4000  # characters of one exception value, context line, tag or breadcrumb
DETAIL_TAGS = ("environment", "release", "transaction", "url", "browser", "browser.name")


def parse_datetime(value):
    """Sentry's ISO 8601 timestamps ("2026-11-23T10:00:00Z", with or without fractions)."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)  # "Z" included, since Python 3.11


def next_cursor(response):
    """The cursor of the next page, or None when Sentry says there are no more results
    (its `Link` header, parsed by requests, carries `results` and `cursor`)."""
    following = response.links.get("next", {})
    return following.get("cursor") if following.get("results") == "true" else None


def rate_limit_wait(response):
    """Seconds until sentry.io's rate-limit window resets (epoch seconds), or None."""
    reset = response.headers.get("X-Sentry-Rate-Limit-Reset")
    try:
        return max(0.0, float(reset) - time.time())
    except (TypeError, ValueError):
        return None


# A username or an email: Sentry's `assignedTo` takes either.
SENTRY_ACCOUNT = Account(
    "sentry",
    _("Sentry account"),
    _("Your Sentry username or email: who Sentry assigns with Assign to me."),
)


class SentryBackend(SourceBackend):
    label = "Sentry"
    fields = ("base_url", "organization", "scopes", "environment", "secret_env", "secret")
    cli_help = "A Sentry organisation (SaaS or self-hosted)."
    qualifications = ("temporary", "bug", "expected", "resolved")
    max_ignore_window = MAX_IGNORE_WINDOW
    can_detail = True
    assign_account = SENTRY_ACCOUNT
    can_comment = True
    open_label = _("Open in Sentry")
    scopes_label = _("projects")
    scopes_help = _("Sentry project slugs or ids: one per line, or separated by commas.")
    comment_label = _("Comment posted on the Sentry issue")

    cli_flags = {
        "base_url": "--url",
        "organization": "--org",
        "scopes": "--project",
        "environment": "--environment",
    }

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--url", default=DEFAULT_URL, help="Sentry's base URL.")
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument(
            "--project",
            action="append",
            required=True,
            dest="scopes",
            help="Project id or slug; repeat for several.",
        )
        parser.add_argument("--environment", default="production")

    @classmethod
    def configure(cls, source, options):
        source.base_url = options["url"].rstrip("/")
        source.organization = options["org"]
        source.scopes = options["scopes"]
        source.environment = options["environment"]

    @classmethod
    def configuration_errors(cls, source):
        scopes = scopes_of(source)
        return {
            "organization": not PROJECT.match(source.organization or "")
            and _("The organisation's slug, as in its Sentry addresses."),
            "scopes": not (scopes and all(PROJECT.match(scope) for scope in scopes))
            and _("Sentry project slugs or ids: letters, digits, - and _."),
        }

    @classmethod
    def describe(cls, source):
        return (
            f"{source.base_url}, organisation {source.organization}, projects "
            f"{', '.join(source.scopes)}, environment {source.environment or '(all)'}"
        )

    def __init__(self, source, *, sleep=None, timeout=http.DEFAULT_TIMEOUT):
        super().__init__(source)
        self.timeout = timeout
        self.base_url = (source.base_url or DEFAULT_URL).rstrip("/")
        self.org = quote(source.organization, safe="")
        self._sleep = sleep

    # Plumbing -----------------------------------------------------------------------------

    def _call(self, method, path, *, params=None, json=None, absent=False):
        """One API call; every failure becomes a SourceError worded without the token.
        `absent`: a 404 means the thing asked is not there, and the answer is None."""
        headers = {
            "Authorization": f"Bearer {secret_of(self.source, gettext_noop('Sentry token'))}"
        }
        url = f"{self.base_url}/api/0/{path}"
        self.requests += 1
        try:
            return http.request(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                sleep=self._sleep or time.sleep,
                timeout=self.timeout,
                rate_limit_wait=rate_limit_wait,
            )
        except http.UpstreamError as exc:
            if exc.status in (401, 403):
                raise SourceError(
                    gettext_noop(
                        "Sentry refused the token (HTTP %(status)s): check the token and its "
                        "scopes (event:read, event:write)"
                    ),
                    params={"status": exc.status},
                    auth=True,
                ) from None
            if exc.status == 404 and absent:
                return None
            if exc.status == 404:
                raise SourceError(
                    gettext_noop(
                        "Sentry answered 404 for %(path)s: unknown organization, project or "
                        "issue, or out of this token's reach"
                    ),
                    params={"path": f"/api/0/{path}"},
                    permanent=True,
                ) from None
            if exc.status == 429:
                raise SourceError(
                    gettext_noop("Sentry rate limit reached (HTTP %(status)s); will retry later"),
                    params={"status": 429},
                    retry_after=exc.retry_after,
                ) from None
            raise SourceError(f"Sentry: {exc}", permanent=exc.permanent) from None

    def _json(self, response):
        try:
            return response.json()
        except ValueError:
            raise SourceError(
                f"Sentry answered something that is not JSON (HTTP {response.status_code})"
            ) from None

    def _project_ids(self):
        """Numeric project ids for the list filter; slugs are resolved once and remembered."""
        known = self.source.options.setdefault("project_ids", {})
        ids = []
        for project in self.source.scopes:
            project = str(project)
            if project.isdigit():
                ids.append(project)
                continue
            if project not in known:
                path = f"projects/{self.org}/{quote(project, safe='')}/"
                known[project] = str(self._json(self._call("GET", path))["id"])
                self.source.save(update_fields=["options"])
            ids.append(known[project])
        return ids

    def _list_params(self, **extra):
        params = {"project": self._project_ids(), **extra}
        if self.source.environment:
            params["environment"] = self.source.environment
        return params

    def _issue_path(self, external_id):
        return f"organizations/{self.org}/issues/{quote(str(external_id), safe='')}/"

    # Mirror side --------------------------------------------------------------------------

    def fetch(self, *, since=None):
        """Unresolved issues of the environment, newest `lastSeen` first.

        The next page is requested while the caller digests the current one; in an incremental
        fetch, only once this page shows it is needed (a sync with nothing new makes one
        request).
        """
        params = self._list_params(
            query="is:unresolved",
            sort="date",
            limit=PAGE_SIZE,
            groupStatsPeriod=STATS_PERIOD,
        )
        path = f"organizations/{self.org}/issues/"

        def get(cursor=None):
            return self._call(
                "GET", path, params={**params, "cursor": cursor} if cursor else params
            )

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(get)
            while pending is not None:
                response = pending.result()
                cursor = next_cursor(response)
                pending = pool.submit(get, cursor) if cursor and since is None else None
                issues = self._json(response)
                if not isinstance(issues, list):
                    raise SourceError("Sentry's issue list is not a list")
                items = [item for item in map(self._to_item, issues) if item is not None]
                if cursor and since is not None and all(item.last_seen >= since for item in items):
                    pending = pool.submit(get, cursor)
                for item in items:
                    if since is not None and item.last_seen and item.last_seen < since:
                        return
                    yield item

    def _to_item(self, issue):
        """ItemData from one issue of the list, or None (counted as skipped) if malformed."""
        try:
            external_id = issue["id"]
            title = issue["title"]
            if not isinstance(external_id, str | int) or not isinstance(title, str):
                raise TypeError("id or title of the wrong type")
            last_seen = parse_datetime(issue["lastSeen"])
            if last_seen is None:
                raise ValueError("no lastSeen")
            # The stats are kept once, as recent_counts: taken out of the decoded issue, which
            # becomes the payload (a copy would be one more object a sync keeps per issue).
            stats = (issue.pop("stats", None) or {}).get(STATS_PERIOD) or []
            assigned = issue.get("assignedTo") or {}
            return ItemData(
                external_id=str(external_id),
                title=title,
                origin=issue.get("culprit") or "",
                level=issue.get("level") or "",
                environment=self.source.environment,
                upstream_status=issue.get("status") or "",
                first_seen=parse_datetime(issue.get("firstSeen")),
                last_seen=last_seen,
                tally=int(issue.get("count") or 0),
                user_count=int(issue.get("userCount") or 0),
                permalink=issue.get("permalink") or "",
                short_id=issue.get("shortId") or "",
                assignee=_assignee_name(assigned),
                recent_counts=[int(count) for _ts, count in stats],
                payload=issue,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.skipped += 1
            issue_id = issue.get("id") if isinstance(issue, dict) else None
            logger.warning(
                "sentry_issue_skipped",
                source=self.source.name,
                issue_id=str(issue_id)[:50],
                reason=f"{exc.__class__.__name__}: {exc}"[:200],
            )
            return None

    def listed_tags(self, payload):
        """What the issue list gives beside the level and the culprit: `handled` ("yes" or
        "no", as Sentry's own tag says it, from `isUnhandled`), the platform, the logger and the
        project's slug. Event tags (`transaction`, `url`, `browser`…) are not in the list."""
        tags = {}
        unhandled = payload.get("isUnhandled")
        if isinstance(unhandled, bool):
            tags["handled"] = "no" if unhandled else "yes"
        for key in ("platform", "logger"):
            if isinstance(payload.get(key), str) and payload[key]:
                tags[key] = payload[key]
        project = payload.get("project")
        if isinstance(project, dict) and isinstance(project.get("slug"), str):
            tags["project"] = project["slug"]
        return tags

    can_read_tags = True

    def tag_values(self, external_id, key):
        """The issue's values of one tag, most frequent first (Sentry's tag details: its
        `topValues`, in the source's environment); none when the issue has no such tag."""
        params = {"environment": self.source.environment} if self.source.environment else None
        path = self._issue_path(external_id) + f"tags/{quote(key, safe='')}/"
        response = self._call("GET", path, params=params, absent=True)
        details = self._json(response) if response is not None else {}
        values = details.get("topValues") if isinstance(details, dict) else None
        return [
            str(value["value"])
            for value in (values if isinstance(values, list) else [])
            if isinstance(value, dict) and value.get("value") is not None
        ]

    def reconcile(self, external_ids):
        """Statuses of the given issues, 100 per request (Sentry's `group` lookup ignores
        the query). Issues Sentry no longer shows are left out: local data is never deleted."""
        external_ids = [str(i) for i in external_ids if str(i).isdigit()]
        statuses = {}
        path = f"organizations/{self.org}/issues/"
        for start in range(0, len(external_ids), PAGE_SIZE):
            batch = external_ids[start : start + PAGE_SIZE]
            params = {"project": self._project_ids(), "group": batch}
            for issue in self._json(self._call("GET", path, params=params)):
                if isinstance(issue, dict) and issue.get("id") and issue.get("status"):
                    statuses[str(issue["id"])] = issue["status"]
        return statuses

    has_releases = True

    def releases(self):
        """The latest releases (one page, newest created first), each dated by its last deploy
        to the source's environment, else its release date, else its creation."""
        params = self._list_params(per_page=RELEASES_PAGE)
        answer = self._json(self._call("GET", f"organizations/{self.org}/releases/", params=params))
        if not isinstance(answer, list):
            raise SourceError("Sentry's release list is not a list")
        found = []
        for release in answer:
            if not isinstance(release, dict) or not isinstance(release.get("version"), str):
                self.skipped += 1
                continue
            deploy = release.get("lastDeploy") or {}
            deployed = None
            wanted = self.source.environment
            if isinstance(deploy, dict) and (not wanted or deploy.get("environment") == wanted):
                deployed = parse_datetime(deploy.get("dateFinished"))
            deployed = (
                deployed
                or parse_datetime(release.get("dateReleased"))
                or parse_datetime(release.get("dateCreated"))
            )
            if deployed is not None:
                found.append(ReleaseData(release["version"][:200], deployed))
        return found

    # Write side ---------------------------------------------------------------------------

    def set_status(self, item, status, details=None):
        details = dict(details or {})
        window = details.get("ignoreWindow")
        if window is not None and (not isinstance(window, int) or window > MAX_IGNORE_WINDOW):
            raise SourceError(
                f"Sentry cannot ignore over a window longer than {MAX_IGNORE_WINDOW} minutes "
                f"(7 days); got {window}",
                permanent=True,
            )
        body = {"status": status}
        if details:
            body["statusDetails"] = details
        self._call(
            "PUT",
            f"organizations/{self.org}/issues/",
            params={"id": item.external_id},
            json=body,
        )
        # The bulk update said yes, but it says yes to ids it did not touch: ask the issue.
        issue = self._json(self._call("GET", self._issue_path(item.external_id)))
        return UpstreamState(
            status=issue.get("status", ""),
            details=issue.get("statusDetails") or {},
            raw={
                key: issue.get(key)
                for key in ("id", "shortId", "status", "substatus", "statusDetails", "lastSeen")
            },
        )

    def comment(self, item, text, *, retrying=False):
        # Sentry refuses the same text twice within an hour ("You have already posted that
        # comment."): a retry looks for it first rather than taking that refusal for a failure.
        path = self._issue_path(item.external_id) + "comments/"
        if retrying:
            notes = self._json(self._call("GET", path))
            for note in notes if isinstance(notes, list) else []:
                if isinstance(note, dict) and (note.get("data") or {}).get("text") == text:
                    return note
        return self._json(self._call("POST", path, json={"text": text}))

    def has_member(self, account):
        """Whether `account` (a username or an email) is a member of the organisation."""
        members = self._json(
            self._call("GET", f"organizations/{self.org}/members/", params={"query": account})
        )
        wanted = account.casefold()
        for member in members if isinstance(members, list) else []:
            if not isinstance(member, dict):
                continue
            user = member.get("user") if isinstance(member.get("user"), dict) else {}
            names = (member.get("email"), user.get("username"), user.get("email"))
            if wanted in (str(name).casefold() for name in names if name):
                return True
        return False

    def assign(self, item, account):
        path = self._issue_path(item.external_id)
        self._call("PUT", path, json={"assignedTo": account})
        issue = self._json(self._call("GET", path))
        assigned = issue.get("assignedTo") if isinstance(issue, dict) else None
        return UpstreamState(
            status=issue.get("status", "") if isinstance(issue, dict) else "",
            details={"assignee": _assignee_name(assigned)},
            raw={"assignedTo": assigned},
        )

    def _latest_event(self, item):
        event = self._json(self._call("GET", self._issue_path(item.external_id) + "events/latest/"))
        if not isinstance(event, dict):
            raise SourceError("Sentry's latest event is not an object")
        return event

    def detail(self, item):
        """The issue (releases, first/last seen, users) and its latest event (exception,
        frames, tags, breadcrumbs), cut to what the panel shows. Both are asked at once: the
        panel waits for one round trip, not two."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            latest = pool.submit(self._latest_event, item)
            issue = self._json(self._call("GET", self._issue_path(item.external_id)))
            event = latest.result()
        if not isinstance(issue, dict):
            raise SourceError("Sentry's issue is not an object")
        tags = event_tags(event)
        return {
            "exception": event_exception(event),
            "frames": detail_frames(event),
            "tags": {key: tags[key] for key in DETAIL_TAGS if key in tags},
            "breadcrumbs": event_breadcrumbs(event),
            "first_release": _release_version(issue.get("firstRelease")),
            "last_release": _release_version(issue.get("lastRelease")),
            "first_seen": issue.get("firstSeen") or "",
            "last_seen": issue.get("lastSeen") or "",
            "user_count": issue.get("userCount"),
            "assignee": _assignee_name(issue.get("assignedTo")),
            "event_id": str(event.get("eventID") or "")[:64],
            "stats": _stats(issue.get("stats")),
        }

    def bug_report(self, item):
        event = self._latest_event(item)
        release = event.get("release") or {}
        tags = event_tags(event)
        return {
            "release": release.get("version", "") if isinstance(release, dict) else str(release),
            "tags": tags,
            "frames": top_frames(event),
            "event_id": event.get("eventID", ""),
            "message": event.get("message", ""),
        }


def top_frames(event, limit=TOP_FRAMES):
    """The innermost frames of the latest exception, innermost first, application code first.

    Sentry lists frames oldest call first; the one that raised is last.
    """
    for entry in event.get("entries") or []:
        if entry.get("type") != "exception":
            continue
        values = (entry.get("data") or {}).get("values") or []
        if not values:
            continue
        frames = list(reversed((values[-1].get("stacktrace") or {}).get("frames") or []))
        in_app = [frame for frame in frames if frame.get("inApp")]
        return [
            {
                "filename": frame.get("filename") or frame.get("module") or "?",
                "function": frame.get("function") or "?",
                "lineno": frame.get("lineNo"),
                "in_app": bool(frame.get("inApp")),
                "context_line": _context_line(frame),
            }
            for frame in (in_app or frames)[:limit]
        ]
    return []


def _context_line(frame):
    for line in frame.get("context") or []:
        if isinstance(line, list | tuple) and len(line) == 2 and line[0] == frame.get("lineNo"):
            return line[1]
    return ""


def _cut(value, limit=DETAIL_TEXT):
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _assignee_name(assigned):
    if not isinstance(assigned, dict):
        return ""
    return str(assigned.get("name") or assigned.get("email") or "")[:200]


def _release_version(release):
    if isinstance(release, dict):
        return _cut(release.get("version") or release.get("shortVersion") or "", 200)
    return _cut(release or "", 200)


def event_tags(event):
    return {
        str(tag["key"]): _cut(tag["value"])
        for tag in event.get("tags") or []
        if isinstance(tag, dict) and "key" in tag and "value" in tag
    }


def _entry(event, kind):
    for entry in event.get("entries") or []:
        if isinstance(entry, dict) and entry.get("type") == kind:
            return entry.get("data") or {}
    return {}


def _last_exception(event):
    values = _entry(event, "exception").get("values") or []
    return values[-1] if values and isinstance(values[-1], dict) else {}


def event_exception(event):
    exception = _last_exception(event)
    return {"type": _cut(exception.get("type") or "", 200), "value": _cut(exception.get("value"))}


def detail_frames(event, limit=DETAIL_FRAMES):
    """The latest exception's frames, the one that raised first, application code before the
    rest, each with its context lines (an event without frames gives none)."""
    frames = (_last_exception(event).get("stacktrace") or {}).get("frames") or []
    frames = [frame for frame in reversed(frames) if isinstance(frame, dict)]
    ordered = [f for f in frames if f.get("inApp")] + [f for f in frames if not f.get("inApp")]
    return [
        {
            "filename": _cut(frame.get("filename") or frame.get("module") or "?", 300),
            "function": _cut(frame.get("function") or "?", 300),
            "lineno": frame.get("lineNo") if isinstance(frame.get("lineNo"), int) else None,
            "in_app": bool(frame.get("inApp")),
            "context": [
                [line[0], _cut(line[1], 500)]
                for line in (frame.get("context") or [])[:DETAIL_CONTEXT_LINES]
                if isinstance(line, list | tuple) and len(line) == 2
            ],
        }
        for frame in ordered[:limit]
    ]


def _stats(stats):
    """The issue's hourly ("24h") and daily ("30d") event counts as [timestamp, count] pairs,
    cut to what the charts show (the cache keeps them with the rest)."""
    if not isinstance(stats, dict):
        return {}
    return {
        period: [
            [pair[0], pair[1]]
            for pair in stats[period][-DETAIL_STATS:]
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
        for period in ("24h", "30d")
        if isinstance(stats.get(period), list)
    }


def event_breadcrumbs(event, limit=DETAIL_BREADCRUMBS):
    """The last breadcrumbs before the error, oldest first."""
    crumbs = _entry(event, "breadcrumbs").get("values") or []
    return [
        {
            "timestamp": _cut(crumb.get("timestamp") or "", 40),
            "category": _cut(crumb.get("category") or crumb.get("type") or "", 200),
            "level": _cut(crumb.get("level") or "", 20),
            "message": _cut(crumb.get("message") or ""),
        }
        for crumb in crumbs[-limit:]
        if isinstance(crumb, dict)
    ]
