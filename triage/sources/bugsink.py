"""Bugsink (self-hosted, Sentry-SDK compatible) through its canonical API, `/api/canonical/0/`.

Facts of the real API (Bugsink 2.6, read from its OpenAPI schema and views):
- a token is a bearer token (`bugsink-manage create_auth_token`); 401 when it is refused;
- `issues/?project=ID&state=open&sort=last_seen&order=desc` lists the issues neither resolved
  nor muted, newest first, 250 a page, chained by a `cursor` in the answer's `next` URL;
- an issue has no title: its `calculated_type` and `calculated_value` make it;
- state changes are one POST each (`resolve`, `reopen`, `mute`, `mute-for`, `mute-until`,
  `unmute`) and answer 400 when the issue is not in the state they start from;
- Bugsink's mute is Sentry's ignore; `mute-until` unmutes on "at least N events in P periods",
  counting the events before the mute too (Sentry counts those after it): Attendu is N plus
  the events already in the window (`issues/ID/event-counts/`, hourly), and Temporaire one
  event;
- comments are posted to `issue-comments/` and read back from `issue-history/`;
- there are no environments to filter on: Bugsink's convention is one project per environment,
  so the source names the production project (an event still says its own `environment`, and
  an issue whose latest event is of another one is left out);
- an issue has no level: only its events do, in their `data` (the event as the Sentry SDK sent
  it), which the list of an issue's events leaves out: the latest event is two requests (its
  id from `events/?issue=ID`, then `events/ID/`);
- the `last_seen` order is not cursor-stable (an issue seen again mid-mirror moves to the front):
  what it skips is newer than the high-water mark, so the next sync reads it.
"""

import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import structlog
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from triage.sources import sentry
from triage.sources.base import (
    ItemData,
    SourceBackend,
    SourceError,
    UpstreamState,
    scopes_of,
    secret_of,
)
from vigie import http

logger = structlog.get_logger(__name__)

# Latest events read at once when the sync learns the level of new or changed issues.
EVENT_READERS = 4
DETAIL_TAGS = 20
# Temporaire: unmuted by the next event, whenever it comes (a year stands for "ever").
NEXT_OCCURRENCE = {"period_name": "year", "nr_of_periods": 1, "gte_threshold": 1}
MINUTES = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}
# How far back Bugsink keeps an issue's hourly event counts (events.usage).
COUNTS_KEPT = timedelta(days=90)


API_PATH = "/api/canonical/0"


def base_url_of(url):
    """Bugsink's own address from what an operator typed: the API's address, which the README
    names, is an easy mistake."""
    url = (url or "").strip().rstrip("/")
    return url.removesuffix(API_PATH).rstrip("/") if url.endswith(API_PATH) else url


def parse_datetime(value):
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def status_of(issue):
    """Bugsink's two flags as the board's statuses (Sentry's words: ignored is muted)."""
    if issue.get("is_resolved"):
        return "resolved"
    if issue.get("is_muted"):
        return "ignored"
    return "unresolved"


def mute_details(issue):
    """The mute read back, in the statusDetails the board keeps ({"ignoreCount": 1} for
    Temporaire, count and window in minutes for Attendu)."""
    for condition in issue.get("unmute_on_volume_based_conditions") or []:
        if condition.get("period") == "year" and condition.get("volume") == 1:
            return {"ignoreCount": 1}
        minutes = MINUTES.get(condition.get("period"))
        if minutes is not None:
            return {
                "ignoreCount": condition.get("volume"),
                "ignoreWindow": minutes * int(condition.get("nr_of_periods") or 0),
            }
    return {}


def mute_condition(issue):
    """The mute read back as mute-until's body, or None."""
    for condition in issue.get("unmute_on_volume_based_conditions") or []:
        return {
            "period_name": condition.get("period"),
            "nr_of_periods": condition.get("nr_of_periods"),
            "gte_threshold": condition.get("volume"),
        }
    return None


def next_cursor(page):
    following = page.get("next") if isinstance(page, dict) else None
    if not following:
        return None
    return (parse_qs(urlsplit(following).query).get("cursor") or [None])[0]


class BugsinkBackend(SourceBackend):
    label = "Bugsink"
    can_detail = True
    fields = ("base_url", "scopes", "environment", "secret_env", "secret")
    cli_help = "A Bugsink project (its production one: Bugsink has a project per environment)."
    qualifications = ("temporary", "bug", "expected", "resolved")
    max_ignore_window = None  # mute-until takes any number of minutes
    open_label = _("Open in Bugsink")
    counts_users = False  # Bugsink counts events, not users
    scopes_label = _("project")
    scopes_help = _("The id of the Bugsink project of the production environment, e.g. 3.")
    environment_help = _(
        "Issues whose latest event names another environment are left out; empty keeps them all."
    )

    cli_flags = {"base_url": "--url", "scopes": "--project", "environment": "--environment"}

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--url", required=True, help="Bugsink's base URL.")
        parser.add_argument(
            "--project",
            required=True,
            help="Id of the Bugsink project of the production environment.",
        )
        parser.add_argument(
            "--environment",
            default="production",
            help="Issues whose latest event is of another environment are left out ('' keeps all).",
        )

    @classmethod
    def configure(cls, source, options):
        source.base_url = base_url_of(options["url"])
        source.scopes = [str(options["project"]).strip()]
        source.environment = options["environment"]

    @classmethod
    def normalize(cls, source):
        source.base_url = base_url_of(source.base_url)

    @classmethod
    def configuration_errors(cls, source):
        scopes = scopes_of(source)
        return {
            "base_url": not source.base_url
            and _("Bugsink's address, e.g. https://bugsink.example.org."),
            "scopes": not (len(scopes) == 1 and scopes[0].isdigit())
            and _(
                "One Bugsink project id, a number (its production project: Bugsink has a "
                "project per environment)."
            ),
        }

    @classmethod
    def describe(cls, source):
        return (
            f"{source.base_url}, project {', '.join(map(str, source.scopes))}, "
            f"environment {source.environment or '(all)'}"
        )

    def __init__(self, source, *, sleep=None, timeout=http.DEFAULT_TIMEOUT):
        super().__init__(source)
        self.timeout = timeout
        self.base_url = base_url_of(source.base_url)
        self.project = str((source.scopes or [""])[0])
        self._sleep = sleep
        self._counting = threading.Lock()  # requests are counted from the event readers too

    # Plumbing -----------------------------------------------------------------------------

    def _call(self, method, path, *, params=None, json=None):
        headers = {
            "Authorization": f"Bearer {secret_of(self.source, gettext_noop('Bugsink token'))}"
        }
        with self._counting:
            self.requests += 1
        try:
            response = http.request(
                method,
                f"{self.base_url}{API_PATH}/{path}",
                params=params,
                json=json,
                headers=headers,
                sleep=self._sleep or time.sleep,
                timeout=self.timeout,
            )
        except http.UpstreamError as exc:
            if exc.status in (401, 403):
                raise SourceError(
                    gettext_noop(
                        "Bugsink refused the token (HTTP %(status)s): check the token "
                        "(bugsink-manage create_auth_token)"
                    ),
                    params={"status": exc.status},
                    auth=True,
                ) from None
            if exc.status == 404:
                # Bugsink's 404s are JSON ({"detail": …}); a page is another server's, whose
                # 404 says nothing of a project or an issue (not "gone": nothing is deleted).
                if "json" not in exc.headers.get("Content-Type", ""):
                    raise self._not_the_api(404, path) from None
                missing = SourceError(
                    gettext_noop(
                        "Bugsink answered 404 for %(path)s: unknown project or issue, or deleted"
                    ),
                    params={"path": f"{API_PATH}/{path}"},
                    permanent=True,
                )
                missing.not_found = True
                raise missing from None
            if exc.status == 429:
                raise SourceError(
                    gettext_noop("Bugsink rate limit reached (HTTP %(status)s); will retry later"),
                    params={"status": 429},
                    retry_after=exc.retry_after,
                ) from None
            if exc.status is None:  # no answer: down, unreachable or too slow
                # Not "the next sync tries again": a click's write is not retried by a sync.
                raise SourceError(
                    gettext_noop("Bugsink does not answer at %(url)s (%(reason)s)"),
                    params={"url": self.base_url, "reason": exc.reason or "?"},
                ) from None
            raise SourceError(
                gettext_noop("Bugsink answered HTTP %(status)s for %(path)s: %(answer)s"),
                params={
                    "status": exc.status,
                    "path": f"{API_PATH}/{path}",
                    "answer": exc.body[:200],
                },
                permanent=exc.permanent,
            ) from None
        try:
            return response.json()
        except ValueError:
            raise self._not_the_api(response.status_code, path) from None

    def _not_the_api(self, status, path):
        return SourceError(
            gettext_noop(
                "%(url)s does not answer as Bugsink's API (HTTP %(status)s for %(path)s, not "
                "Bugsink's JSON): check the source's address, Bugsink's own, e.g. "
                "https://bugsink.example.org"
            ),
            params={"url": self.base_url, "status": status, "path": f"{API_PATH}/{path}"},
            permanent=True,
        )

    def _issue_path(self, external_id):
        return f"issues/{quote(str(external_id), safe='')}/"

    # Mirror side --------------------------------------------------------------------------

    def list_params(self):
        """Open issues (neither resolved nor muted) of the project, newest `last_seen` first."""
        return {"project": self.project, "state": "open", "sort": "last_seen", "order": "desc"}

    def fetch(self, *, since=None):
        """The issues of `list_params()`, page after page through the cursor of `next`."""
        params = self.list_params()
        cursor = None
        while True:
            try:
                page = self._call(
                    "GET", "issues/", params={**params, "cursor": cursor} if cursor else params
                )
            except SourceError as exc:
                if not getattr(exc, "not_found", False):
                    raise
                # Bugsink's list answers 404 for one thing only: a project id it does not know.
                raise SourceError(
                    gettext_noop(
                        "Bugsink knows no project %(project)s (HTTP 404): check the source's "
                        "project id, the id of the production project in Bugsink"
                    ),
                    params={"project": self.project},
                    permanent=True,
                ) from None
            issues = page.get("results") if isinstance(page, dict) else None
            if not isinstance(issues, list):
                raise SourceError("Bugsink's issue list is not a list")
            items = list(filter(None, map(self._to_item, issues)))
            fresh = [item for item in items if since is None or item.last_seen >= since]
            self._read_levels(fresh)
            yield from filter(self._of_the_environment, fresh)
            if len(fresh) < len(items):
                return
            cursor = next_cursor(page)
            if cursor is None:
                return

    def listed_tags(self, payload):
        """Bugsink's issue list names the transaction (also the item's culprit); no other tag."""
        transaction = payload.get("transaction")
        return {"transaction": transaction} if isinstance(transaction, str) and transaction else {}

    def _to_item(self, issue):
        try:
            external_id = issue["id"]
            kind, value = issue.get("calculated_type") or "", issue.get("calculated_value") or ""
            if not isinstance(external_id, str) or not isinstance(kind + value, str):
                raise TypeError("id or title of the wrong type")
            last_seen = parse_datetime(issue["last_seen"])
            if last_seen is None:
                raise ValueError("no last_seen")
            return ItemData(
                external_id=external_id,
                title=(f"{kind}: {value}" if kind and value else kind or value or "?")[:500],
                origin=issue.get("transaction") or "",
                # Read from the latest event by `_read_levels`: the issue has neither, and a
                # transaction only for a web request.
                level="",
                environment="",
                upstream_status=status_of(issue),
                first_seen=parse_datetime(issue.get("first_seen")),
                last_seen=last_seen,
                tally=int(issue.get("digested_event_count") or 0),
                permalink=f"{self.base_url}/issues/issue/{external_id}/",
                short_id=issue.get("friendly_id") or "",
                payload=issue,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.skipped += 1
            logger.warning(
                "bugsink_issue_skipped",
                source=self.source.name,
                issue_id=str(issue.get("id") if isinstance(issue, dict) else None)[:50],
                reason=f"{exc.__class__.__name__}: {exc}"[:200],
            )
            return None

    def _read_levels(self, items):
        """Each item's level, environment and (without a transaction) culprit, from its latest
        event. The mirror already has
        them for an issue whose event count has not moved since: only new or changed issues
        cost a read (a first mirror reads them all)."""
        known = {
            external_id: (tally, level, environment, origin)
            for external_id, tally, level, environment, origin in self.source.items.filter(
                external_id__in=[item.external_id for item in items]
            ).values_list("external_id", "tally", "level", "environment", "origin")
        }
        stale = []
        for item in items:
            tally, level, environment, origin = known.get(item.external_id, (None, "", "", ""))
            if tally == item.tally and level:
                item.level, item.environment = level, environment
                item.origin = item.origin or origin
            else:
                stale.append(item)
        with ThreadPoolExecutor(max_workers=EVENT_READERS) as pool:
            for item, event in zip(
                stale,
                pool.map(self._latest_event, [item.external_id for item in stale]),
                strict=True,
            ):
                data = (event or {}).get("data") or {}
                item.level = _text(data.get("level"), 20) or "error"  # the protocol's default
                item.environment = _text(data.get("environment"), 100)
                # Outside a web request there is no transaction: the frame that raised is the
                # culprit, as Bugsink and Sentry show it.
                item.origin = item.origin or culprit_of(data)

    def _of_the_environment(self, item):
        """Whether the item belongs to the source's environment. A project is one environment by
        Bugsink's convention, but nothing stops an SDK of staging from using its DSN: an issue
        whose latest event says another environment is left out (an event that names none is
        kept: it says nothing against it)."""
        wanted = self.source.environment
        if not wanted or not item.environment or item.environment == wanted:
            return True
        self.skipped += 1
        logger.info(
            "bugsink_issue_of_another_environment",
            source=self.source.name,
            issue_id=item.external_id[:50],
            environment=item.environment,
            wanted=wanted,
        )
        return False

    def _latest_event(self, external_id):
        """The issue's latest event with its `data`, or None when it has none stored (Bugsink
        evicts old events) or the issue went away meanwhile."""
        try:
            events = self._call("GET", "events/", params={"issue": external_id, "order": "desc"})
            latest = (events.get("results") or [None])[0] if isinstance(events, dict) else None
            if not isinstance(latest, dict):
                return None
            event = self._call("GET", f"events/{quote(str(latest['id']), safe='')}/")
        except SourceError as exc:
            if getattr(exc, "not_found", False):
                return None
            raise
        return event if isinstance(event, dict) else None

    def detail(self, item):
        """The issue (first and last seen, releases) and its latest event (exception, frames
        with their context, tags, breadcrumbs), cut as Sentry's panel is."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            # In this context: the caller's time budget (vigie.http.budget) holds for it too.
            latest = pool.submit(
                contextvars.copy_context().run, self._latest_event, item.external_id
            )
            issue = self._issue(item.external_id)
            event = latest.result() or {}
        if not isinstance(issue, dict):
            raise SourceError("Bugsink's issue is not an object")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        shaped = as_sentry_event(data)
        releases = [str(r) for r in issue.get("events_at") or [] if r]
        return {
            "exception": sentry.event_exception(shaped),
            "frames": sentry.detail_frames(shaped),
            "tags": dict(list(sentry.event_tags(shaped).items())[:DETAIL_TAGS]),
            "breadcrumbs": sentry.event_breadcrumbs(shaped),
            "first_release": _text(releases[0] if releases else "", 200),
            "last_release": _text(data.get("release") or (releases[-1] if releases else ""), 200),
            "first_seen": issue.get("first_seen") or "",
            "last_seen": issue.get("last_seen") or "",
            "user_count": None,  # Bugsink does not count users
            "assignee": "",
            "event_id": _text(event.get("event_id"), 64),
            "stats": {},
        }

    def reconcile(self, external_ids):
        """One detail request per issue (the list has no id filter); an issue deleted in
        Bugsink since is reported "gone" and kept locally."""
        statuses = {}
        for external_id in external_ids:
            try:
                statuses[str(external_id)] = status_of(self._issue(external_id))
            except SourceError as exc:
                if not getattr(exc, "not_found", False):
                    raise
                statuses[str(external_id)] = "gone"
        return statuses

    def _issue(self, external_id):
        return self._call("GET", self._issue_path(external_id))

    # Write side ---------------------------------------------------------------------------

    def set_status(self, item, status, details=None):
        path = self._issue_path(item.external_id)
        before = self._issue(item.external_id)
        current = status_of(before)
        details = dict(details or {})
        body = self._mute_until(item, details) if status == "ignored" else None
        # Each verb starts from one state (Bugsink answers 400 otherwise): leave the current
        # one first, and write nothing when a retry finds the first attempt applied.
        applied = current == status and (status != "ignored" or mute_condition(before) == body)
        if not applied:
            if current == "resolved":
                self._call("POST", path + "reopen/")
            elif current == "ignored":
                self._call("POST", path + "unmute/")
            if status == "resolved":
                self._call("POST", path + "resolve/")
            elif status == "ignored":
                self._call("POST", path + "mute-until/", json=body)
        issue = self._issue(item.external_id)
        confirmed = {}
        if status_of(issue) == "ignored":
            # Bugsink holds the threshold with the events already counted: what was asked is
            # what it holds, worded as asked (N more in the window).
            confirmed = details if mute_condition(issue) == body else mute_details(issue)
        return UpstreamState(
            status=status_of(issue),
            details=confirmed,
            raw={
                key: issue.get(key)
                for key in (
                    "id",
                    "friendly_id",
                    "is_resolved",
                    "is_muted",
                    "unmute_on_volume_based_conditions",
                    "last_seen",
                )
            },
        )

    def _mute_until(self, item, details):
        """statusDetails as mute-until's body. Bugsink's threshold counts every event in its
        rolling window, those before the mute too; Sentry's and the vigie's, the events after
        it: Attendu's N is given on top of the issue's events already in the window."""
        count = int(details.get("ignoreCount") or 1)
        window = details.get("ignoreWindow")
        if window is None:
            return {**NEXT_OCCURRENCE, "gte_threshold": count}
        already = self._events_in_window(item.external_id, int(window))
        return {
            "period_name": "minute",
            "nr_of_periods": int(window),
            "gte_threshold": count + already,
        }

    def _events_in_window(self, external_id, minutes):
        """The issue's events digested in the last `minutes`, from Bugsink's hourly counts
        (evicted events included, as its threshold counts them): from the hour the window
        starts in, so up to an hour's events before it are counted too (never fewer than the
        window holds), and at most Bugsink's 90 days of counts."""
        now = timezone.now().astimezone(UTC)
        hour = now.replace(minute=0, second=0, microsecond=0)
        start = max(
            (now - timedelta(minutes=minutes)).replace(minute=0, second=0, microsecond=0),
            hour - COUNTS_KEPT + timedelta(hours=1),
        )
        counts = self._call(
            "GET",
            self._issue_path(external_id) + "event-counts/",
            params={"start": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        buckets = counts.get("buckets") if isinstance(counts, dict) else None
        if not isinstance(buckets, list):
            raise SourceError("Bugsink's event counts are not a list")
        return sum(int(b.get("count") or 0) for b in buckets if isinstance(b, dict))

    def comment(self, item, text, *, retrying=False):
        """Post `text` once. The issue's history is read first whether `retrying` or not: it is
        one cheap request, and Bugsink keeps no idempotency key."""
        for turn in self._history(item):
            if turn.get("kind") == "manual_annotation" and turn.get("comment") == text:
                return turn
        posted = self._call(
            "POST", "issue-comments/", json={"issue": item.external_id, "comment": text}
        )
        if not any(turn.get("id") == posted.get("id") for turn in self._history(item)):
            raise SourceError("Bugsink did not keep the comment")
        return posted

    def _history(self, item):
        page = self._call("GET", "issue-history/", params={"issue": item.external_id})
        return page.get("results") or [] if isinstance(page, dict) else []

    def bug_report(self, item):
        event = self._latest_event(item.external_id) or {}
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        shaped = as_sentry_event(data)
        return {
            "release": str(data.get("release") or ""),
            "tags": sentry.event_tags(shaped),
            "frames": sentry.top_frames(shaped),
            "event_id": event.get("event_id", ""),
            "message": str(data.get("message") or ""),
        }


def culprit_of(data):
    """ "module in function" of the innermost application frame of the event's last exception
    (its innermost frame when none is the application's), as Sentry names a culprit."""
    values = _values(data.get("exception"))
    stacktrace = values[-1].get("stacktrace") if values else None
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    frames = [f for f in frames if isinstance(f, dict)] if isinstance(frames, list) else []
    in_app = [frame for frame in frames if frame.get("in_app")]
    for frame in reversed(in_app or frames):
        where = frame.get("module") or frame.get("filename") or frame.get("abs_path")
        function = frame.get("function")
        if where or function:
            return _text(" in ".join(str(part) for part in (where, function) if part), 200)
    return ""


def _text(value, limit):
    return "" if value is None else str(value)[:limit]


def _pairs(value):
    """The SDK sends tags as a mapping or as [key, value] pairs."""
    if isinstance(value, dict):
        return value.items()
    return [pair for pair in value or [] if isinstance(pair, list | tuple) and len(pair) == 2]


def _values(value):
    """The SDK sends `exception` and `breadcrumbs` as {"values": [...]} or as the bare list."""
    values = value.get("values") if isinstance(value, dict) else value
    return [v for v in values or [] if isinstance(v, dict)] if isinstance(values, list) else []


def _sentry_frame(frame):
    lineno = frame.get("lineno") if isinstance(frame.get("lineno"), int) else None
    before = [line for line in frame.get("pre_context") or [] if isinstance(line, str)]
    after = [line for line in frame.get("post_context") or [] if isinstance(line, str)]
    context = []
    if lineno is not None and isinstance(frame.get("context_line"), str):
        lines = [*before, frame["context_line"], *after]
        context = [[lineno - len(before) + i, line] for i, line in enumerate(lines)]
    return {
        "filename": frame.get("filename") or frame.get("abs_path"),
        "module": frame.get("module"),
        "function": frame.get("function"),
        "lineNo": lineno,
        "inApp": bool(frame.get("in_app")),
        "context": context,
    }


def as_sentry_event(data):
    """An event as the Sentry SDK sent it (what Bugsink answers in `data`) in the shape of
    Sentry's web API events, which sentry.py's readers of exceptions, frames, tags and
    breadcrumbs take. The tags are the SDK's plus the event's environment, release, transaction
    and server, the ones Bugsink itself shows as tags."""
    exceptions = []
    for value in _values(data.get("exception")):
        frames = (value.get("stacktrace") or {}).get("frames") or []
        stacktrace = {"frames": [_sentry_frame(f) for f in frames if isinstance(f, dict)]}
        exceptions.append(
            {"type": value.get("type"), "value": value.get("value"), "stacktrace": stacktrace}
        )
    tags = {
        key: data[key]
        for key in ("environment", "release", "transaction", "server_name")
        if data.get(key)
    }
    tags.update({str(key): value for key, value in _pairs(data.get("tags"))})
    return {
        "eventID": data.get("event_id") or "",
        "message": data.get("message") or "",
        "entries": [
            {"type": "exception", "data": {"values": exceptions}},
            {"type": "breadcrumbs", "data": {"values": _values(data.get("breadcrumbs"))}},
        ],
        "tags": [{"key": key, "value": value} for key, value in tags.items()],
    }
